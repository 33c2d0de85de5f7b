// Measures one configuration: the real inference pipeline (runInference) over the whole input, once per
// benchmark.js sample, on a warm pool (started once, warmed by one unmeasured pass, reused by every sample)
// or a fresh pool (every pass starts and closes its own, as the `nnpipe` command does).
// Runs in the measuring child process (measure-child.ts), so that the process's peak RSS belongs to this
// configuration alone.
import { performance } from 'node:perf_hooks';
import { runInference } from './inference.js';
import { errorCodeOf, PipelineError } from '../src/errors.js';
import type { LoadedModel } from '../src/nn/types.js';
import type { Normalization } from '../src/data/normalize.js';
import { ForwardPool } from '../src/pool/forward-pool.js';
import type { PipelineReport } from '../src/stats/report.js';
import { runDeferredBenchmark } from '../src/experiment/benchmark-runner.js';
import { describeConfiguration } from '../src/experiment/grid.js';
import { WARMUP_ROWS, type Configuration, type Measurement, type PassSummary } from '../src/experiment/types.js';
import { peakRssBytes } from '../src/stats/peak-rss.js';

export interface MeasureOptions {
  config: Configuration;
  model: LoadedModel;
  normalize: Normalization;
  /** A CSV file (read in full by every pass). */
  input: string;
  minSamples: number;
  maxTimeS: number;
  /** Called after every measured pass. */
  onPass?: (pass: PassSummary, passes: number) => void;
}

export function passSummary(report: PipelineReport): PassSummary {
  return {
    status: report.status,
    rows: report.rows,
    labeled: report.labeled,
    correct: report.correct,
    accuracy: report.accuracy,
    batches: report.batches,
    durationMs: report.durationMs,
    imagesPerSecond: report.imagesPerSecond,
    timeToFirstResultMs: report.timeToFirstResultMs,
    batchLatencyMs: report.batchLatencyMs,
    computeLatencyMs: report.computeLatencyMs,
    perImageLatencyMs: report.perImageLatencyMs,
    peakRssBytes: report.peakRssBytes,
    // Read defensively: reports name the forward engine only since the kernel choice exists.
    kernel:
      (report.model as { kernel?: unknown }).kernel === undefined
        ? null
        : String((report.model as { kernel?: unknown }).kernel),
  };
}

export async function measureConfiguration(options: MeasureOptions): Promise<Measurement> {
  const started = performance.now();
  const { config, model } = options;
  const baselineRssBytes = peakRssBytes();
  const pool =
    config.pool === 'warm'
      ? new ForwardPool({
          network: model.network,
          threads: config.threads,
          batchSize: config.batchSize,
          maxInFlight: config.maxInFlight,
        })
      : undefined;
  const name = describeConfiguration(config);
  const pass = async (limit: number | null): Promise<PassSummary> => {
    const { report } = await runInference({
      input: options.input,
      model,
      batchSize: config.batchSize,
      threads: config.threads,
      maxInFlight: config.maxInFlight,
      normalize: options.normalize,
      limit,
      onError: 'fail',
      predictionsPath: null,
      config: {
        experiment: config.id,
        pool: config.pool,
        batchSize: config.batchSize,
        threads: config.threads,
        maxInFlight: config.maxInFlight,
      },
      pool,
    });
    if (report.status !== 'complete') {
      const error = report.error ?? { code: 'PIPE_ERR_UNEXPECTED', message: `the pass ended ${report.status}` };
      throw new PipelineError(errorCodeOf(error.code), `${name}: ${error.message}`);
    }
    return passSummary(report);
  };
  try {
    // Unmeasured: compiles the hot paths on the main thread and in the workers, and (warm) starts the threads.
    const warmup = await pass(Math.max(WARMUP_ROWS, 2 * config.batchSize * config.threads));
    const { stats, results } = await runDeferredBenchmark({
      name,
      operation: () => pass(null),
      minSamples: options.minSamples,
      maxTimeS: options.maxTimeS,
      onOperation: (summary, calls) => options.onPass?.(summary, calls),
    });
    return {
      config,
      benchmark: stats,
      passes: results,
      warmup,
      baselineRssBytes,
      peakRssBytes: peakRssBytes(),
      wallTimeMs: performance.now() - started,
    };
  } finally {
    await pool?.close();
  }
}
