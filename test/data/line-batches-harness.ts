// Shared by the line-batches tests (not a test file itself): run one input through the main-thread fast
// path and through the workers path (LineBatches decoded in-process with decodeBlock, as each worker
// does, and collected as pipelines/inference.ts collects them), and record everything each reported in a
// form deepEqual can compare. Also the generated inputs of fast-csv-property.test.ts (copied: that file
// is a test file and registers tests when imported).
import { deepStrictEqual } from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { openBatchSource, type BatchSourceOptions, type DecodePlacement } from '../../src/data/batch-source.js';
import { decodeBlock } from '../../src/data/fast-csv/block.js';
import { noValidRows } from '../../src/data/fast-csv/messages.js';
import { STDIN_NAME } from '../../src/data/source-options.js';
import { isLineBatch, type Batch, type CsvLayout, type RowError } from '../../src/data/types.js';
import { DataError } from '../../src/errors.js';
import { chunksOf, thrown, type Feeding, type ThrownError } from './fast-csv-harness.js';
export { CORRUPTIONS, SPANNING, feedingArbitrary, render, specArbitrary, type Corruption, type FeedingChoice, type Spec } from './csv-spec.js';

export type { Feeding } from './fast-csv-harness.js';

/** What one run reported. `rows` and `batches` are plain data, or hashes (`digest`) for big inputs. */
export interface RunRecord {
  /** Every good row, in order, across batches: line, label, x. */
  rows: Array<{ line: number; label: number; x: number[] }> | string;
  /** (index, rows) per batch scored, in order; with `digest`, a hash of each batch. */
  batches: Array<{ index: number; rows: number }> | string[];
  rowErrors: RowError[];
  layouts: CsvLayout[];
  error: ThrownError | null;
  /** The last onBytes value (when the run did not fail). */
  bytes: number | null;
  /** Problems with the LineBatches themselves (not transferable on their own, wrong index, ...). */
  defects: string[];
}

export type RunOptions = Omit<BatchSourceOptions, 'input' | 'stdin' | 'parser' | 'onRowError' | 'onLayout' | 'onBytes'>;

export function streamFor(feeding: Feeding): { input: string; stdin?: Readable } {
  if (feeding.kind === 'file') return { input: feeding.path };
  const chunks = chunksOf(feeding.bytes, feeding.cuts);
  if (feeding.kind === 'stdin') return { input: '-', stdin: Readable.from(chunks, { objectMode: false }) };
  let next = 0;
  const stdin = new Readable({
    read() {
      setImmediate(() => this.push(next < chunks.length ? chunks[next++] : null));
    },
  });
  return { input: '-', stdin };
}

/** Rows of batches, appended to a plain list or to a running hash. */
class RowSink {
  readonly list: Array<{ line: number; label: number; x: number[] }> = [];
  private readonly hash: Hash | null;
  count = 0;
  constructor(digest: boolean) {
    this.hash = digest ? createHash('sha256') : null;
  }
  add(b: Batch): void {
    this.count += b.rows;
    if (this.hash) {
      // Row by row, so that the hash does not depend on how rows are grouped in batches.
      for (let r = 0; r < b.rows; r++) {
        this.hash.update(`${b.lines[r]}/${b.labels[r]};`);
        const x = b.x.subarray(r * b.features, (r + 1) * b.features);
        this.hash.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      }
      return;
    }
    for (let r = 0; r < b.rows; r++) this.list.push({ line: b.lines[r], label: b.labels[r], x: Array.from(b.x.subarray(r * b.features, (r + 1) * b.features)) });
  }
  result(): RunRecord['rows'] {
    return this.hash ? `${this.count}:${this.hash.digest('hex').slice(0, 32)}` : this.list;
  }
}

function batchHash(b: Batch): string {
  const hash = createHash('sha256');
  hash.update(`${b.index}/${b.rows}/${b.features};`);
  for (const array of [b.x, b.labels, b.lines]) hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return hash.digest('hex').slice(0, 24);
}

export interface RunExtras {
  digest?: boolean;
  /** 'fast' (default), or 'auto' (which may choose csv-parse, decoding on the main thread). */
  parser?: 'fast' | 'auto';
  signal?: AbortSignal;
  /** Called with each item as the consumer receives it (e.g. to abort after some). */
  onItem?: (index: number) => void;
}

/**
 * Runs the input through the fast path decoding on the main thread ('main') or in the workers
 * ('workers': each LineBatch decoded here with decodeBlock, then collected as the pipeline does: under
 * 'fail' the first batch holding a bad row ends the run with that row's DataError, in input order;
 * under 'skip' its bad rows are recorded; at the end, no good row but some bad ones is "no valid rows").
 */
