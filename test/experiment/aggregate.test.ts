// Aggregation on synthetic measurements (images/s from benchmark.js's statistics, medians across passes,
// speed-ups over batch size 1, the best marks), the accuracy check, the composition's stop and failure paths
// with a substituted measurer, and the benchmark.js driver itself (closures survive; failures reject).
import test from 'ava';
import { runExperiment, type Measurer } from '../../pipelines/experiment.js';
import {
  accuracyMismatchMessage,
  aggregate,
  findAccuracyMismatch,
  median,
  speedupBaseline,
  summariseMeasurement,
} from '../../src/experiment/aggregate.js';
import { runDeferredBenchmark } from '../../src/experiment/benchmark-runner.js';
import { MeasurementInterrupted } from '../../src/experiment/child-runner.js';
import { expandGrid } from '../../src/experiment/grid.js';
import type { Configuration, Measurement, PassSummary } from '../../src/experiment/types.js';

const latency = (p50: number, p99: number) => ({
  count: 10,
  min: p50 / 2,
  mean: p50,
  p50,
  p90: (p50 + p99) / 2,
  p99,
  max: p99 * 1.1,
});

function pass(over: Partial<PassSummary> = {}): PassSummary {
  return {
    status: 'complete',
    rows: 1000,
    labeled: 1000,
    correct: 980,
    accuracy: 0.98,
    batches: 10,
    durationMs: 100,
    imagesPerSecond: 10_000,
    timeToFirstResultMs: 5,
    batchLatencyMs: latency(10, 20),
    computeLatencyMs: latency(8, 12),
    perImageLatencyMs: 0.1,
    peakRssBytes: 100 * 2 ** 20,
    kernel: null,
    ...over,
  };
}

let nextId = 1;
function config(over: Partial<Configuration> = {}): Configuration {
  return {
    id: nextId++,
    pool: 'warm',
    batchSize: 1,
    threads: 1,
    maxInFlight: 2,
    maxInFlightSpec: '2x',
    probe: false,
    ...over,
  };
}

/** A measurement whose benchmark.js samples are `seconds` (one pass each) and passes are `passes`. */
function measurement(c: Configuration, seconds: number[], passes?: PassSummary[]): Measurement {
  const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
  return {
    config: c,
    benchmark: {
      mean,
      deviation: 0.01,
      sem: 0.005,
      moe: 0.01,
      rme: 5,
      sample: seconds,
      count: 1,
      cycles: 1,
      elapsed: 1,
    },
    passes: passes ?? seconds.map(() => pass()),
    warmup: pass({ rows: 500 }),
    baselineRssBytes: 50 * 2 ** 20,
    peakRssBytes: 120 * 2 ** 20,
    wallTimeMs: 2000,
  };
}

test('median', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
});

test(
  'one row: images/s from benchmark.js (rows / mean seconds, ± rme), latency medians across passes, RSS of the ' +
    'child',
  (t) => {
    const m = measurement(
      config(),
      [0.125, 0.25, 0.375],
      [
        pass({ batchLatencyMs: latency(10, 30), perImageLatencyMs: 0.1, timeToFirstResultMs: 4 }),
        pass({ batchLatencyMs: latency(12, 50), perImageLatencyMs: 0.3, timeToFirstResultMs: 9 }),
        pass({ batchLatencyMs: latency(11, 20), perImageLatencyMs: 0.2, timeToFirstResultMs: 5 }),
      ],
    );
    const row = summariseMeasurement(m);
    t.is(row.samples, 3);
    t.is(row.passes, 3);
    t.is(row.rows, 1000);
    t.is(row.accuracy, 0.98);
    t.is(row.imagesPerSecond.mean, 4000);
    t.is(row.imagesPerSecond.rme, 5);
    t.is(row.imagesPerSecond.moe, 200);
    t.is(row.imagesPerSecond.median, 4000);
    t.deepEqual(row.passSeconds, { mean: 0.25, median: 0.25, min: 0.125, max: 0.375 });
    t.deepEqual(row.batchLatencyMs, { p50: 11, p90: 20, p99: 30 });
    t.is(row.perImageLatencyMs, 0.2);
    t.is(row.timeToFirstResultMs, 5);
    t.is(row.peakRssBytes, 120 * 2 ** 20);
    t.is(row.baselineRssBytes, 50 * 2 ** 20);
    // One sample is not a distribution: no margin of error rather than benchmark.js's ±0%.
    const single = summariseMeasurement(measurement(config(), [0.5]));
    t.is(single.imagesPerSecond.rme, null);
    t.is(single.imagesPerSecond.moe, null);
    t.is(single.imagesPerSecond.mean, 2000);
  },
);

