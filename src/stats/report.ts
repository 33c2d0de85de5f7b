// The machine-readable end-of-run report: one plain JSON-safe object built from RunStats and what the
// pipeline knows about the model, the input and its options. Field names are a contract: other tools read them.
import type { InputFileSummary } from './input-files.js';
import { availableParallelism, cpus } from 'node:os';
import type { ClassStats } from './confusion.js';
import type { LatencySummary } from './latency.js';
import type { RunStats, RunStatus } from './run-stats.js';
export type { RunStatus } from './run-stats.js';
import type { LoadedModel } from '../nn/types.js';
import { modelIdentity, type ModelIdentity } from '../nn/model-identity.js';
import { peakRssBytes } from './peak-rss.js';
import { PARTIAL_FORMAT, type PartialBlock, type PartialContext } from './partial.js';

export interface PipelineReport {
  status: RunStatus;
  /** Why the run failed or stopped (never null then); null for complete runs. */
  error: { code: string; message: string } | null;
  rows: number;
  labeled: number;
  correct: number;
  /** correct / labeled; null when no row had a label. */
  accuracy: number | null;
  skipped: number;
  /** The first row errors (see RunStats maxErrors); `errorsTruncated` says whether there were more. */
  /** `file`: of several input files, the row's (`line` is the line within it). */
  errors: { file?: string; line: number; message: string }[];
  errorsTruncated: boolean;
  batches: number;
  /** Rows per second over the whole run, pool start-up included. */
  imagesPerSecond: number;
  /** Rows per second after the first result (excluding start-up); null with fewer than two batches. */
  imagesPerSecondAfterFirstResult: number | null;
  timeToFirstResultMs: number | null;
  /** Dispatch -> result per batch, ms. */
  batchLatencyMs: LatencySummary;
  /** Forward pass inside the worker per batch, ms. */
  computeLatencyMs: LatencySummary;
  /** Mean batch latency / mean batch size; null without batches. */
  perImageLatencyMs: number | null;
  /** [true][predicted]; null when no labeled rows. */
  confusionMatrix: number[][] | null;
  perClass: ClassStats[] | null;
  /** Peak RSS in bytes (peak-rss.ts): the whole process, worker threads included. */
  peakRssBytes: number;
  model: ModelIdentity & {
    /** The forward engine that ran the batches ('native', 'wasm' or 'js'), or what was asked for if no batch ran. */
    kernel: string;
    /** The file's names of the weights stored (out, in) and transposed on load (PyTorch layouts). */
    transposed?: string[];
  };
  input: {
    /** The input (of several files: the first). */
    path: string;
    /** Several input files scored as one run, in order (absent for one). */
    files?: InputFileSummary[];
    /** The input's size (of several files: their total). */
    bytes: number | null;
    hasHeader: boolean | null;
    labeled: boolean | null;
    parser: string;
    /** Where the rows were decoded: on the main thread, or in the workers (fast path). */
    decode?: 'main' | 'workers';
  };
  /** Every effective option, as given by the caller. */
  config: Record<string, unknown>;
  /** ISO 8601 wall-clock times. */
  startedAt: string;
  finishedAt: string;
  /** From the run's monotonic clock (RunStats), not finishedAt - startedAt. */
  durationMs: number;
  environment: { node: string; platform: string; cpus: number; cpuModel: string };
  /** The command's reports: temp files that dead runs had left next to its outputs, removed before it wrote them. */
  removedTempFiles?: string[];
  /** The mergeable state of the run (src/stats/partial.ts): what `nnpipe merge` and `nnpipe submit` merge. */
  partial?: PartialBlock;
  /** A merged run's parts, in input order (src/stats/merge.ts). */
  shards?: ShardSummary[];
}

/** One part of a merged run, as its report shows it. */
export interface ShardSummary {
  index: number;
  count: number;
  byteStart: number;
  byteEnd: number;
  /** The shard's first and last input line (absolute), null when not known. */
  firstLine: number | null;
  lastLine: number | null;
  rows: number;
  status: RunStatus;
  durationMs: number;
}

