// benchmark.js (2.1.4) as the measuring engine for one asynchronous operation: a deferred benchmark whose
// `fn` starts the operation and resolves the deferred when it settles.
//
// The traps (../shared/notes/library-notes.md §5) and how this module avoids them:
// - No `setup` / `teardown`, and `fn` is a function, never a string: with either, benchmark.js rebuilds
//   `fn` from its source text with `Function(...)`, which loses this module's closure (and, in compiled
//   ES modules, every import).
// - `defer: true`: benchmark.js does not await a returned promise; without `defer` it would time only the
//   synchronous start of the operation.
// - Deferred benchmarks have a per-call overhead (about a millisecond): negligible against operations of
//   tens of milliseconds or more, which is what this is for. `minTime` is lowered so that any operation of
//   at least MIN_TIME_S is timed one call per sample, making every sample exactly one operation.
import Benchmark from 'benchmark';
import type { BenchmarkStats } from './types.js';

/** Operations at least this long are timed one per sample (benchmark.js's own default is 50 ms). */
export const MIN_TIME_S = 0.005;

export interface DeferredBenchmarkOptions<T> {
  name: string;
  /** One operation; its result is kept (in call order) for the caller. */
  operation: () => Promise<T>;
  /** benchmark.js minSamples. */
  minSamples: number;
  /** benchmark.js maxTime, seconds: sampling goes on until this much time has passed (and minSamples). */
  maxTimeS: number;
  /** Called after every operation (for progress). */
  onOperation?: (result: T, calls: number) => void;
}

export interface DeferredBenchmarkResult<T> {
  stats: BenchmarkStats;
  /** Every operation's result, in call order (samples x count, plus calibration calls if any). */
  results: T[];
  /** benchmark.js's one-line summary: "name x 3.21 ops/sec ±2.10% (5 runs sampled)". */
  summary: string;
}

/**
 * Runs one deferred benchmark. Rejects with the operation's error as soon as an operation fails (the
 * benchmark is aborted, so nothing else runs).
 */
export function runDeferredBenchmark<T>(options: DeferredBenchmarkOptions<T>): Promise<DeferredBenchmarkResult<T>> {
  return new Promise((resolve, reject) => {
    const results: T[] = [];
    let failure: { error: unknown } | null = null;
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      action();
    };
    const bench: Benchmark = new Benchmark(options.name, {
      defer: true,
      minSamples: options.minSamples,
      maxTime: options.maxTimeS,
      minTime: MIN_TIME_S,
      fn(deferred: Benchmark.Deferred) {
        options.operation().then(
          (result) => {
            results.push(result);
            options.onOperation?.(result, results.length);
            deferred.resolve();
          },
          (error: unknown) => {
            // Not resolving the deferred ends the cycle loop; abort() lets benchmark.js know.
            failure = { error };
            settle(() => reject(error));
            bench.abort();
          },
        );
      },
      onError(event: Benchmark.Event) {
        const error = (event.target as unknown as Benchmark).error;
        settle(() => reject(error instanceof Error ? error : new Error(String(error))));
      },
      onAbort() {
        if (!failure) settle(() => reject(new Error(`${options.name}: benchmark aborted`)));
      },
      onComplete(this: Benchmark) {
        const stats = this.stats;
        settle(() =>
          resolve({
            stats: {
              mean: stats.mean,
              deviation: stats.deviation,
              sem: stats.sem,
              moe: stats.moe,
              rme: stats.rme,
              sample: [...(stats.sample as number[])],
              count: this.count,
              cycles: this.cycles,
              elapsed: this.times.elapsed,
            },
            results,
            summary: String(this),
          }),
        );
      },
    });
    bench.run({ async: true });
  });
}