test(
  'speed-ups over batch size 1 at the same pool, threads and in-flight; best marks per pool mode; probes stand ' +
    'apart',
  (t) => {
    const c = (batchSize: number, threads: number, pool: 'warm' | 'fresh' = 'warm', probe = false) =>
      config({ batchSize, threads, maxInFlight: 2 * threads, pool, probe });
    const ms = [
      measurement(c(1, 1), [1.0]), // 1000 images/s
      measurement(c(10, 1), [0.5]), // 2000
      measurement(c(100, 1), [0.25], [pass({ batchLatencyMs: latency(30, 90) })]), // 4000
      measurement(c(1, 2), [0.8], [pass({ batchLatencyMs: latency(1, 5) })]), // 1250
      measurement(c(100, 2), [0.2], [pass({ batchLatencyMs: latency(40, 120) })]), // 5000: best warm throughput
      // a probe: faster, lower p99, never "best"
      measurement(c(100, 2, 'fresh', true), [0.1], [pass({ batchLatencyMs: latency(0.5, 1) })]),
      measurement(c(1, 1, 'fresh'), [2], [pass({ batchLatencyMs: latency(2, 4) })]),
      measurement(c(10, 1, 'fresh'), [1], [pass({ batchLatencyMs: latency(20, 40) })]),
    ];
    const rows = aggregate(ms);
    t.deepEqual(
      rows.map((r) => r.speedup),
      [1, 2, 4, 1, 5000 / 1250, null, 1, 2],
    );
    t.deepEqual(
      rows.map((r) => r.speedupBaseline),
      [1, 1, 1, 1, 1, null, 1, 1],
    );
    t.deepEqual(
      rows.map((r) => r.bestThroughput),
      [false, false, false, false, true, false, false, true],
    );
    t.deepEqual(
      rows.map((r) => r.bestP99),
      [false, false, false, true, false, false, true, false],
    );
    // Issue 17: without batch size 1 in the grid, the smallest batch size measured is the baseline.
    const from10 = aggregate([
      measurement(c(10, 1), [1]),
      measurement(c(100, 1), [0.5]),
      measurement(c(100, 2), [0.25]),
      measurement(c(100, 1, 'fresh', true), [0.1]),
    ]);
    t.deepEqual(
      from10.map((r) => r.speedup),
      [1, 2, null, null],
      'no batch-10 row at 2 threads; probes stand apart',
    );
    t.deepEqual(
      from10.map((r) => r.speedupBaseline),
      [10, 10, null, null],
    );
    t.is(speedupBaseline(from10.map((r) => r.config)), 10);
    t.is(speedupBaseline([c(100, 1, 'fresh', true)]), null, 'probes only: no baseline');
  },
);

