// The shapes of the batch-size experiment (`npm run experiment`): the grid's configurations, what measuring
// one configuration yields, and the aggregated rows every writer (table, JSON, CSV, HTML) shows.
import type { LatencySummary } from '../stats/latency.js';
import type { RunStatus } from '../stats/report.js';
import type { MachineInfo } from './machine.js';

/**
 * How the worker pool is treated while a configuration is measured.
 * - `warm`: one pool is started for the configuration and one unmeasured warm-up pass runs before sampling;
 *   every sample reuses that pool (steady state: what a long-running service sees).
 * - `fresh`: every sample starts its own pool and closes it (thread start-up and weight sharing are part of
 *   each pass: what a one-shot command sees).
 */
export type PoolMode = 'warm' | 'fresh';
export const POOL_MODES = ['warm', 'fresh'] as const;

/** `--pool`: which modes the grid is measured in. */
export const POOL_CHOICES = ['warm', 'fresh', 'both'] as const;
export type PoolChoice = (typeof POOL_CHOICES)[number];

/** One point of the grid. */
export interface Configuration {
  /** 1-based position in the measuring order; stable within one experiment. */
  id: number;
  pool: PoolMode;
  batchSize: number;
  threads: number;
  /** Batches queued or running at once, resolved for this thread count. */
  maxInFlight: number;
  /** How --max-in-flight named it: "4" or "2x" (2 x threads). */
  maxInFlightSpec: string;
  /** A fresh-pool measurement added to a warm grid so that start-up cost is visible. */
  probe: boolean;
}

/** The figures of one pipeline pass (one `runInference` over the whole input), from its PipelineReport. */
export interface PassSummary {
  status: RunStatus;
  rows: number;
  labeled: number;
  correct: number;
  accuracy: number | null;
  batches: number;
  durationMs: number;
  /** The pipeline's own whole-run rate (pool start-up included for fresh pools). */
  imagesPerSecond: number;
  timeToFirstResultMs: number | null;
  batchLatencyMs: LatencySummary;
  computeLatencyMs: LatencySummary;
  perImageLatencyMs: number | null;
  /** peak RSS (stats/peak-rss.ts) of the measuring process when the pass ended. */
  peakRssBytes: number;
  /** The forward engine that ran the batches, when the pipeline report names it (`model.kernel`); else null. */
  kernel: string | null;
}

/** benchmark.js's statistics for one configuration; one sample is one pipeline pass (see `count`). */
export interface BenchmarkStats {
  /** Seconds per pass. */
  mean: number;
  deviation: number;
  /** Standard error of the mean, s. */
  sem: number;
  /** Margin of error (95%, Student's t), s. */
  moe: number;
  /** Relative margin of error, % of the mean. */
  rme: number;
  /** Seconds per pass of every sample, in the order they were taken. */
  sample: number[];
  /** Passes per sample (benchmark.js's calibrated `count`; 1 unless a pass is shorter than minTime). */
  count: number;
  cycles: number;
  /** benchmark.js's own wall time for the configuration, s. */
  elapsed: number;
}

/** What measuring one configuration yields (in the child process that ran it). */
export interface Measurement {
  config: Configuration;
  benchmark: BenchmarkStats;
  /** Every measured pass (samples x count, plus any calibration passes), in order; not the warm-up pass. */
  passes: PassSummary[];
  /** The unmeasured warm-up pass (rows limited), for the record. */
  warmup: PassSummary | null;
  /** maxRSS of the measuring process after loading the model, before any pool started. */
  baselineRssBytes: number;
  /** maxRSS of the measuring process at the end: the peak of this configuration alone. */
  peakRssBytes: number;
  /** Wall time of the whole measurement (child start to result), ms. */
  wallTimeMs: number;
}

/** One configuration's aggregated figures: what the table, the CSV and the charts show. */
export interface ResultRow {
  config: Configuration;
  samples: number;
  passes: number;
  rows: number;
  labeled: number;
  correct: number;
  accuracy: number | null;
  imagesPerSecond: {
    /** rows / benchmark.js mean seconds per pass. */
    mean: number;
    /** mean x rme / 100: the margin of error in images/s; null with fewer than 2 samples. */
    moe: number | null;
    /** benchmark.js's relative margin of error, %; null with fewer than 2 samples. */
    rme: number | null;
    /** rows / median seconds per pass. */
    median: number;
  };
  passSeconds: { mean: number; median: number; min: number; max: number };
  /** Medians across passes of each pass's batch-latency percentiles. */
  batchLatencyMs: { p50: number; p90: number; p99: number };
  /** Median across passes of each pass's worker compute p50. */
  computeLatencyP50Ms: number;
  perImageLatencyMs: number | null;
  /** Median across passes: for fresh pools this includes starting the threads. */
  timeToFirstResultMs: number | null;
  /** Peak RSS of the child process that measured only this configuration. */
  peakRssBytes: number;
  baselineRssBytes: number;
  /**
   * images/s over images/s at `speedupBaseline` rows per batch with the same pool mode, threads and
   * max-in-flight; null without that configuration (and for fresh-pool probes).
   */
  speedup: number | null;
  /** The batch size speed-ups are measured against: the smallest in the grid (1 when the grid has it). */
  speedupBaseline: number | null;
  bestThroughput: boolean;
  bestP99: boolean;
}

/** Experiment outcome status: `failed` includes an accuracy mismatch between configurations. */
export type ExperimentStatus = 'complete' | 'interrupted' | 'failed';

/** What runExperiment returns (pipelines/experiment.ts). */
export interface ExperimentOutcome {
  status: ExperimentStatus;
  error: { code: string; message: string; exitCode: number } | null;
  measurements: Measurement[];
  /** Configurations of the plan with no measurement (after a stop or a failure). */
  notMeasured: Configuration[];
  startedAt: Date;
  finishedAt: Date;
  wallTimeMs: number;
  machine: MachineInfo;
}

/** The warm-up pass reads at most this many rows (enough for the JIT and for every worker to score batches). */
export const WARMUP_ROWS = 2000;
