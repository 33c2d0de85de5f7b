// The inference pipeline: source -> blocks -> pool (decode + forward pass) -> collect -> report.
//
//   fast path, --on-error fail:  blocks --> pool: decode and score ------------------------------+
//   fast path, --on-error skip:  blocks --> decode (pool or here) --> exact batches --> pool: score --+--> statistics,
//   csv-parse path:              rows ----------------------------> exact batches --> pool: score --+    predictions,
// progress
//
// Up to the pool every stage is pulled (async generators; see map-in-order.ts for why), so reading stops
// while --max-in-flight tasks are outstanding and memory stays flat. After it, named RxJS stages consume
// the scored batches in input order; they are synchronous, so `from()` takes the next batch only when
// they are done with the last one (and the predictions writer, through mapInOrder's `ready`).
import { defaultIfEmpty, from, lastValueFrom, tap } from 'rxjs';
import { rebatch, type PooledBatch } from '../src/data/batcher.js';
import { inputFileStat } from '../src/data/input-size.js';
import { noValidRows } from '../src/data/messages.js';
import { normalizationTable } from '../src/data/normalize.js';
import type { ColumnChoice } from '../src/data/columns.js';
import type { LineMap } from '../src/data/line-map.js';
import {
  batchesHere,
  openSource,
  type ParserChoice,
  type Source,
  type SourceOptions,
  type WorkItem,
} from '../src/data/source.js';
import type { Batch, RowError } from '../src/data/types.js';
import { FileCounts, withFiles } from '../src/stats/input-files.js';
import { DataError, type PipelineError } from '../src/errors.js';
import type { PartialContext, ShardSpan } from '../src/stats/partial.js';
import type { KernelKind } from '../src/nn/kernels/index.js';
import type { LoadedModel } from '../src/nn/types.js';
import type { Normalization } from '../src/data/normalize.js';
import { ForwardPool } from '../src/pool/forward-pool.js';
import type { ScoredBatch } from '../src/pool/task-types.js';
import { PredictionsWriter } from '../src/stats/predictions-writer.js';
import type { PredictionsFormat } from '../src/stats/predictions-format.js';
import { buildReport, describeModel, type PipelineReport, type RunStatus } from '../src/stats/report.js';
import { RunStats } from '../src/stats/run-stats.js';
import { mapInOrder } from './map-in-order.js';
import { scoredBatches, Scoring } from './scoring.js';

export type DecodePlacement = 'main' | 'workers';
/** --decode: a placement, or auto (the workers when there are any). */
export const DECODE_CHOICES = ['auto', 'main', 'workers'] as const;
export type DecodeChoice = (typeof DECODE_CHOICES)[number];

export interface InferenceOptions {
  /** A CSV file path, or '-' for stdin. */
  input: string;
  /** Several CSV files scored as one run, in order (`input` is then the first). */
  inputs?: readonly string[];
  stdin?: NodeJS.ReadableStream;
  model: LoadedModel;
  batchSize: number;
  /** Worker threads of a pool started here (0: score on this thread). Ignored when `pool` is given. */
  threads: number;
  maxInFlight: number;
  normalize: Normalization;
  limit: number | null;
  onError: 'fail' | 'skip';
  /**
   * Where blocks are decoded: in the workers, or on this thread; auto (the default): the workers when there are any.
   */
  decode?: DecodeChoice;
  /** Forward engine of a pool started here. */
  kernel?: KernelKind;
  /** CSV reader: fast (the framer), csv-parse, or auto. @default 'auto' */
  parser?: ParserChoice;
  /** --label-column / --drop-columns; unset: the layout is detected. */
  columns?: ColumnChoice;
  /** Warnings about the input (the label hint, src/data/columns.ts). */
  onWarning?: (message: string) => void;
  predictionsPath: string | null;
  /** The format of the file at predictionsPath. @default 'csv' */
  predictionsFormat?: PredictionsFormat;
  /** Write every row's output values too (workers then send them back with each batch). */
  probabilities?: boolean;
  /**
   * A predictions writer the caller opened (and may commit itself, see PredictionsWriter.commit); instead of
   * predictionsPath.
   */
  predictionsWriter?: PredictionsWriter | null;
  /** A task with no result after this long has failed (retried once). @default 60000 */
  taskTimeoutMs?: number;
  /** Stops reading input; batches in flight finish and the report says `interrupted`. */
  signal?: AbortSignal;
  /** Called after every batch (in input order) and once at the end. */
  onProgress?: (progress: InferenceProgress) => void;
  /** Every effective option, recorded verbatim in the report. */
  config: Record<string, unknown>;
  /**
   * Called for every scored batch, in input order. `batch.x` holds the rows' pixels only when `pixels`
   * is set, and only until the call returns.
   */
  onBatch?: (batch: Batch, scored: ScoredBatch, lineMap: LineMap) => void;
  /** The statistics to record into; a caller that may have to report before the run ends passes its own. */
  stats?: RunStats;
  /** Hand the rows' pixels on to `onBatch`. */
  pixels?: boolean;
  /** An existing pool (experiments and schedules keep one warm); otherwise one is started and closed. */
  pool?: ForwardPool;
  /** Score only this shard of the input file (src/data/shards.ts); its report counts the shard alone. */
  shard?: ShardSpan | null;
}