test('the accuracy check: identical everywhere passes; any difference names both configurations and passes', (t) => {
  const a = config({ batchSize: 1, threads: 1 });
  const b = config({ batchSize: 100, threads: 2, maxInFlight: 4 });
  t.is(findAccuracyMismatch([measurement(a, [1, 1]), measurement(b, [1, 1])]), null);
  t.is(findAccuracyMismatch([]), null);

  const mismatch = findAccuracyMismatch([
    measurement(a, [1, 1]),
    measurement(b, [1, 1], [pass(), pass({ correct: 979, accuracy: 0.979 })]),
  ]);
  t.truthy(mismatch);
  t.is(mismatch!.first.config, a);
  t.is(mismatch!.second.config, b);
  t.is(mismatch!.second.pass, 2);
  t.is(
    accuracyMismatchMessage(mismatch!),
    `accuracy differs between configurations: #${a.id} (warm pool, batch 1, 1 thread, 2 in flight, pass 1) scored ` +
      `accuracy 0.98, 980/1000 labeled rows correct of 1000 rows, ` +
      `but #${b.id} (warm pool, batch 100, 2 threads, 4 in flight, pass 2) scored accuracy 0.979, 979/1000 labeled ` +
      `rows correct of 1000 rows. ` +
      'The predictions must not depend on batch size, threads or the pool: this is a bug in the pipeline, and the ' +
      'experiment stops here.',
  );
  // Within one configuration too, and a different row count counts as a difference.
  t.truthy(findAccuracyMismatch([measurement(a, [1, 1], [pass(), pass({ rows: 999 })])]));
  // Unlabeled inputs: null accuracies agree with each other.
  const unlabeled = pass({ labeled: 0, correct: 0, accuracy: null });
  t.is(findAccuracyMismatch([measurement(a, [1], [unlabeled]), measurement(b, [1], [unlabeled])]), null);
});

function fakeMeasurer(accuracyOf: (c: Configuration) => number): Measurer {
  return async (request, options) => {
    options.onPass?.(1, 10);
    const accuracy = accuracyOf(request.config);
    return measurement(request.config, [0.1], [pass({ accuracy, correct: Math.round(accuracy * 1000) })]);
  };
}

const plan = (configurations: Configuration[]) => ({
  configurations,
  input: '/in.csv',
  model: '/m.safetensors',
  minSamples: 1,
  maxTimeS: 0.1,
});

test('runExperiment: every configuration measured in order, progress reported, checkpoints after each', async (t) => {
  const configurations = expandGrid({
    batchSizes: [1, 10],
    threads: [1, 2],
    maxInFlight: [{ kind: 'perThread', factor: 2, text: '2x' }],
    pool: 'warm',
    freshProbe: 'auto',
  });
  const progress: string[] = [];
  const checkpoints: number[] = [];
  const outcome = await runExperiment(plan(configurations), {
    measure: fakeMeasurer(() => 0.98),
    onProgress: (p) => progress.push(`${p.config.id}:${p.passes}/${p.total - p.index}`),
    onMeasured: (all) => void checkpoints.push(all.length),
  });
  t.is(outcome.status, 'complete');
  t.is(outcome.error, null);
  t.deepEqual(
    outcome.measurements.map((m) => m.config.id),
    [1, 2, 3, 4, 5, 6],
  );
  t.deepEqual(outcome.notMeasured, []);
  t.deepEqual(progress, [
    '1:0/6',
    '1:1/6',
    '2:0/5',
    '2:1/5',
    '3:0/4',
    '3:1/4',
    '4:0/3',
    '4:1/3',
    '5:0/2',
    '5:1/2',
    '6:0/1',
    '6:1/1',
  ]);
  t.deepEqual(checkpoints, [1, 2, 3, 4, 5, 6]);
  t.is(outcome.machine.loadAverageStart.length, 3);
  t.is(outcome.machine.loadAverageEnd?.length, 3);
});

test('runExperiment: an accuracy difference fails the experiment at once (exit 1) and keeps what was measured', async (t) => {
  const configurations = expandGrid({
    batchSizes: [1, 10, 100],
    threads: [1],
    maxInFlight: [{ kind: 'fixed', value: 2, text: '2' }],
    pool: 'warm',
    freshProbe: 'none',
  });
  const outcome = await runExperiment(plan(configurations), {
    measure: fakeMeasurer((c) => (c.batchSize === 10 ? 0.97 : 0.98)),
  });
  t.is(outcome.status, 'failed');
  t.is(outcome.error?.code, 'PIPE_ERR_ACCURACY_MISMATCH');
  t.is(outcome.error?.exitCode, 1);
  t.regex(
    outcome.error!.message,
    /#1 \(warm pool, batch 1, 1 thread, 2 in flight, pass 1\) scored accuracy 0\.98.*but #2 \(warm pool, batch 10, 1 thread, 2 in flight, pass 1\) scored accuracy 0\.97/,
  );
  t.deepEqual(
    outcome.measurements.map((m) => m.config.id),
    [1, 2],
  );
  t.deepEqual(
    outcome.notMeasured.map((c) => c.id),
    [3],
  );
});