/** The error of a run stopped by a signal (or by its caller's AbortSignal, when no signal is known). */
export function interruptedError(signal: string | null = null): { code: string; message: string } {
  const by = signal === null ? 'the run was stopped' : `stopped by ${signal}`;
  return {
    code: 'PIPE_ERR_INTERRUPTED',
    message: `${by} before the end of the input; the report counts the rows scored before the stop`,
  };
}

export interface ReportContext {
  status: RunStatus;
  /** `line` and `problem` (a bad row's) go into the partial block, so that a merge can renumber the line. */
  error?: { code: string; message: string; line?: number | null; problem?: string | null } | null;
  model: PipelineReport['model'];
  input: PipelineReport['input'];
  config: Record<string, unknown>;
  startedAt: Date;
  finishedAt: Date;
  /** Given: the report carries its mergeable state (`partial`). */
  partial?: PartialContext;
}

export function buildReport(stats: RunStats, context: ReportContext): PipelineReport {
  const hasLabels = stats.labeled > 0;
  const batchLatencyMs = stats.batchLatency.summary();
  // A run that did not complete always says why (a caller that knows no reason gets a general one).
  const given: ReportContext['error'] =
    context.error ??
    (context.status === 'interrupted'
      ? interruptedError()
      : context.status === 'failed'
        ? { code: 'PIPE_ERR_UNEXPECTED', message: 'the run failed' }
        : null);
  const error = given ? { code: given.code, message: given.message } : null;
  const peakRss = peakRssBytes();
  const report: PipelineReport = {
    status: context.status,
    error,
    rows: stats.rows,
    labeled: stats.labeled,
    correct: stats.correct,
    accuracy: stats.confusion.accuracy(),
    skipped: stats.skipped,
    errors: stats.errors,
    errorsTruncated: stats.errorsTruncated,
    batches: stats.batches,
    imagesPerSecond: stats.imagesPerSecond(),
    imagesPerSecondAfterFirstResult: stats.imagesPerSecondAfterFirstResult(),
    timeToFirstResultMs: stats.timeToFirstResultMs,
    batchLatencyMs,
    computeLatencyMs: stats.computeLatency.summary(),
    perImageLatencyMs: stats.batches > 0 && stats.rows > 0 ? batchLatencyMs.mean / (stats.rows / stats.batches) : null,
    confusionMatrix: hasLabels ? stats.confusion.toArray() : null,
    perClass: hasLabels ? stats.confusion.perClass() : null,
    // maxRSS is in kilobytes and, being per process, covers the worker threads as well.
    peakRssBytes: peakRss,
    model: {
      ...context.model,
      layerSizes: [...context.model.layerSizes],
      ...(context.model.transposed ? { transposed: [...context.model.transposed] } : {}),
    },
    input: { ...context.input },
    config: { ...context.config },
    startedAt: context.startedAt.toISOString(),
    finishedAt: context.finishedAt.toISOString(),
    durationMs: stats.durationMs,
    environment: environment(),
  };
  if (context.partial) {
    report.partial = {
      format: PARTIAL_FORMAT,
      ...context.partial,
      model: { sha256: context.model.sha256 },
      status: context.status,
      error: given
        ? { code: given.code, message: given.message, line: given.line ?? null, problem: given.problem ?? null }
        : null,
      stats: stats.state(),
      startedAtMs: context.startedAt.getTime(),
      finishedAtMs: context.finishedAt.getTime(),
      peakRssBytes: peakRss,
    };
  }
  return report;
}

function environment(): PipelineReport['environment'] {
  const cpuList = cpus();
  return {
    node: process.version,
    // The architecture matters as much as the OS for throughput figures: "linux-x64".
    platform: `${process.platform}-${process.arch}`,
    // What the worker pool sizes itself by (respects CPU affinity), rather than the host's total.
    cpus: availableParallelism(),
    cpuModel: cpuList[0]?.model.trim() || 'unknown',
  };
}

/** The report's description of a loaded model, and of the forward engine that ran it. */
export function describeModel(model: LoadedModel, kernel: string): PipelineReport['model'] {
  return {
    ...modelIdentity(model),
    kernel,
    transposed: model.layerSources.filter((source) => source.transposed).map((source) => source.weight),
  };
}
