// The inference pipeline: source -> blocks -> pool (decode + forward pass) -> collect -> report.
//
//   fast path, --on-error fail:  blocks --> pool: decode and score ------------------------------+
//   fast path, --on-error skip:  blocks --> decode (pool or here) --> exact batches --> pool: score --+--> statistics,
//   csv-parse path:              rows ----------------------------> exact batches --> pool: score --+    predictions, progress
//
// Up to the pool every stage is pulled (async generators; see map-in-order.ts for why), so reading stops
// while --max-in-flight batches are outstanding and memory stays flat. After it, RxJS operators consume
// the scored batches in input order; they are synchronous, so `from()` takes the next batch only when
// they are done with the last one.
import { defaultIfEmpty, from, lastValueFrom, tap } from 'rxjs';
import { blockData, lastLineOf, type BlockData } from '../src/data/block-decoder.js';
import { rebatch, type PooledBatch } from '../src/data/batcher.js';
import { inputFileStat } from '../src/data/input-size.js';
import { noValidRows } from '../src/data/messages.js';
import { normalizationTable } from '../src/data/normalize.js';
import { batchesHere, decodeSpec, openSource, type ParserChoice, type Source, type SourceOptions, type WorkItem } from '../src/data/source.js';
import { describeLines, type Batch, type DecodedBlock } from '../src/data/types.js';
import { DataError, PipelineError } from '../src/errors.js';
import type { KernelKind } from '../src/nn/kernels/index.js';
import type { LoadedModel, Normalization } from '../src/nn/types.js';
import { runTask } from '../src/pool/faults.js';
import { ForwardPool } from '../src/pool/forward-pool.js';
import { resultViews, ResultSlots } from '../src/pool/result-slots.js';
import type { ForwardResult, ForwardTask, ScoredBatch, TaskFailure } from '../src/pool/task-types.js';
import { PredictionsWriter } from '../src/stats/predictions-writer.js';
import type { PartialContext, ShardSpan } from '../src/stats/partial.js';
import { buildReport, describeModel, type PipelineReport, type RunStatus } from '../src/stats/report.js';
import { RunStats } from '../src/stats/run-stats.js';
import { mapInOrder } from './map-in-order.js';

export type DecodePlacement = 'main' | 'workers';

export interface InferenceOptions {
  /** A CSV file path, or '-' for stdin. */
  input: string;
  stdin?: NodeJS.ReadableStream;
  model: LoadedModel;
  batchSize: number;
  /** Worker threads of a pool started here (0: score on this thread). Ignored when `pool` is given. */
  threads: number;
  maxInFlight: number;
  normalize: Normalization;
  limit: number | null;
  onError: 'fail' | 'skip';
  /** Where blocks are decoded: in the workers (default when there are any), or on this thread. */
  decode?: DecodePlacement;
  /** Forward engine of a pool started here. */
  kernel?: KernelKind;
  /** CSV reader: fast (the framer), csv-parse, or auto. @default 'auto' */
  parser?: ParserChoice;
  predictionsPath: string | null;
  /** A predictions writer the caller opened (and may commit itself, see PredictionsWriter.commit); instead of predictionsPath. */
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
  onBatch?: (batch: Batch, scored: ScoredBatch) => void;
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
  const classes = model.layerSizes[model.layerSizes.length - 1];
  const startedAt = new Date();
  const stats = options.stats ?? new RunStats({ classes });
  stats.start();
  const ownPool = !options.pool;
  const pool =
    options.pool ??
    new ForwardPool({ threads: options.threads, batchSize: options.batchSize, maxInFlight: options.maxInFlight, kernel: options.kernel });
  pool.setNetwork(model.network);
  const inputStat = await inputFileStat(options.input);
  const totalBytes = inputStat?.bytes ?? null;