export interface InferenceProgress {
  rows: number;
  skipped: number;
  bytesRead: number;
  totalBytes: number | null;
  done: boolean;
}

export interface InferenceOutcome {
  report: PipelineReport;
  stats: RunStats;
  /** The error that ended the run, when status is `failed`. */
  error: PipelineError | Error | null;
}

export const DEFAULT_TASK_TIMEOUT_MS = 60_000;

export async function runInference(options: InferenceOptions): Promise<InferenceOutcome> {
  const { model } = options;
  const startedAt = new Date();
  const stats = options.stats ?? new RunStats({ classes: model.layerSizes[model.layerSizes.length - 1] });
  stats.start();
  const pool =
    options.pool ??
    new ForwardPool({
      threads: options.threads,
      batchSize: options.batchSize,
      maxInFlight: options.maxInFlight,
      kernel: options.kernel,
    });
  pool.setNetwork(model.network);
  const files = severalInputs(options) ? options.inputs! : [options.input];
  const fileStats = await Promise.all(files.map((file) => inputFileStat(file)));
  const run: RunState = {
    source: null,
    plan: null,
    writer: null,
    lastWrite: Promise.resolve(),
    kernel: options.kernel ?? 'auto',
    totalBytes: fileStats.every((found) => found !== null)
      ? fileStats.reduce((sum, found) => sum + found!.bytes, 0)
      : null,
    mtimeMs: files.length === 1 ? (fileStats[0]?.mtimeMs ?? null) : null,
    files:
      files.length === 1
        ? null
        : new FileCounts(
            files,
            fileStats.map((found) => found?.bytes ?? null),
          ),
  };
  stats.files = run.files;
  const progress = (done: boolean) =>
    options.onProgress?.({
      rows: stats.rows,
      skipped: stats.skipped,
      bytesRead: run.source?.bytesRead ?? 0,
      totalBytes: run.totalBytes,
      done,
    });
  let status: RunStatus = 'complete';
  let failure: Error | null = null;
  try {
    await score(options, pool, stats, run, progress);
    if (options.signal?.aborted) status = 'interrupted';
  } catch (error) {
    status = 'failed';
    failure = error as Error;
  } finally {
    stats.finish();
    failure ??= await commitPredictions(run);
    if (failure !== null) status = 'failed';
    if (!options.pool) await pool.close();
  }
  progress(true);
  return { report: reportOf(options, stats, run, status, failure, startedAt), stats, error: failure };
}

/** What a run builds up on the way, for its report. */
interface RunState {
  source: Source | null;
  plan: Plan | null;
  writer: PredictionsWriter | null;
  lastWrite: Promise<void>;
  kernel: string;
  totalBytes: number | null;
  /** The input's modification time (with its size, what identifies it in the report's partial block). */
  mtimeMs: number | null;
  /** Several input files: each one's rows scored and skipped, for the report. */
  files: FileCounts | null;
}

