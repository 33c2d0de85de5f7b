// Everything the pipeline accumulates while it streams: counts, the confusion matrix, latency histograms,
// the first few row errors, and the clock marks for throughput. Memory is bounded whatever the input size:
// fixed-size counters and histograms, and at most `maxErrors` kept row errors.
import { performance } from 'node:perf_hooks';
import type { RowError } from '../data/types.js';
import { ConfusionMatrix } from './confusion.js';
import type { FileCounts } from './input-files.js';
import { LatencyHistogram, type LatencyState } from './latency.js';

/** How a run ended. */
export type RunStatus = 'complete' | 'failed' | 'interrupted';

/** What the pipeline knows about one finished batch. */
export interface BatchOutcome {
  rows: number;
  /** Label per row, -1 for unlabeled rows. */
  labels: Int16Array;
  predicted: Int32Array;
  confidence: Float32Array;
  /** Dispatch to result on the main thread (queueing + transfer + compute), ms. */
  latencyMs: number;
  /** Forward pass inside the worker, ms. */
  computeMs: number;
}

export interface RunStatsOptions {
  classes: number;
  /** Row errors kept with their message; later ones are only counted. Default 100. */
  maxErrors?: number;
  /** Millisecond clock; default performance.now (monotonic). Injected by tests. */
  now?: () => number;
}

export const DEFAULT_MAX_ERRORS = 100;

/**
 * Everything RunStats counts that merges exactly across runs over parts of one input: counts add, the
 * confusion matrices add, the kept errors concatenate in input order (the first maxErrors of the
 * concatenation are the first maxErrors of the whole), the latency histograms add. JSON-safe.
 */
export interface StatsState {
  classes: number;
  rows: number;
  labeled: number;
  skipped: number;
  batches: number;
  /** [true][predicted], classes x classes, always present (all zeros without labels). */
  confusion: number[][];
  /** The first maxErrors row errors, in input order. */
  errors: RowError[];
  batchLatency: LatencyState;
  computeLatency: LatencyState;
}

export class RunStats {
  readonly confusion: ConfusionMatrix;
  readonly batchLatency = new LatencyHistogram();
  readonly computeLatency = new LatencyHistogram();
  /** Several input files: each one's rows (set by the pipeline; an interrupted run's report reads it too). */
  files: FileCounts | null = null;

  private readonly maxErrors: number;
  private readonly now: () => number;
  private readonly keptErrors: RowError[] = [];

  private rowCount = 0;
  private labeledCount = 0;
  private skippedCount = 0;
  private batchCount = 0;
  private firstBatchRows = 0;

  private startedAt: number;
  private firstResultAt: number | null = null;
  private finishedAt: number | null = null;

  constructor(options: RunStatsOptions) {
    const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
    if (!Number.isInteger(maxErrors) || maxErrors < 0) {
      throw new RangeError(`RunStats: maxErrors must be an integer >= 0, got ${maxErrors}`);
    }
    this.confusion = new ConfusionMatrix(options.classes);
    this.maxErrors = maxErrors;
    this.now = options.now ?? (() => performance.now());
    // Marked here too so that durations are defined even if the caller never calls start().
    this.startedAt = this.now();
  }

  /** Marks t0: the run's start, before the worker pool starts up (start-up counts in the duration). */
  start(): void {
    this.startedAt = this.now();
    this.firstResultAt = null;
    this.finishedAt = null;
  }

  /** Counts a finished batch; the first call marks the time to first result. */
  recordBatch(outcome: BatchOutcome): void {
    const { rows, labels, predicted } = outcome;
    const at = this.now();
    this.confusion.addBatch(labels, predicted, rows); // validates the shapes first
    if (this.firstResultAt === null) {
      this.firstResultAt = at;
      this.firstBatchRows = rows;
    }
    for (let i = 0; i < rows; i++) if (labels[i] !== -1) this.labeledCount += 1;
    this.rowCount += rows;
    this.batchCount += 1;
    this.batchLatency.record(outcome.latencyMs);
    this.computeLatency.record(outcome.computeMs);
  }

