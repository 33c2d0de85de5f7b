// Groups validated rows into batches for the workers: rows are normalised through the 256-entry table
// straight into the batch's Float32Array as they arrive, so a row's pixels can be dropped right away.
import type { Batch, Row } from './types.js';

export interface BatcherOptions {
  /** Rows per batch; the last batch may be shorter. */
  batchSize: number;
  /** Pixels per row; every row must have exactly this many. */
  features: number;
  /** 256 entries: the float for each pixel byte (see normalizationTable). */
  table: Float32Array;
}

/** batchRows' option checks (programming errors: RangeError). */
export function checkBatcherOptions({ batchSize, features, table }: BatcherOptions): void {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchRows: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(features) || features < 1) throw new RangeError(`batchRows: features must be a positive integer, got ${features}`);
  if (!(table instanceof Float32Array) || table.length !== 256) throw new RangeError('batchRows: table must be a Float32Array of 256 entries');
}

/**
 * Yields batches of `batchSize` rows in input order, `index` counting from 0. Each batch owns fresh
 * buffers (x, labels, lines) that nothing else references, so x can be transferred to a worker.
 */
export async function* batchRows(rows: AsyncIterable<Row>, options: BatcherOptions): AsyncGenerator<Batch, void, undefined> {
  checkBatcherOptions(options);
  const { batchSize, features, table } = options;
  let index = 0;
  let filled = 0;
  // Allocated when a batch gets its first row, so no buffer is made that no batch will use.
  let x: Float32Array | null = null;
  let labels: Int16Array | null = null;
  let lines: Uint32Array | null = null;

  for await (const row of rows) {
    const pixels = row.pixels;
    if (pixels.length !== features) {
      throw new RangeError(`batchRows: the row at line ${row.line} has ${pixels.length} pixels, expected ${features}`);
    }
    if (x === null || labels === null || lines === null) {
      x = new Float32Array(batchSize * features);
      labels = new Int16Array(batchSize);
      lines = new Uint32Array(batchSize);
    }
    const base = filled * features;
    for (let j = 0; j < features; j++) x[base + j] = table[pixels[j]];
    labels[filled] = row.label ?? -1;
    lines[filled] = row.line;
    filled++;
    if (filled === batchSize) {
      const batch: Batch = { index: index++, rows: filled, features, x, labels, lines };
      // Forget the buffers before yielding: the consumer owns them now and may transfer (detach) x.
      x = labels = lines = null;
      filled = 0;
      yield batch;
    }
  }
  if (filled > 0 && x !== null && labels !== null && lines !== null) {
    // slice(), not subarray(): the short last batch gets buffers of exactly its size.
    yield { index, rows: filled, features, x: x.slice(0, filled * features), labels: labels.slice(0, filled), lines: lines.slice(0, filled) };
  }
}