/** The pipeline itself: scored batches, in input order, through the consumers. */
async function score(
  options: InferenceOptions,
  pool: ForwardPool,
  stats: RunStats,
  run: RunState,
  progress: (done: boolean) => void,
): Promise<void> {
  const input = sourceOptions(options, (error) => recordRowError(stats, run, error));
  const source = (run.source = await openSource(input));
  run.writer =
    options.predictionsWriter ?? (options.predictionsPath ? await openWriter(options, options.predictionsPath) : null);
  const plan = (run.plan = planFor(
    options,
    input,
    source,
    pool,
    () => run.lastWrite,
    (run.writer?.layout.probabilities ?? 0) > 0,
  ));
  const features = options.model.layerSizes[0];
  await lastValueFrom(
    from(plan.scored).pipe(
      tap((batch) => (run.kernel = batch.kernel)),
      recordInto(stats, run),
      writePredictions(run),
      tap((batch) => options.onBatch?.(batchOf(batch, features), batch, source.lineMap)),
      tap((batch) => plan.scoring.done(batch)),
      tap(() => progress(false)),
      defaultIfEmpty(null),
    ),
  );
  // Rows are only known to be bad once decoded, so "no valid rows" is found here, at the end (for a
  // shard, by the merge: other shards may have good rows).
  if (stats.rows === 0 && stats.skipped > 0 && !options.signal?.aborted && !options.shard)
    throw new DataError(source.file, 0, noValidRows(stats.skipped));
  await run.lastWrite;
}

const openWriter = (options: InferenceOptions, path: string) =>
  PredictionsWriter.open(path, {
    format: options.predictionsFormat ?? 'csv',
    probabilities: options.probabilities ? options.model.layerSizes.at(-1)! : 0,
    ...(severalInputs(options) ? { files: true } : {}),
  });

/** More than one input file: rows are then named by their file, in predictions and the report. */
const severalInputs = (options: InferenceOptions): boolean => (options.inputs?.length ?? 0) > 1;

/** Counts every scored batch and its bad rows. */
const recordInto = (stats: RunStats, run: RunState) =>
  tap((batch: ScoredBatch) => {
    for (const error of batch.rowErrors) recordRowError(stats, run, error);
    stats.recordBatch(batch);
    run.files?.addRows(run.source!.lineMap, batch.lines, batch.rows);
  });

/** A bad row counted; of several files, named by its file and its line there. */
function recordRowError(stats: RunStats, run: RunState, error: RowError): void {
  if (run.files === null || run.source === null) return stats.recordRowError(error);
  const { file, line } = run.source.lineMap.locate(error.line);
  run.files.addSkipped(run.source.lineMap, error.line);
  stats.recordRowError({ file, line, message: error.message });
}

/**
 * Writes every scored batch's predictions; the next group waits for the writer (mapInOrder's `ready`). The
 * writes of a group's batches are all kept in `lastWrite`: a failed one (a full disk, a closed pipe) fails
 * the run, never an unawaited promise.
 */
const writePredictions = (run: RunState) =>
  tap((batch: ScoredBatch) => {
    if (run.writer === null) return;
    const rows = run.files === null ? batch : withFiles(batch, run.source!.lineMap);
    const written = run.writer.writeBatch(rows, batch.rows);
    run.lastWrite = Promise.all([run.lastWrite, written]).then(() => undefined);
  });

/** Commits the predictions file (or discards it after a failure of its own); the error, if it failed. */
async function commitPredictions(run: RunState): Promise<Error | null> {
  if (run.writer === null) return null;
  try {
    await run.lastWrite;
    await run.writer.commit();
    return null;
  } catch (error) {
    await run.writer.discard().catch(() => undefined);
    return error as Error;
  }
}

function reportOf(
  options: InferenceOptions,
  stats: RunStats,
  run: RunState,
  status: RunStatus,
  failure: Error | null,
  startedAt: Date,
): PipelineReport {
  const layout = run.source?.layout ?? null;
  const partial: PartialContext = {
    shard: options.shard ?? null,
    input: { path: options.input, bytes: run.totalBytes, mtimeMs: run.mtimeMs },
    options: {
      batchSize: options.batchSize,
      normalize: options.normalize,
      activation: options.model.network.activation,
      output: options.model.network.output,
      onError: options.onError,
      kernel: options.kernel ?? 'auto',
    },
    lines: status === 'complete' ? (run.source?.lines ?? null) : null,
    predictions: run.writer ? { path: run.writer.path, rows: run.writer.rowsWritten, ...run.writer.layout } : null,
  };
  return buildReport(stats, {
    status,
    error: failure ? failureOf(failure) : null,
    model: describeModel(options.model, run.kernel),
    input: {
      path: options.input,
      ...(run.files === null ? {} : { files: run.files.report() }),
      bytes: run.totalBytes,
      hasHeader: layout ? layout.hasHeader : null,
      labeled: layout ? layout.labelIndex >= 0 : null,
      parser: run.source?.parser ?? options.parser ?? 'auto',
      decode: run.plan?.decodeIn ?? 'main',
    },
    config: options.config,
    startedAt,
    finishedAt: new Date(),
    partial,
  });
}