test('runExperiment: a stop drops the configuration being measured and leaves the rest unmeasured', async (t) => {
  const configurations = expandGrid({
    batchSizes: [1, 10, 100, 1000],
    threads: [1],
    maxInFlight: [{ kind: 'fixed', value: 2, text: '2' }],
    pool: 'fresh',
    freshProbe: 'auto',
  });
  const controller = new AbortController();
  const measure: Measurer = async (request, options) => {
    if (request.config.id === 3) {
      controller.abort();
      t.true(options.signal?.aborted);
      throw new MeasurementInterrupted('stopped');
    }
    return measurement(request.config, [0.1]);
  };
  const outcome = await runExperiment(plan(configurations), { measure, signal: controller.signal });
  t.is(outcome.status, 'interrupted');
  t.is(outcome.error, null);
  t.deepEqual(
    outcome.measurements.map((m) => m.config.id),
    [1, 2],
  );
  t.deepEqual(
    outcome.notMeasured.map((c) => c.id),
    [3, 4],
  );
});

test('runExperiment: a failing configuration (e.g. a bad row) fails the experiment with its error and exit code', async (t) => {
  const configurations = expandGrid({
    batchSizes: [1, 10],
    threads: [1],
    maxInFlight: [{ kind: 'fixed', value: 2, text: '2' }],
    pool: 'warm',
    freshProbe: 'none',
  });
  const { PipelineError } = await import('../../src/errors.js');
  const measure: Measurer = async (request) => {
    if (request.config.batchSize === 10) throw new PipelineError('PIPE_ERR_DATA', 'in.csv:7: 783 values, expected 785');
    return measurement(request.config, [0.1]);
  };
  const outcome = await runExperiment(plan(configurations), { measure });
  t.is(outcome.status, 'failed');
  t.deepEqual(outcome.error, { code: 'PIPE_ERR_DATA', message: 'in.csv:7: 783 values, expected 785', exitCode: 1 });
  t.deepEqual(
    outcome.notMeasured.map((c) => c.id),
    [2],
  );
});

test('benchmark.js driver: a deferred benchmark keeps its closure, awaits each operation, one operation per sample', async (t) => {
  let calls = 0;
  const seen: number[] = [];
  const result = await runDeferredBenchmark({
    name: 'sleep 20 ms',
    // A closure over `calls` and an imported helper: benchmark.js must not rebuild this function from source.
    operation: async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return median([calls, calls]);
    },
    minSamples: 3,
    maxTimeS: 0.05,
    onOperation: (_value, n) => seen.push(n),
  });
  t.true(result.stats.sample.length >= 3);
  t.is(result.stats.count, 1, 'every sample is exactly one operation');
  t.is(result.results.length, calls);
  t.is(result.results.length, result.stats.sample.length);
  t.deepEqual(result.results, seen);
  // Awaited: each sample took the 20 ms, not the synchronous start only.
  for (const seconds of result.stats.sample) t.true(seconds >= 0.018, `${seconds} s`);
  t.true(result.stats.mean >= 0.018 && result.stats.mean < 1);
  t.true(result.stats.rme >= 0);
  t.regex(result.summary, /^sleep 20 ms x [\d.]+ ops\/sec ±[\d.]+% \(\d+ runs sampled\)$/);
});

test('benchmark.js driver: a failing operation rejects with its error and nothing else runs', async (t) => {
  let calls = 0;
  const error = await t.throwsAsync(
    runDeferredBenchmark({
      name: 'fails on the second call',
      operation: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (calls === 2) throw new Error('boom');
        return calls;
      },
      minSamples: 5,
      maxTimeS: 0.1,
    }),
  );
  t.is(error?.message, 'boom');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(calls, 2);
});