  let source: Source | null = null;
  let plan: Plan | null = null;
  let writer: PredictionsWriter | null = null;
  let lastWrite: Promise<void> = Promise.resolve();
  let kernelUsed: string = options.kernel ?? 'auto';
  let status: RunStatus = 'complete';
  let failure: Error | null = null;
  const progress = (done: boolean) =>
    options.onProgress?.({ rows: stats.rows, skipped: stats.skipped, bytesRead: source?.bytesRead ?? 0, totalBytes, done });
  try {
    const input = sourceOptions(options, stats);
    source = await openSource(input);
    plan = planFor(options, input, source, pool);
    writer = options.predictionsWriter ?? (options.predictionsPath ? await PredictionsWriter.open(options.predictionsPath) : null);
    const scored = mapInOrder(plan.work, plan.score, {
      limit: options.maxInFlight,
      signal: options.signal,
      ready: () => lastWrite,
      drop: plan.drop,
    });
    await lastValueFrom(
      from(scored).pipe(
        tap((batch) => {
          kernelUsed = batch.kernel;
          for (const error of batch.rowErrors) stats.recordRowError(error);
          stats.recordBatch(batch);
          if (writer) lastWrite = writer.writeBatch(batch.lines, batch.labels, batch.predicted, batch.confidence, batch.rows);
          options.onBatch?.(batchOf(batch, model.layerSizes[0]), batch);
          plan!.done(batch);
          progress(false);
        }),
        defaultIfEmpty(null),
      ),
    );
    // Rows are only known to be bad once decoded, so "no valid rows" is found here, at the end (for a
    // shard, by the merge: other shards may have good rows).
    if (stats.rows === 0 && stats.skipped > 0 && !options.signal?.aborted && !options.shard) throw new DataError(source.file, 0, noValidRows(stats.skipped));
    await lastWrite;
    if (options.signal?.aborted) status = 'interrupted';
  } catch (error) {
    status = 'failed';
    failure = error as Error;
  } finally {
    stats.finish();
    if (writer) {
      try {
        await lastWrite;
        await writer.commit();
      } catch (error) {
        if (!failure) {
          status = 'failed';
          failure = error as Error;
        }
        await writer.discard().catch(() => undefined);
      }
    }
    if (ownPool) await pool.close();
  }
  progress(true);

  const layout = source?.layout ?? null;
  const partial: PartialContext = {
    shard: options.shard ?? null,
    input: { path: options.input, bytes: totalBytes, mtimeMs: inputStat?.mtimeMs ?? null },
    options: { batchSize: options.batchSize, normalize: options.normalize, activation: model.network.activation, output: model.network.output, onError: options.onError, kernel: options.kernel ?? 'auto' },
    lines: status === 'complete' ? (source?.lines ?? null) : null,
    predictions: writer ? { path: writer.path, rows: writer.rowsWritten } : null,
  };
  const report = buildReport(stats, {
    status,
    error: failure ? failureOf(failure) : null,
    model: describeModel(model, kernelUsed),
    input: {
      path: options.input,
      bytes: totalBytes,
      hasHeader: layout ? layout.hasHeader : null,
      labeled: layout ? layout.labelIndex >= 0 : null,
      parser: source?.parser ?? options.parser ?? 'auto',
      decode: plan?.decodeIn ?? 'main',
    },
    config: options.config,
    startedAt,
    finishedAt: new Date(),
    partial,
  });
  return { report, stats, error: failure };
}

/** The report's error; a bad row's line and problem too (a merge renumbers the line). */
function failureOf(failure: Error) {
  const code = (failure as PipelineError).code ?? 'PIPE_ERR_UNEXPECTED';
  if (failure instanceof DataError && failure.line > 0) return { code, message: failure.message, line: failure.line, problem: failure.problem };
  return { code, message: failure.message };
}

function sourceOptions(options: InferenceOptions, stats: RunStats): SourceOptions {
  const { model } = options;
  return {
    input: options.input,
    stdin: options.stdin,
    features: model.layerSizes[0],
    classes: model.layerSizes[model.layerSizes.length - 1],
    onError: options.onError,
    onRowError: (error) => stats.recordRowError(error),
    limit: options.limit ?? undefined,
    signal: options.signal,
    shard: options.shard ?? undefined,
    batchSize: options.batchSize,
    table: normalizationTable(options.normalize),
    parser: options.parser ?? 'auto',
  };
}

/** How the source's items become scored batches. */
interface Plan {
  work: AsyncIterable<WorkItem>;
  score: (item: WorkItem) => Promise<ScoredBatch>;
  /** After a scored batch has been consumed: its buffers go back. */
  done: (batch: ScoredBatch) => void;
  /** An item the pipeline took but will not score. */
  drop: (item: WorkItem) => void;
  decodeIn: DecodePlacement;
}

