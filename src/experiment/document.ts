// The experiment's JSON document: every number (the aggregated row and the raw benchmark.js statistics and
// per-pass pipeline figures of every configuration), the machine, the options and how it was measured.
// The table, the CSV and the HTML page are all made from this document, so they cannot disagree.
import Benchmark from 'benchmark';
import type { LoadedModel } from '../nn/types.js';
import { modelIdentity, type ModelIdentity } from '../nn/model-identity.js';
import { aggregate, speedupBaseline } from './aggregate.js';
import { MIN_TIME_S } from './benchmark-runner.js';
import type { GridSpec } from './grid.js';
import type { MachineInfo } from './machine.js';
import {
  WARMUP_ROWS,
  type BenchmarkStats,
  type Configuration,
  type ExperimentOutcome,
  type ExperimentStatus,
  type PassSummary,
  type PoolMode,
  type ResultRow,
} from './types.js';

/** How each figure was obtained: written into the JSON and shown on the page and under the table. */
export const METHOD = {
  engine:
    `benchmark.js ${Benchmark.version}` +
    `: one deferred benchmark per configuration; one sample = one whole pipeline pass (runInference over the entire ` +
    `input: read, parse, normalise, batch, score on the pool, collect); no setup/teardown (benchmark.js would rebuild ` +
    `the function from source and lose its closure); minTime ${MIN_TIME_S} s so that every sample is exactly one pass`,
  pools: {
    warm:
      `warm: one pool is started for the configuration and warmed by one unmeasured pass (at most ${WARMUP_ROWS} ` +
      `rows, or 2 batches per thread); every sample reuses it, so thread start-up is not in the figures (a long-running ` +
      `service)`,
    fresh:
      'fresh: every sample starts its own pool and closes it (what a one-shot `nnpipe` run does), so thread start-up ' +
      'and sharing the ' +
      'weights with the ' +
      'workers are in the ' +
      'figures (one ' +
      "unmeasured warm-up pass, on a pool of its own, runs first so that the main thread's code is compiled as in " +
      'warm mode)',
  } satisfies Record<PoolMode, string>,
  sampling:
    'benchmark.js stops sampling a configuration once it has minSamples samples and the samples from the ' +
    'minSamples-th on add ' +
    'up to more than ' +
    'maxTime seconds (it ' +
    'only starts counting maxTime there)',
  imagesPerSecond:
    "images/s = rows / benchmark.js mean seconds per pass; ± is benchmark.js's relative margin of error (95%, " +
    "Student's t over the samples)",
  latency:
    'batch latency (dispatch to result on the main thread: queueing, transfer and compute) p50/p90/p99 from each ' +
    "pass's pipeline " +
    'report; the median ' +
    'across passes is ' +
    'shown. Per-image ' +
    'latency = mean batch latency / rows per batch (median across passes)',
  rss:
    'peak RSS: every configuration is measured in a child process of its own, so its peak RSS (VmHWM on Linux: a ' +
    'process-lifetime ' +
    'peak, worker threads ' +
    'included, not ' +
    'inherited from the ' +
    'parent) covers that configuration only: Node, the model, its warm-up pass and its samples. Baseline RSS is the ' +
    'same figure before any pool started',
  speedup:
    'speed-up = images/s over images/s at the smallest batch size measured (1 in the default grid; the column says ' +
    'which) with the same ' +
    'pool mode, threads and max-in-flight',
  best:
    "best: the highest images/s and the lowest p99 batch latency within each pool mode's grid (fresh-pool probes " +
    'are not ranked)',
  accuracy:
    'accuracy must be identical for every pass of every configuration; a difference fails the experiment (exit 1)',
};

export interface ExperimentResult extends ResultRow {
  benchmark: BenchmarkStats;
  passDetails: PassSummary[];
  warmup: PassSummary | null;
  /** The measuring child process, start to result, ms. */
  wallTimeMs: number;
}

