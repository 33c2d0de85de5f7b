// The inference pipeline: source -> normalize -> batch -> pool -> collect -> report.
//
// The data stages are pull-based async generators (so the file stream's own backpressure works);
// `boundedOrderedMap` fans batches out to the worker pool with at most `maxInFlight` outstanding and
// emits results in input order; RxJS operators then collect statistics, write predictions and
// report progress.
import { lastValueFrom, defaultIfEmpty, tap } from 'rxjs';
import { openBatchSource, type DecodePlacement, type ParserChoice } from '../src/data/batch-source.js';
import { STDIN_NAME } from '../src/data/source-options.js';
import { noValidRows } from '../src/data/fast-csv/messages.js';
import { normalizationTable } from '../src/data/normalize.js';
import { inputSizeBytes } from '../src/data/input-size.js';
import type { CsvLayout } from '../src/data/types.js';
import type { LoadedModel, Normalization } from '../src/nn/types.js';
import { ForwardPool, type ScoredBatch } from '../src/pool/forward-pool.js';
import type { KernelKind } from '../src/nn/kernels/index.js';
import { RunStats } from '../src/stats/run-stats.js';
import { buildReport, describeModel, type PipelineReport, type RunStatus } from '../src/stats/report.js';
import { PredictionsWriter } from '../src/stats/predictions-writer.js';
import { DataError, PipelineError } from '../src/errors.js';
import { boundedOrderedMap } from './bounded-ordered-map.js';
import { isLineBatch, type Batch, type WorkItem } from '../src/data/types.js';