function planFor(options: InferenceOptions, input: SourceOptions, source: Source, pool: ForwardPool): Plan {
  const file = source.file;
  const timeoutMs = options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const want = { pixels: options.pixels === true };
  const decodeIn: DecodePlacement = pool.threads === 0 ? 'main' : (options.decode ?? 'workers');
  // What a scored batch holds until it has been consumed: its result slot (and its pixels' buffer).
  const slots = new ResultSlots(options.batchSize);
  const pending = new Map<number, () => void>();
  const drop = (item: WorkItem) => (item.kind === 'block' ? item.block.release() : item.batch.release());
  const done = (batch: ScoredBatch) => {
    pending.get(batch.index)?.();
    pending.delete(batch.index);
  };
  /** A result slot for batch `index`, given back (with `also`) once the batch has been consumed. */
  const slotFor = (index: number, also?: () => void) => {
    const slot = slots.acquire();
    pending.set(index, () => {
      slots.recycle(slot);
      also?.();
    });
    return slot;
  };
  const run = (task: ForwardTask, describe: () => string) => runTask(pool, task, { taskTimeoutMs: timeoutMs, describe });
  const describeBlock = (block: BlockData) => () => `batch ${block.index} (${describeLines(block.firstLine, lastLineOf(block))})`;

  // Rows already decoded: the pool scores them where they are (shared memory).
  const scoreBatch = async (item: WorkItem): Promise<ScoredBatch> => {
    if (item.kind !== 'batch') throw new TypeError('scoreBatch: not a batch');
    const { batch } = item;
    const out = slotFor(batch.index, batch.release);
    const started = performance.now();
    const describe = () => `batch ${batch.index} (${describeLines(batch.lines[0], batch.lines[batch.rows - 1])})`;
    const task: ForwardTask = { kind: 'score-batch', network: pool.shared, index: batch.index, rows: batch.rows, x: batch.x, out, want: {} };
    const result = scoredOf(await run(task, describe), file, describe);
    const { predicted, confidence } = resultViews(out, batch.rows);
    return { ...result, predicted, confidence, labels: batch.labels, lines: batch.lines, x: want.pixels ? batch.x : EMPTY, latencyMs: performance.now() - started };
  };

  // Every row is good or the run fails: blocks are exact batches, decoded and scored in one task.
  const scoreBlock = async (item: WorkItem): Promise<ScoredBatch> => {
    if (item.kind !== 'block') throw new TypeError('scoreBlock: not a block');
    const { block } = item;
    const started = performance.now();
    const describe = describeBlock(block);
    try {
      const out = slotFor(block.index);
      const task: ForwardTask = { kind: 'score-block', network: pool.shared, spec: decodeSpec(source, input), block: blockData(block), out, want };
      const result = scoredOf(await run(task, describe), file, describe);
      if (result.rowErrors.length > 0) throw new DataError(file, result.rowErrors[0].line, result.rowErrors[0].message);
      // The block's good rows, in its slot (made for all its rows, good or bad).
      const views = resultViews(out, block.rows, result.rows);
      return { ...result, ...views, x: result.x ?? EMPTY, latencyMs: performance.now() - started };
    } finally {
      block.release();
    }
  };

  // Decoded in the workers, several blocks at once; then cut into exact batches here.
  const decodeInWorker = async (item: WorkItem): Promise<DecodedBlock> => {
    if (item.kind !== 'block') throw new TypeError('decode: not a block');
    const { block } = item;
    const describe = describeBlock(block);
    try {
      const result = await run({ kind: 'decode-block', spec: decodeSpec(source, input), block: blockData(block) }, describe);
      if (!result.ok) throw failureError(result, file, describe);
      if (result.kind !== 'decoded') throw new TypeError('decode: not a decoded block');
      return { batch: result.batch, errors: result.rowErrors, failure: result.failure };
    } finally {
      block.release();
    }
  };

  if (source.parser === 'fast' && options.onError === 'fail' && (decodeIn === 'workers' || pool.threads === 0)) {
    return { work: source.items, score: scoreBlock, done, drop, decodeIn };
  }
  if (source.parser === 'csv-parse' || decodeIn === 'main') {
    return { work: asItems(batchesHere(source, input)), score: scoreBatch, done, drop, decodeIn: 'main' };
  }
  const decoded = mapInOrder(source.items, decodeInWorker, { limit: options.maxInFlight, signal: options.signal, drop });
  const batches = rebatch(decoded, {
    batchSize: options.batchSize,
    features: input.features,
    limit: source.limited ? undefined : input.limit,
    file,
    onError: options.onError,
    onRowError: input.onRowError,
  });
  return { work: asItems(batches), score: scoreBatch, done, drop, decodeIn };
}

const EMPTY = new Float32Array(0);

async function* asItems(batches: AsyncIterable<PooledBatch>): AsyncGenerator<WorkItem, void, undefined> {
  for await (const batch of batches) yield { kind: 'batch', batch };
}

/** A scored result, or the error its failure stands for. */
function scoredOf(result: ForwardResult, file: string, describe: () => string) {
  if (!result.ok) throw failureError(result, file, describe);
  if (result.kind !== 'scored') throw new TypeError('expected a scored batch');
  return result;
}

function failureError(result: TaskFailure, file: string, describe: () => string): PipelineError {
  if (result.line !== null) return new DataError(file, result.line, result.message);
  return new PipelineError('PIPE_ERR_WORKER', `${describe()}: ${result.message}`);
}

/** The batch a scored batch came from, for onBatch. */
function batchOf(scored: ScoredBatch, features: number): Batch {
  return { index: scored.index, rows: scored.rows, features, x: scored.x, labels: scored.labels, lines: scored.lines };
}
