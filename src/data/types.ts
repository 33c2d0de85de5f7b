// Shapes that flow through the data stages: source -> normalize -> batch.

/** One validated input row. `pixels` holds integers 0..255, one per input feature. */
export interface Row {
  /** 1-based physical line number in the input file (counting the header and blank lines). */
  line: number;
  /** The label 0..classes-1, or null when the input has no label column. */
  label: number | null;
  pixels: Uint8Array;
}

/** A row that failed validation (kept under `--on-error skip`, fatal under `fail`). */
export interface RowError {
  line: number;
  message: string;
}

/** What the CSV source learnt about the file's layout from its header or first row. */
export interface CsvLayout {
  hasHeader: boolean;
  /** Number of fields every row must have. */
  fieldCount: number;
  /** Index of the label column, or -1 for unlabeled input. */
  labelIndex: number;
}

/**
 * A batch ready for a worker: one contiguous Float32Array (rows x features), normalised,
 * plus labels and line numbers that stay on the main thread.
 */
export interface Batch {
  /** 0-based position of the batch in the input. */
  index: number;
  rows: number;
  features: number;
  /** rows * features floats; a fresh buffer per batch, so it can be transferred to a worker. */
  x: Float32Array;
  /** Label per row, -1 where the input has no labels. */
  labels: Int16Array;
  /** 1-based input line per row. */
  lines: Uint32Array;
}

/**
 * Raw CSV lines for a worker to decode, when decoding runs in the workers (the fast path's other
 * placement): whole lines of the input holding `rows` non-blank lines, the first on `firstLine`.
 */
export interface LineBatch {
  kind: 'lines';
  /** 0-based position of the batch in the input. */
  index: number;
  firstLine: number;
  /** Non-blank lines in the block: the rows it holds, good or bad. */
  rows: number;
  /** A buffer of its own, so it can be transferred to a worker. */
  bytes: Uint8Array;
  /** How to decode it: the file's layout, the normalisation table, limits. */
  spec: import('./fast-csv/block.js').BlockSpec;
}

/** What the pipeline hands to the pool: a decoded Batch, or lines for the worker to decode. */
export type WorkItem = Batch | LineBatch;

export const isLineBatch = (item: WorkItem): item is LineBatch => (item as LineBatch).kind === 'lines';

/** The input lines a work item covers, for messages ("lines 201-300"). */
export function describeLines(item: WorkItem): string {
  if (isLineBatch(item)) {
    // Lines in the block: its line ends, plus a last line without one.
    let ends = 0;
    for (let at = item.bytes.indexOf(0x0a); at !== -1; at = item.bytes.indexOf(0x0a, at + 1)) ends++;
    const last = item.firstLine + ends - (item.bytes.length > 0 && item.bytes[item.bytes.length - 1] === 0x0a ? 1 : 0);
    return `lines ${item.firstLine}-${Math.max(item.firstLine, last)}`;
  }
  return item.rows > 0 ? `lines ${item.lines[0]}-${item.lines[item.rows - 1]}` : 'no lines';
}
