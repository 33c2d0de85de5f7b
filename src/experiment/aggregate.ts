// From measurements to the figures people read: images/s from benchmark.js's statistics, latency from the
// pipeline reports of the measured passes (medians across passes), speed-ups over the smallest batch size
// measured (batch size 1 in the default grid), the best
// throughput and the best p99 marked; and the accuracy check (every pass of every configuration must score
// the input identically: the pipeline's results must not depend on batch size, threads or the pool).
import { describeConfiguration } from './grid.js';
import type { Configuration, Measurement, PassSummary, ResultRow } from './types.js';

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : median(present);
}

/** One configuration's row, before speed-ups and marks (which depend on the other rows). */
export function summariseMeasurement(m: Measurement): ResultRow {
  const { benchmark, passes } = m;
  const first: PassSummary | undefined = passes[0];
  const rows = first?.rows ?? 0;
  const samples = benchmark.sample.length;
  const meanIps = benchmark.mean > 0 ? rows / benchmark.mean : 0;
  // One sample is not a distribution: benchmark.js reports ±0% for it, which would read as "exact".
  const rme = samples >= 2 ? benchmark.rme : null;
  const medianSeconds = median(benchmark.sample);
  return {
    config: m.config,
    samples,
    passes: passes.length,
    rows,
    labeled: first?.labeled ?? 0,
    correct: first?.correct ?? 0,
    accuracy: first?.accuracy ?? null,
    imagesPerSecond: {
      mean: meanIps,
      moe: rme === null ? null : (meanIps * rme) / 100,
      rme,
      median: medianSeconds > 0 ? rows / medianSeconds : 0,
    },
    passSeconds: {
      mean: benchmark.mean,
      median: medianSeconds,
      min: Math.min(...benchmark.sample),
      max: Math.max(...benchmark.sample),
    },
    batchLatencyMs: {
      p50: median(passes.map((p) => p.batchLatencyMs.p50)),
      p90: median(passes.map((p) => p.batchLatencyMs.p90)),
      p99: median(passes.map((p) => p.batchLatencyMs.p99)),
    },
    computeLatencyP50Ms: median(passes.map((p) => p.computeLatencyMs.p50)),
    perImageLatencyMs: medianOrNull(passes.map((p) => p.perImageLatencyMs)),
    timeToFirstResultMs: medianOrNull(passes.map((p) => p.timeToFirstResultMs)),
    peakRssBytes: m.peakRssBytes,
    baselineRssBytes: m.baselineRssBytes,
    speedup: null,
    speedupBaseline: null,
    bestThroughput: false,
    bestP99: false,
  };
}

/** The batch size speed-ups are measured against: the smallest among the grid's rows (probes aside), or null. */
export function speedupBaseline(configs: Configuration[]): number | null {
  const sizes = configs.filter((c) => !c.probe).map((c) => c.batchSize);
  return sizes.length === 0 ? null : Math.min(...sizes);
}

/** Rows that are compared with each other: the same pool mode, grid rows only (fresh probes stand apart). */
const groupOf = (c: Configuration) => (c.probe ? `probe:${c.pool}` : c.pool);

/**
 * Every measured configuration's row, in measuring order, with the speed-up over the smallest batch size
 * measured in the grid (same pool mode, threads and max-in-flight; batch size 1 when the grid has it) and, within each
 * pool mode's grid, the best throughput (highest mean
 * images/s) and the best p99 batch latency (lowest) marked. Fresh-pool probes get neither.
 */
export function aggregate(measurements: Measurement[]): ResultRow[] {
  const rows = measurements.map(summariseMeasurement);
  const baselineBatch = speedupBaseline(rows.map((r) => r.config));
  for (const row of rows) {
    const c = row.config;
    const baseline = rows.find(
      (r) =>
        !r.config.probe &&
        !c.probe &&
        r.config.pool === c.pool &&
        r.config.threads === c.threads &&
        r.config.maxInFlight === c.maxInFlight &&
        r.config.batchSize === baselineBatch,
    );
    if (baseline && baseline.imagesPerSecond.mean > 0) {
      row.speedup = row.imagesPerSecond.mean / baseline.imagesPerSecond.mean;
      row.speedupBaseline = baselineBatch;
    }
  }
  const groups = new Map<string, ResultRow[]>();
  for (const row of rows) {
    if (row.config.probe) continue;
    const key = groupOf(row.config);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const fastest = group.reduce((best, r) => (r.imagesPerSecond.mean > best.imagesPerSecond.mean ? r : best));
    const steadiest = group.reduce((best, r) => (r.batchLatencyMs.p99 < best.batchLatencyMs.p99 ? r : best));
    fastest.bestThroughput = true;
    steadiest.bestP99 = true;
  }
  return rows;
}

export interface ScoredBy {
  config: Configuration;
  accuracy: number | null;
  correct: number;
  labeled: number;
  rows: number;
  /** Which pass of the configuration (1-based). */
  pass: number;
}

export interface AccuracyMismatch {
  first: ScoredBy;
  second: ScoredBy;
}

const sameScore = (a: ScoredBy, b: ScoredBy) =>
  a.accuracy === b.accuracy && a.correct === b.correct && a.labeled === b.labeled && a.rows === b.rows;

/**
 * The first pair of passes that scored the input differently (accuracy, correct, labeled or rows), comparing
 * every pass with the first pass of the first configuration; null when all agree.
 */
export function findAccuracyMismatch(measurements: Measurement[]): AccuracyMismatch | null {
  let reference: ScoredBy | null = null;
  for (const m of measurements) {
    for (const [i, p] of m.passes.entries()) {
      const scored: ScoredBy = {
        config: m.config,
        accuracy: p.accuracy,
        correct: p.correct,
        labeled: p.labeled,
        rows: p.rows,
        pass: i + 1,
      };
      if (!reference) reference = scored;
      else if (!sameScore(reference, scored)) return { first: reference, second: scored };
    }
  }
  return null;
}

function scoreText(s: ScoredBy): string {
  const accuracy = s.accuracy === null ? 'no accuracy (no labels)' : `accuracy ${s.accuracy}`;
  return (
    `#${s.config.id} (${describeConfiguration(s.config)}, pass ${s.pass}) scored ${accuracy}, ${s.correct}` +
    `/${s.labeled}` +
    ` labeled rows correct of ${s.rows} rows`
  );
}

export function accuracyMismatchMessage(mismatch: AccuracyMismatch): string {
  return (
    `accuracy differs between configurations: ${scoreText(mismatch.first)}, but ${scoreText(mismatch.second)}. ` +
    'The predictions must not depend on batch size, threads or the pool: this is a bug in the pipeline, and the ' +
    'experiment stops here.'
  );
}