/** The report's error; a bad row's line and problem too (a merge renumbers the line). */
function failureOf(failure: Error) {
  const code = (failure as PipelineError).code ?? 'PIPE_ERR_UNEXPECTED';
  if (failure instanceof DataError && failure.line > 0)
    return { code, message: failure.message, line: failure.line, problem: failure.problem };
  return { code, message: failure.message };
}

function sourceOptions(options: InferenceOptions, onRowError: (error: RowError) => void): SourceOptions {
  const { model } = options;
  return {
    input: options.input,
    inputs: options.inputs,
    stdin: options.stdin,
    features: model.layerSizes[0],
    classes: model.layerSizes[model.layerSizes.length - 1],
    onError: options.onError,
    onRowError,
    limit: options.limit ?? undefined,
    signal: options.signal,
    shard: options.shard ?? undefined,
    batchSize: options.batchSize,
    table: normalizationTable(options.normalize),
    parser: options.parser ?? 'auto',
    columns: options.columns,
    onWarning: options.onWarning,
  };
}

/** How the source's items become scored batches. */
interface Plan {
  scored: AsyncIterable<ScoredBatch>;
  scoring: Scoring;
  decodeIn: DecodePlacement;
}

/**
 * fail, decoding in the workers (or all on this thread): blocks decoded and scored in one task each group.
 * decoding here (or csv-parse): exact batches here, scored in the pool.
 * skip, decoding in the workers: blocks decoded in the pool, cut into exact batches here, scored in the pool.
 */
function planFor(
  options: InferenceOptions,
  input: SourceOptions,
  source: Source,
  pool: ForwardPool,
  ready: () => Promise<void>,
  probabilities: boolean,
): Plan {
  const decodeIn: DecodePlacement = pool.threads === 0 ? 'main' : options.decode === 'main' ? 'main' : 'workers';
  const scoring = new Scoring(pool, source, input, {
    taskTimeoutMs: options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
    batchSize: options.batchSize,
    onError: options.onError,
    pixels: options.pixels === true,
    probabilities,
  });
  const fanOut = <T>(items: AsyncIterable<WorkItem>, project: (item: WorkItem) => Promise<T>, last = false) =>
    mapInOrder(items, project, {
      limit: options.maxInFlight,
      signal: options.signal,
      drop: (item) => scoring.drop(item),
      ready: last ? ready : undefined,
    });
  const scoreBatches = (batches: PooledBatch[]) => scoring.scoreBatches(batches);
  const asItems = async function* (groups: AsyncIterable<PooledBatch[]>): AsyncGenerator<WorkItem> {
    for await (const batches of groups) yield { kind: 'batches', batches };
  };
  const scoreItem = (item: WorkItem) => scoreBatches(item.kind === 'batches' ? item.batches : []);

  if (source.parser === 'fast' && options.onError === 'fail' && (decodeIn === 'workers' || pool.threads === 0)) {
    const scoreBlocks = (item: WorkItem) => scoring.scoreBlocks(item.kind === 'blocks' ? item.blocks : []);
    return { scored: scoredBatches(fanOut(source.items, scoreBlocks, true)), scoring, decodeIn };
  }
  if (source.parser === 'csv-parse' || decodeIn === 'main') {
    return {
      scored: scoredBatches(fanOut(asItems(batchesHere(source, input)), scoreItem, true)),
      scoring,
      decodeIn: 'main',
    };
  }
  const decoded = fanOut(source.items, (item) => scoring.decodeBlocks(item.kind === 'blocks' ? item.blocks : []));
  const batches = rebatch(decoded, {
    batchSize: options.batchSize,
    features: input.features,
    limit: source.limited ? undefined : input.limit,
    file: source.file,
    lineMap: source.lineMap,
    onError: options.onError,
    onRowError: input.onRowError,
  });
  return { scored: scoredBatches(fanOut(asItems(batches), scoreItem, true)), scoring, decodeIn };
}

/** The batch a scored batch came from, for onBatch. */
function batchOf(scored: ScoredBatch, features: number): Batch {
  return { index: scored.index, rows: scored.rows, features, x: scored.x, labels: scored.labels, lines: scored.lines };
}
