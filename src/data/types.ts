// The data path's vocabulary, in the order data flows:
//
//   chunk   bytes read from the input, in shared memory (chunks.ts)
//   block   whole raw lines of the input holding `rows` rows, as segments of chunks (framer.ts)
//   batch   decoded rows: normalised pixels, labels and line numbers (block-decoder.ts, batcher.ts)
//
// and after the pool, a scored batch (src/pool/task-types.ts).

/** One validated input row (the csv-parse path). `pixels` holds integers 0..255, one per feature. */
export interface Row {
  /** 1-based physical line number in the input (counting the header and blank lines). */
  line: number;
  /** The label 0..classes-1, or null when the input has no label column. */
  label: number | null;
  pixels: Uint8Array;
}

/** A row that failed validation (kept under `--on-error skip`, fatal under `fail`). */
export interface RowError {
  line: number;
  message: string;
  /** Of several input files, the row's (`line` is then the line within it); unset: the one input. */
  file?: string;
}

/** What the header, or else the first row, fixes about every row of the file. */
export interface CsvLayout {
  hasHeader: boolean;
  /** Number of fields every row must have. */
  fieldCount: number;
  /** Index of the label column, or -1 for unlabeled input. */
  labelIndex: number;
  /** Columns that are neither label nor pixels (--drop-columns), ascending; absent: none. */
  drop?: number[];
}

/** A stretch of one chunk: bytes [start, end) of a shared buffer. */
export interface Segment {
  buffer: SharedArrayBuffer;
  start: number;
  end: number;
}

/**
 * Whole lines holding `rows` non-blank lines from `firstLine` on, read in place (shared memory) by a worker; release()
 * returns the chunks.
 */
export interface Block {
  /** 0-based position in the input. */
  index: number;
  firstLine: number;
  rows: number;
  /** The block's bytes in order; their concatenation is whole lines. */
  segments: Segment[];
  release(): void;
}

/**
 * Decoded rows for a forward pass: x is rows x features normalised floats; a label (-1: none) and an input line per
 * row.
 */
export interface Batch {
  /** 0-based position in the input. */
  index: number;
  rows: number;
  features: number;
  x: Float32Array;
  labels: Int16Array;
  lines: Uint32Array;
}

/** How to decode a block: the file's layout and what a row must hold. Plain data: it crosses threads. */
export interface DecodeSpec {
  layout: CsvLayout;
  features: number;
  classes: number;
  /** 256 entries: the float for each pixel byte (normalize.ts). */
  table: Float32Array;
  /** Bound on one record's size in bytes. */
  maxRecordBytes: number;
}

/** A decoded block: good rows (null if none), bad rows, and a line that could not be read (ends the read). */
export interface DecodedBlock {
  batch: Batch | null;
  errors: RowError[];
  failure: RowError | null;
}

/** The input lines a block or batch covers, for messages ("lines 201-300"). */
export function describeLines(firstLine: number, lastLine: number): string {
  return lastLine > firstLine ? `lines ${firstLine}-${lastLine}` : `line ${firstLine}`;
}