export interface ExperimentDocument {
  kind: 'nnpipe-experiment';
  formatVersion: 1;
  /** `running` in the checkpoints written after each configuration; the outcome at the end. */
  status: ExperimentStatus | 'running';
  /** True unless every configuration of the grid was measured. */
  partial: boolean;
  error: { code: string; message: string } | null;
  startedAt: string;
  finishedAt: string;
  wallTimeMs: number;
  machine: MachineInfo;
  options: {
    input: string;
    model: string;
    out: string;
    batchSizes: number[];
    threads: number[];
    maxInFlight: string[];
    pool: GridSpec['pool'];
    freshProbe: GridSpec['freshProbe'];
    minSamples: number;
    maxTimeS: number;
  };
  model: ModelIdentity & { normalize: string };
  input: { path: string; bytes: number | null; rows: number | null };
  method: typeof METHOD;
  summary: {
    configurations: number;
    measured: number;
    accuracy: number | null;
    /** The forward engines the pipeline reports named (e.g. ["wasm"]); empty when reports do not name one. */
    kernels: string[];
    /** Configuration ids by pool mode. */
    bestThroughput: Partial<Record<PoolMode, number>>;
    bestP99: Partial<Record<PoolMode, number>>;
    /** The batch size the speed-ups are measured against (the smallest measured); null without grid rows. */
    speedupBaseline: number | null;
  };
  results: ExperimentResult[];
  notMeasured: Configuration[];
}

export interface DocumentContext {
  grid: GridSpec;
  input: { path: string; bytes: number | null };
  model: LoadedModel;
  normalize: string;
  out: string;
  minSamples: number;
  maxTimeS: number;
  configurations: number;
}

/** The document of an experiment; while it runs (a checkpoint), `status` is the outcome so far. */
export type DocumentOutcome = Pick<
  ExperimentOutcome,
  'error' | 'measurements' | 'notMeasured' | 'startedAt' | 'finishedAt' | 'wallTimeMs' | 'machine'
> & {
  status: ExperimentDocument['status'];
};

export function buildExperimentDocument(outcome: DocumentOutcome, context: DocumentContext): ExperimentDocument {
  const rows = aggregate(outcome.measurements);
  const results: ExperimentResult[] = rows.map((row, i) => {
    const m = outcome.measurements[i];
    return { ...row, benchmark: m.benchmark, passDetails: m.passes, warmup: m.warmup, wallTimeMs: m.wallTimeMs };
  });
  const best = (flag: 'bestThroughput' | 'bestP99') => {
    const ids: Partial<Record<PoolMode, number>> = {};
    for (const r of results) if (r[flag]) ids[r.config.pool] = r.config.id;
    return ids;
  };
  const { model } = context;
  return {
    kind: 'nnpipe-experiment',
    formatVersion: 1,
    status: outcome.status,
    partial: outcome.notMeasured.length > 0 || results.length < context.configurations,
    error: outcome.error ? { code: outcome.error.code, message: outcome.error.message } : null,
    startedAt: outcome.startedAt.toISOString(),
    finishedAt: outcome.finishedAt.toISOString(),
    wallTimeMs: outcome.wallTimeMs,
    machine: outcome.machine,
    options: {
      input: context.input.path,
      model: model.path,
      out: context.out,
      batchSizes: [...context.grid.batchSizes].sort((a, b) => a - b),
      threads: [...context.grid.threads].sort((a, b) => a - b),
      maxInFlight: context.grid.maxInFlight.map((s) => s.text),
      pool: context.grid.pool,
      freshProbe: context.grid.freshProbe,
      minSamples: context.minSamples,
      maxTimeS: context.maxTimeS,
    },
    model: { ...modelIdentity(model), normalize: context.normalize },
    input: { path: context.input.path, bytes: context.input.bytes, rows: results[0]?.rows ?? null },
    method: METHOD,
    summary: {
      configurations: context.configurations,
      measured: results.length,
      accuracy: results[0]?.accuracy ?? null,
      kernels: [
        ...new Set(results.flatMap((r) => r.passDetails.map((p) => p.kernel)).filter((k): k is string => k !== null)),
      ],
      bestThroughput: best('bestThroughput'),
      bestP99: best('bestP99'),
      speedupBaseline: speedupBaseline(results.map((r) => r.config)),
    },
    results,
    notMeasured: outcome.notMeasured,
  };
}
