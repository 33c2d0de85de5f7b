// Exact batches (batchSize rows, but the last): batchRows from rows (csv-parse path), rebatch from decoded
// blocks less their bad rows. Pixels go into pooled shared-memory buffers a worker reads in place.
import { DataError } from '../errors.js';
import type { LineMap } from './line-map.js';
import type { Batch, DecodedBlock, Row, RowError } from './types.js';

/** A batch whose pixel buffer goes back to its pool on release(). */
export interface PooledBatch extends Batch {
  release(): void;
}

interface BatcherOptions {
  /** Rows per batch; the last batch may be shorter. */
  batchSize: number;
  /** Pixels per row; every row must have exactly this many. */
  features: number;
}

/** Fills batches row by row; hands out each one as it fills. */
class BatchFiller {
  /** Pixel buffers of released batches, for reuse. */
  private readonly free: Float32Array[] = [];
  private x: Float32Array | null = null;
  private labels = new Int16Array(0);
  private lines = new Uint32Array(0);
  private filled = 0;
  private index = 0;

  constructor(private readonly options: BatcherOptions) {
    const { batchSize, features } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isSafeInteger(features) || features < 1)
      throw new RangeError(`features must be a positive integer, got ${features}`);
  }

  /** Room for one more row: where its pixels go (x[at .. at + features)). */
  slot(label: number, line: number): { x: Float32Array; at: number } {
    const x = this.open();
    this.labels[this.filled] = label;
    this.lines[this.filled] = line;
    return { x, at: this.filled++ * this.options.features };
  }

  /** Rows that still fit. */
  get room(): number {
    return this.options.batchSize - this.filled;
  }

  /** Copies `count` decoded rows from `from` on (count <= room). */
  copy(batch: Batch, from: number, count: number): void {
    const x = this.open();
    const { features } = this.options;
    x.set(batch.x.subarray(from * features, (from + count) * features), this.filled * features);
    this.labels.set(batch.labels.subarray(from, from + count), this.filled);
    this.lines.set(batch.lines.subarray(from, from + count), this.filled);
    this.filled += count;
  }

  private open(): Float32Array {
    if (this.x === null) {
      const { batchSize, features } = this.options;
      this.x = this.free.pop() ?? new Float32Array(new SharedArrayBuffer(batchSize * features * 4));
      this.labels = new Int16Array(batchSize);
      this.lines = new Uint32Array(batchSize);
    }
    return this.x;
  }

  get full(): boolean {
    return this.filled === this.options.batchSize;
  }

  /** The batch so far (null if empty); filling starts again. */
  take(): PooledBatch | null {
    const x = this.x;
    if (x === null || this.filled === 0) return null;
    const { features } = this.options;
    const rows = this.filled;
    const batch: PooledBatch = {
      index: this.index++,
      rows,
      features,
      x: rows * features === x.length ? x : x.subarray(0, rows * features),
      labels: this.labels.subarray(0, rows),
      lines: this.lines.subarray(0, rows),
      release: () => {
        if (this.free.length < 16) this.free.push(x);
      },
    };
    this.x = null;
    this.filled = 0;
    return batch;
  }
}

/** Batches of rows, normalised through the 256-entry `table` as they arrive. */
export async function* batchRows(
  rows: AsyncIterable<Row>,
  options: BatcherOptions & { table: Float32Array },
): AsyncGenerator<PooledBatch, void, undefined> {
  const { features, table } = options;
  if (!(table instanceof Float32Array) || table.length !== 256)
    throw new RangeError('table must be a Float32Array of 256 entries');
  const filler = new BatchFiller(options);
  for await (const row of rows) {
    if (row.pixels.length !== features)
      throw new RangeError(`the row at line ${row.line} has ${row.pixels.length} pixels, expected ${features}`);
    const { x, at } = filler.slot(row.label ?? -1, row.line);
    for (let j = 0; j < features; j++) x[at + j] = table[row.pixels[j]];
    if (filler.full) yield filler.take()!;
  }
  const last = filler.take();
  if (last) yield last;
}

interface RebatchOptions extends BatcherOptions {
  /** Stop after this many good rows. */
  limit?: number;
  /** The input's name, for the DataError of a bad row (under 'fail') or of a line that cannot be read. */
  file: string;
  /** Several input files: the files and lines that the rows' (run) lines are. */
  lineMap?: LineMap;
  onError: 'fail' | 'skip';
  /** Under 'skip': every bad row, in input order. */
  onRowError?: (error: RowError) => void;
}

/**
 * Exact batches of decoded blocks' good rows, per group the batches it completed. A bad row under 'fail'
 * or an unreadable line throws a DataError; nothing after the limit-th row counts.
 */
export async function* rebatch(
  groups: AsyncIterable<Iterable<DecodedBlock>>,
  options: RebatchOptions,
): AsyncGenerator<PooledBatch[], void, undefined> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const filler = new BatchFiller(options);
  let rows = 0;
  for await (const group of groups) {
    const done: PooledBatch[] = [];
    for (const { batch, errors, failure } of group) {
      const taken = batch === null ? 0 : Math.min(batch.rows, limit - rows);
      // With the limit reached in this block, what comes after its last row taken does not count.
      const end =
        batch !== null && taken > 0 && rows + taken >= limit ? batch.lines[taken - 1] : Number.POSITIVE_INFINITY;
      for (const error of errors) {
        if (error.line > end) break;
        if (options.onError === 'fail') throw lineError(options, error);
        options.onRowError?.(error);
      }
      for (let i = 0; i < taken; ) {
        const count = Math.min(taken - i, filler.room);
        filler.copy(batch!, i, count);
        i += count;
        if (filler.full) done.push(filler.take()!);
      }
      rows += taken;
      if (failure !== null && failure.line < end) {
        if (done.length > 0) yield done;
        throw lineError(options, failure);
      }
      if (rows >= limit) break;
    }
    if (done.length > 0) yield done;
    if (rows >= limit) break;
  }
  const last = filler.take();
  if (last) yield [last];
}

/** The DataError of a bad row or an unreadable line, naming its file and line. */
const lineError = (options: RebatchOptions, { line, message }: RowError): DataError =>
  options.lineMap?.error(line, message) ?? new DataError(options.file, line, message);