export async function runPlaced(decodeIn: DecodePlacement, feeding: Feeding, options: RunOptions, extras: RunExtras = {}): Promise<RunRecord> {
  const rowErrors: RowError[] = [];
  const layouts: CsvLayout[] = [];
  const defects: string[] = [];
  const rows = new RowSink(extras.digest === true);
  const batches: Array<{ index: number; rows: number } | string> = [];
  const batch = (b: Batch) => batches.push(extras.digest ? batchHash(b) : { index: b.index, rows: b.rows });
  let error: ThrownError | null = null;
  let bytes: number | null = null;
  const stream = streamFor(feeding);
  const file = stream.input === '-' ? STDIN_NAME : stream.input;
  const source = openBatchSource(
    {
      ...options,
      ...stream,
      parser: extras.parser ?? 'fast',
      signal: extras.signal,
      onRowError: (e) => rowErrors.push({ ...e }),
      onLayout: (l) => layouts.push({ ...l }),
      onBytes: (n) => {
        if (bytes !== null && n < bytes) defects.push(`onBytes went back from ${bytes} to ${n}`);
        bytes = n;
      },
    },
    decodeIn,
  );
  let items = 0;
  try {
    for await (const item of source.batches) {
      extras.onItem?.(items++);
      if (!isLineBatch(item)) {
        // Decoded on the main thread: asked for, or `auto` chose csv-parse (it knows by now).
        if (decodeIn === 'workers' && (await source.parser) !== 'csv-parse') defects.push('the fast path placed in the workers gave a decoded Batch');
        rows.add(item);
        batch(item);
        continue;
      }
      if (decodeIn === 'main') defects.push('main placement gave a LineBatch');
      // What crosses to the worker: the bytes' buffer is transferred, so it must hold these bytes only.
      if (item.bytes.byteOffset !== 0 || item.bytes.byteLength !== item.bytes.buffer.byteLength) defects.push(`batch ${item.index}: bytes are a view of a bigger buffer`);
      if (item.rows < 1) defects.push(`batch ${item.index}: ${item.rows} rows`);
      if (item.rows > options.batchSize) defects.push(`batch ${item.index}: ${item.rows} rows > batch size ${options.batchSize}`);
      const decoded = decodeBlock(item.bytes, item.firstLine, item.index, item.spec);
      if (decoded.batch && decoded.batch.index !== item.index) defects.push(`batch ${item.index} decoded as ${decoded.batch.index}`);
      if (decoded.errors.length > 0 && options.onError === 'fail') {
        const first = decoded.errors[0];
        throw new DataError(file, first.line, first.message);
      }
      rowErrors.push(...decoded.errors);
      const good = decoded.batch?.rows ?? 0;
      if (good + decoded.errors.length !== item.rows) defects.push(`batch ${item.index}: ${item.rows} rows, decoded ${good} good + ${decoded.errors.length} bad`);
      if (decoded.batch) {
        rows.add(decoded.batch);
        batch(decoded.batch);
      }
    }
    if (decodeIn === 'workers' && rows.count === 0 && rowErrors.length > 0 && !extras.signal?.aborted) {
      throw new DataError(file, 0, noValidRows(rowErrors.length));
    }
  } catch (e) {
    error = thrown(e);
  }
  return { rows: rows.result(), batches: batches as RunRecord['batches'], rowErrors, layouts, error, bytes: error ? null : bytes, defects };
}

/**
 * Asserts that the workers path reported what the main-thread path reported: everything, except the
 * batch boundaries under 'skip' (difference 1), and onBytes' last value when `limit` stopped the read.
 * Under 'skip', when an error that ends the read comes after data rows, which good rows were scored
 * before it follows from the batch boundaries too: then one run's rows must be the start of the other's.
 */
export function assertAgree(workers: RunRecord, main: RunRecord, options: RunOptions, what: string): void {
  deepStrictEqual(workers.defects, [], what);
  const { batches: wb, bytes: wn, rows: wr, ...workersRest } = workers;
  const { batches: mb, bytes: mn, rows: mr, ...mainRest } = main;
  deepStrictEqual(workersRest, mainRest, what);
  if (options.limit === undefined) deepStrictEqual(wn, mn, `onBytes: ${what}`);
  if (options.onError === 'fail') deepStrictEqual(wb, mb, `batches: ${what}`);
  if (options.onError === 'skip' && main.error !== null && !/no valid rows/.test(main.error.message)) {
    const [shorter, longer] = (wr as unknown[]).length <= (mr as unknown[]).length ? [wr, mr] : [mr, wr];
    deepStrictEqual(shorter, (longer as unknown[]).slice(0, (shorter as unknown[]).length), `rows (one the start of the other): ${what}`);
  } else deepStrictEqual(wr, mr, `rows: ${what}`);
}

