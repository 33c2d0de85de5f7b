// Synthetic scored batches for the HTML-report tests: deterministic, cheap to make in the millions (a few
// pixel buffers are reused), with a chosen error rate.
import type { Batch, RowError } from '../../src/data/types.js';
import { RunPageCollector } from '../../src/html/run-collector.js';
import { buildReport, type PipelineReport, type RunStatus } from '../../src/stats/report.js';
import { RunStats } from '../../src/stats/run-stats.js';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Normalization } from '../../src/data/normalize.js';

export interface SyntheticBatch {
  batch: Batch;
  scored: { predicted: Int32Array; confidence: Float32Array; latencyMs: number; computeMs: number };
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row `r` of pool buffer `b` has the bytes `pixelByte(b, r, i)`: recoverable by tests. */
export const pixelByte = (buffer: number, row: number, i: number): number => (buffer * 31 + row * 7 + i * 13) % 256;

export interface SyntheticOptions {
  rows: number;
  batchSize: number;
  classes?: number;
  features?: number;
  /** Share of labeled rows predicted wrong. */
  errorRate?: number;
  labeled?: boolean;
  normalize?: Normalization;
  seed?: number;
}

/** Yields batches with lines 1..rows in order; `x` cycles through 4 prepared buffers (pixelByte above). */
export function* syntheticBatches(options: SyntheticOptions): Generator<SyntheticBatch> {
  const classes = options.classes ?? 10;
  const features = options.features ?? 784;
  const errorRate = options.errorRate ?? 0.1;
  const labeled = options.labeled ?? true;
  const next = random(options.seed ?? 7);
  const table = normalizationTable(options.normalize ?? 'unit');
  const pool = Array.from({ length: 4 }, (_, b) => {
    const x = new Float32Array(options.batchSize * features);
    for (let r = 0; r < options.batchSize; r++)
      for (let i = 0; i < features; i++) x[r * features + i] = table[pixelByte(b, r, i)];
    return x;
  });
  let line = 1;
  for (let index = 0; line <= options.rows; index++) {
    const rows = Math.min(options.batchSize, options.rows - line + 1);
    const labels = new Int16Array(rows);
    const lines = new Uint32Array(rows);
    const predicted = new Int32Array(rows);
    const confidence = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const label = Math.floor(next() * classes);
      labels[r] = labeled ? label : -1;
      lines[r] = line++;
      const wrong = next() < errorRate;
      predicted[r] = wrong ? (label + 1 + Math.floor(next() * (classes - 1))) % classes : label;
      confidence[r] = 0.1 + 0.9 * next();
    }
    const batch: Batch = { index, rows, features, x: pool[index % pool.length], labels, lines };
    yield { batch, scored: { predicted, confidence, latencyMs: 1 + next() * 20, computeMs: 0.5 + next() * 5 } };
  }
}

/** A whole simulated run: RunStats and the page collector fed the same synthetic batches, and its report. */
export function simulateRun(
  options: SyntheticOptions & {
    status?: RunStatus;
    error?: { code: string; message: string } | null;
    inputPath?: string;
    rowErrors?: RowError[];
  },
): { report: PipelineReport; collector: RunPageCollector } {
  let now = 0;
  const clock = () => now;
  const classes = options.classes ?? 10;
  const features = options.features ?? 784;
  const stats = new RunStats({ classes, now: clock });
  const collector = new RunPageCollector({ classes, features, normalize: options.normalize ?? 'unit', now: clock });
  stats.start();
  for (const error of options.rowErrors ?? []) stats.recordRowError(error);
  for (const { batch, scored } of syntheticBatches(options)) {
    now += scored.latencyMs / 4; // two threads, a little queueing: the clock moves on
    collector.onBatch(batch, scored);
    stats.recordBatch({
      rows: batch.rows,
      labels: batch.labels,
      predicted: scored.predicted,
      confidence: scored.confidence,
      latencyMs: scored.latencyMs,
      computeMs: scored.computeMs,
    });
  }
  stats.finish();
  const sizes = [features, 16, classes];
  const report = buildReport(stats, {
    status: options.status ?? 'complete',
    error: options.error ?? null,
    model: {
      path: '/models/tiny.safetensors',
      format: 'safetensors',
      sha256: 'ab'.repeat(32),
      layerSizes: sizes,
      activation: 'sigmoid',
      output: 'softmax',
      kernel: 'wasm',
    },
    input: {
      path: options.inputPath ?? '/data/input.csv',
      bytes: options.rows * 1800,
      hasHeader: false,
      labeled: options.labeled ?? true,
      parser: 'csv-parse',
    },
    config: { batchSize: options.batchSize, threads: 2, normalize: options.normalize ?? 'unit' },
    startedAt: new Date('2026-01-02T03:04:05Z'),
    finishedAt: new Date('2026-01-02T03:04:06Z'),
  });
  return { report, collector };
}