export interface InferenceOptions {
  /** A CSV file path, or '-' for stdin. */
  input: string;
  stdin?: NodeJS.ReadableStream;
  model: LoadedModel;
  batchSize: number;
  threads: number;
  maxInFlight: number;
  normalize: Normalization;
  limit: number | null;
  onError: 'fail' | 'skip';
  /** Where the fast path decodes (default: the workers when there are two or more, see below). */
  decode?: DecodePlacement;
  /** Forward engine for a pool started here: `wasm`, `js`, or `auto` (wasm when built). */
  kernel?: KernelKind;
  /** CSV decoder: `fast` (bytes straight into the batch), `csv-parse` (the general path), or `auto`. */
  parser?: ParserChoice;
  predictionsPath: string | null;
  /** A predictions writer the caller opened (and may commit itself, see PredictionsWriter.commit); instead of predictionsPath. */
  predictionsWriter?: PredictionsWriter | null;
  /** Stops reading input; batches in flight finish and the report says `interrupted`. */
  signal?: AbortSignal;
  /** Called after every batch (in input order) and once at the end. */
  onProgress?: (progress: InferenceProgress) => void;
  /** Every effective option, recorded verbatim in the report. */
  config: Record<string, unknown>;
  /**
   * Called for every scored batch, in input order, with the batch's pixels back in `batch.x`
   * (e.g. to collect the mistakes for the HTML report; `batch.x` is empty unless `pixels` is set).
   * Must not keep `batch.x` beyond a few rows.
   */
  onBatch?: (batch: Batch, scored: ScoredBatch) => void;
  /** The statistics to record into (started here); a caller that may have to report before the run
   *  ends (a stop that times out) passes its own and reads it. @default a new one */
  stats?: RunStats;
  /** Hand the rows' pixels back from the workers (for `onBatch` collectors that look at them). */
  pixels?: boolean;
  /** An existing pool to use (experiments and schedules keep one warm); otherwise one is started and closed. */
  pool?: ForwardPool;
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

export async function runInference(options: InferenceOptions): Promise<InferenceOutcome> {
  const { model } = options;
  const features = model.layerSizes[0];
  const classes = model.layerSizes[model.layerSizes.length - 1];
  const startedAt = new Date();
  const stats = options.stats ?? new RunStats({ classes });
  stats.start();

  // Start the workers first: they spawn and map the shared weights while the first rows are read.
  const ownPool = !options.pool;
  options.pool?.setNetwork(model.network);
  const pool =
    options.pool ??
    new ForwardPool({
      network: model.network,
      threads: options.threads,
      batchSize: options.batchSize,
      maxQueue: options.maxInFlight,
      kernel: options.kernel,
    });

  // Decoding is most of a run's work: with two or more workers it runs in the workers (all cores
  // decode), except where only the main thread can count good rows (--limit under --on-error skip:
  // there even --decode workers decodes on the main thread; the report says where it ran).
  const countsOnMain = options.onError === 'skip' && options.limit !== null;
  const decodeIn: DecodePlacement = countsOnMain ? 'main' : (options.decode ?? (pool.threads >= 2 ? 'workers' : 'main'));
  const inputName = options.input === '-' ? STDIN_NAME : options.input;
  const totalBytes = await inputSizeBytes(options.input);
  let bytesRead = 0;
  let layout: CsvLayout | null = null;
  const progress = (done: boolean) =>
    options.onProgress?.({ rows: stats.rows, skipped: stats.skipped, bytesRead, totalBytes, done });

  const source = openBatchSource({
    input: options.input,
    stdin: options.stdin,
    features,
    classes,
    onError: options.onError,
    onRowError: (error) => stats.recordRowError(error),
    onLayout: (found) => {
      layout = found;
    },
    onBytes: (bytes) => {
      bytesRead = bytes;
    },
    limit: options.limit ?? undefined,
    signal: options.signal,
    batchSize: options.batchSize,
    table: normalizationTable(options.normalize),
    parser: options.parser ?? 'auto',
  }, decodeIn);
  const items = source.batches;
  // Known once the first chunk has been read; do not wait for it before the batches start.
  let parserUsed: string = options.parser ?? 'auto';
  void source.parser.then((used) => {
    parserUsed = used;
  });

  let kernelUsed: string = options.kernel ?? 'auto';
  let decodedIn: DecodePlacement = 'main';
  let writer: PredictionsWriter | null = null;
  let lastWrite: Promise<void> = Promise.resolve();
  let status: RunStatus = 'complete';
  let failure: Error | null = null;
  try {
    writer = options.predictionsWriter ?? (options.predictionsPath ? await PredictionsWriter.open(options.predictionsPath) : null);
    const scored$ = boundedOrderedMap<WorkItem, ScoredBatch>(
      items,
      async (item) => {
        if (isLineBatch(item)) decodedIn = 'workers';
        const scored = await pool.run(item, { pixels: options.pixels === true });
        // Lines decoded by a worker: its bad rows. Under 'fail' the first one ends the run here, in
        // input order (the batches before it are emitted first), and this batch is not counted.
        if (scored.rowErrors.length > 0 && options.onError === 'fail') {
          const first = scored.rowErrors[0];
          throw new DataError(inputName, first.line, first.message);
        }
        return scored;
      },
      { limit: options.maxInFlight, signal: options.signal, downstreamReady: () => lastWrite },
    );
    await lastValueFrom(
      scored$.pipe(
        tap((scored) => {
          kernelUsed = scored.kernel;
          for (const error of scored.rowErrors) stats.recordRowError(error);
          if (options.onBatch) {
            const batch: Batch = { index: scored.batchIndex, rows: scored.rows, features, x: scored.x, labels: scored.labels, lines: scored.lines };
            options.onBatch(batch, scored);
          }
          stats.recordBatch({
            rows: scored.rows,
            labels: scored.labels,
            predicted: scored.predicted,
            confidence: scored.confidence,
            latencyMs: scored.latencyMs,
            computeMs: scored.computeMs,
          });
          if (writer) {
            lastWrite = writer.writeBatch(scored.lines, scored.labels, scored.predicted, scored.confidence, scored.rows);
          }
          progress(false);
        }),
        defaultIfEmpty(null),
      ),
    );
    // With decoding in the workers, only now is it known whether any row was good.
    if (stats.rows === 0 && stats.skipped > 0 && !options.signal?.aborted) throw new DataError(inputName, 0, noValidRows(stats.skipped));
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

  const foundLayout = layout as CsvLayout | null;
  const report = buildReport(stats, {
    status,
    error: failure ? { code: (failure as PipelineError).code ?? 'PIPE_ERR_UNEXPECTED', message: failure.message } : null,
    model: describeModel(model, kernelUsed),
    input: {
      path: options.input,
      bytes: totalBytes,
      hasHeader: foundLayout ? foundLayout.hasHeader : null,
      labeled: foundLayout ? foundLayout.labelIndex >= 0 : null,
      parser: parserUsed,
      decode: decodedIn,
    },
    config: options.config,
    startedAt,
    finishedAt: new Date(),
  });
  return { report, stats, error: failure };
}