  /** Counts a skipped row; the first `maxErrors` are kept (copied, so the caller's object is not retained). */
  recordRowError(error: RowError): void {
    this.skippedCount += 1;
    if (this.keptErrors.length < this.maxErrors) {
      this.keptErrors.push(
        error.file === undefined
          ? { line: error.line, message: error.message }
          : { file: error.file, line: error.line, message: error.message },
      );
    }
  }

  /** The mergeable counts (see StatsState). */
  state(): StatsState {
    return {
      classes: this.confusion.classes,
      rows: this.rowCount,
      labeled: this.labeledCount,
      skipped: this.skippedCount,
      batches: this.batchCount,
      confusion: this.confusion.toArray(),
      errors: this.errors,
      batchLatency: this.batchLatency.toState(),
      computeLatency: this.computeLatency.toState(),
    };
  }

  /**
   * Adds another run's counts, as if its batches had been recorded here after this run's: the runs must be
   * in input order. `lineOffset` is added to its errors' line numbers (a shard counts lines from its start).
   */
  absorb(state: StatsState, lineOffset = 0): void {
    if (state.classes !== this.confusion.classes)
      throw new RangeError(`RunStats.absorb: ${state.classes} classes, expected ${this.confusion.classes}`);
    this.confusion.addCounts(state.confusion);
    for (const error of state.errors) {
      if (this.keptErrors.length < this.maxErrors)
        this.keptErrors.push({ line: error.line + lineOffset, message: error.message });
    }
    this.rowCount += state.rows;
    this.labeledCount += state.labeled;
    this.skippedCount += state.skipped;
    this.batchCount += state.batches;
    this.batchLatency.mergeState(state.batchLatency);
    this.computeLatency.mergeState(state.computeLatency);
  }

  /** Marks the end of the run; durations stop growing. */
  finish(): void {
    this.finishedAt = this.now();
  }

  /** Rows that went through the network. */
  get rows(): number {
    return this.rowCount;
  }

  /** Rows with a label (counted in the confusion matrix). */
  get labeled(): number {
    return this.labeledCount;
  }

  get correct(): number {
    return this.confusion.correct;
  }

  /** Rows skipped because they failed validation. */
  get skipped(): number {
    return this.skippedCount;
  }

  get batches(): number {
    return this.batchCount;
  }

  /** The first `maxErrors` row errors, in the order they were recorded (a copy). */
  get errors(): RowError[] {
    return this.keptErrors.map((e) => ({ ...e }));
  }

  /** True when more row errors happened than were kept. */
  get errorsTruncated(): boolean {
    return this.skippedCount > this.keptErrors.length;
  }

  /** From start() to the first batch result, or null before any result. */
  get timeToFirstResultMs(): number | null {
    return this.firstResultAt === null ? null : this.firstResultAt - this.startedAt;
  }

  /** From start() to finish(), or to now while the run is going. */
  get durationMs(): number {
    return (this.finishedAt ?? this.now()) - this.startedAt;
  }

  /** Rows per second over the whole run, start-up included; 0 when no time has passed. */
  imagesPerSecond(): number {
    const ms = this.durationMs;
    return ms > 0 ? (this.rowCount * 1000) / ms : 0;
  }

  /**
   * Steady-state throughput, excluding start-up: rows after the first batch divided by the time after
   * the first result. Null until a second batch has arrived (one batch gives no interval to measure).
   */
  imagesPerSecondAfterFirstResult(): number | null {
    if (this.firstResultAt === null || this.batchCount < 2) return null;
    const ms = (this.finishedAt ?? this.now()) - this.firstResultAt;
    return ms > 0 ? ((this.rowCount - this.firstBatchRows) * 1000) / ms : null;
  }
}
