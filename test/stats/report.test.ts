// buildReport: the contract's field names, unlabeled input, failed runs, JSON round trip.
import test from 'ava';
import { buildReport, type ReportContext } from '../../src/stats/report.js';
import { RunStats } from '../../src/stats/run-stats.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const context: ReportContext = {
  status: 'complete',
  model: {
    path: 'data/models/default.safetensors',
    format: 'safetensors',
    kernel: 'wasm',
    sha256: 'ab'.repeat(32),
    layerSizes: [784, 50, 100, 10],
    activation: 'sigmoid',
    output: 'softmax',
  },
  input: { path: 'data/mnist_test.csv', bytes: 18_000_000, hasHeader: true, labeled: true, parser: 'csv-parse' },
  config: { batchSize: 4, threads: 2, maxInFlight: 4, normalize: 'unit', onError: 'skip' },
  startedAt: new Date('2025-01-02T03:04:05.000Z'),
  finishedAt: new Date('2025-01-02T03:04:06.500Z'),
};

/** Two batches of 4 rows, 6 of 8 right, one skipped row. */
function labeledRun(): RunStats {
  const c = clock();
  const stats = new RunStats({ classes: 10, now: c.now });
  stats.start();
  c.advance(200);
  stats.recordBatch({
    rows: 4,
    labels: Int16Array.from([0, 1, 2, 3]),
    predicted: Int32Array.from([0, 1, 2, 5]),
    confidence: new Float32Array(4),
    latencyMs: 10,
    computeMs: 6,
  });
  stats.recordRowError({ line: 7, message: 'expected 785 fields, got 3' });
  c.advance(100);
  stats.recordBatch({
    rows: 4,
    labels: Int16Array.from([4, 5, 6, 7]),
    predicted: Int32Array.from([4, 5, 6, 1]),
    confidence: new Float32Array(4),
    latencyMs: 30,
    computeMs: 8,
  });
  c.advance(100);
  stats.finish();
  return stats;
}

test('every contract field is present with its name', (t) => {
  const report = buildReport(labeledRun(), context);
  for (const key of [
    'status',
    'error',
    'rows',
    'labeled',
    'correct',
    'accuracy',
    'skipped',
    'errors',
    'errorsTruncated',
    'batches',
    'imagesPerSecond',
    'imagesPerSecondAfterFirstResult',
    'timeToFirstResultMs',
    'batchLatencyMs',
    'computeLatencyMs',
    'perImageLatencyMs',
    'confusionMatrix',
    'perClass',
    'peakRssBytes',
    'model',
    'input',
    'config',
    'startedAt',
    'finishedAt',
    'durationMs',
    'environment',
  ]) {
    t.true(key in report, key);
  }
  for (const key of ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'max']) {
    t.true(key in report.batchLatencyMs, `batchLatencyMs.${key}`);
    t.true(key in report.computeLatencyMs, `computeLatencyMs.${key}`);
  }
});

test('figures of a labeled run', (t) => {
  const report = buildReport(labeledRun(), context);
  t.like(report, {
    status: 'complete',
    error: null,
    rows: 8,
    labeled: 8,
    correct: 6,
    accuracy: 0.75,
    skipped: 1,
    errors: [{ line: 7, message: 'expected 785 fields, got 3' }],
    errorsTruncated: false,
    batches: 2,
    imagesPerSecond: 20, // 8 rows / 0.4 s
    imagesPerSecondAfterFirstResult: 20, // 4 rows / 0.2 s
    timeToFirstResultMs: 200,
    durationMs: 400,
    startedAt: '2025-01-02T03:04:05.000Z',
    finishedAt: '2025-01-02T03:04:06.500Z',
    config: context.config,
    model: context.model,
    input: context.input,
  });
  t.is(report.batchLatencyMs.count, 2);
  t.is(report.batchLatencyMs.max, 30);
  t.is(report.batchLatencyMs.mean, 20);
  t.is(report.perImageLatencyMs, 5); // mean batch latency 20 ms / mean batch size 4
  t.is(report.computeLatencyMs.max, 8);
  t.is(report.confusionMatrix?.length, 10);
  t.is(report.confusionMatrix?.[3][5], 1);
  t.is(report.confusionMatrix?.[7][1], 1);
  t.is(report.perClass?.length, 10);
  t.is(report.perClass?.[1].precision, 0.5);
  t.true(report.peakRssBytes > 0);
  t.is(report.environment.node, process.version);
  t.true(report.environment.cpus >= 1);
});

test('unlabeled input: accuracy, matrix and per-class are null', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  stats.recordBatch({
    rows: 3,
    labels: Int16Array.from([-1, -1, -1]),
    predicted: Int32Array.from([1, 2, 3]),
    confidence: new Float32Array(3),
    latencyMs: 1,
    computeMs: 1,
  });
  const report = buildReport(stats, { ...context, input: { ...context.input, labeled: false } });
  t.is(report.rows, 3);
  t.is(report.labeled, 0);
  t.is(report.correct, 0);
  t.is(report.accuracy, null);
  t.is(report.confusionMatrix, null);
  t.is(report.perClass, null);
});

test('a failed run before any result carries the error and empty figures', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  stats.finish();
  const report = buildReport(stats, {
    ...context,
    status: 'failed',
    error: { code: 'PIPE_ERR_WORKER', message: 'worker exited with code 1' },
  });
  t.is(report.status, 'failed');
  t.deepEqual(report.error, { code: 'PIPE_ERR_WORKER', message: 'worker exited with code 1' });
  t.is(report.rows, 0);
  t.is(report.imagesPerSecond, 0);
  t.is(report.imagesPerSecondAfterFirstResult, null);
  t.is(report.timeToFirstResultMs, null);
  t.is(report.perImageLatencyMs, null);
  t.deepEqual(report.batchLatencyMs, { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test('JSON round trip gives the same report', (t) => {
  for (const report of [
    buildReport(labeledRun(), context),
    buildReport(new RunStats({ classes: 10, now: clock().now }), { ...context, status: 'interrupted' }),
  ]) {
    t.deepEqual(JSON.parse(JSON.stringify(report)), report);
  }
});

test('the report does not share arrays with the caller or the stats', (t) => {
  const stats = labeledRun();
  const config = { batchSize: 4 };
  const report = buildReport(stats, { ...context, config });
  config.batchSize = 8;
  report.confusionMatrix![0][0] = 99;
  report.errors[0].line = 99;
  t.is(report.config.batchSize, 4);
  t.is(stats.confusion.toArray()[0][0], 1);
  t.is(stats.errors[0].line, 7);
});
