// Shared by the fast-csv tests (not a test file itself): run one input through a parser choice and
// record everything it reported, in a form that deepEqual can compare between the two paths.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { openBatchSource, type BatchSourceOptions, type ParserChoice } from '../../src/data/batch-source.js';
import type { Batch, CsvLayout, RowError } from '../../src/data/types.js';

export interface PlainBatch {
  index: number;
  rows: number;
  features: number;
  x: number[];
  labels: number[];
  lines: number[];
}

export interface ThrownError {
  name: string;
  code: unknown;
  message: string;
  file?: unknown;
  line?: unknown;
}

export interface Outcome {
  batches: PlainBatch[] | string[];
  rowErrors: RowError[];
  layouts: CsvLayout[];
  error: ThrownError | null;
  parser: 'fast' | 'csv-parse';
}

/** How the input reaches the source. */
export type Feeding =
  | { kind: 'file'; path: string }
  /** A stdin stream that has every chunk ready at once (Readable.from). */
  | { kind: 'stdin'; bytes: Uint8Array; cuts: number[] }
  /** A stdin stream that produces one chunk per event-loop turn (setImmediate). */
  | { kind: 'trickle'; bytes: Uint8Array; cuts: number[] };

/** Splits bytes at the given cut points (sorted, deduplicated, inside the range). */
export function chunksOf(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of [...points, bytes.length]) {
    if (at > from) chunks.push(Buffer.from(bytes.subarray(from, at)));
    from = at;
  }
  return chunks;
}

/** Cut points every `size` bytes. */
export const everyN = (length: number, size: number) => Array.from({ length: Math.ceil(length / size) }, (_, i) => i * size);

function streamFor(feeding: Feeding): { input: string; stdin?: Readable } {
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

export const plainBatch = (b: Batch): PlainBatch => ({
  index: b.index,
  rows: b.rows,
  features: b.features,
  x: Array.from(b.x),
  labels: Array.from(b.labels),
  lines: Array.from(b.lines),
});

/** A batch as a short hash of everything in it (for the big files). */
export function batchDigest(b: Batch): string {
  const hash = createHash('sha256');
  hash.update(`${b.index}/${b.rows}/${b.features}/${b.x.length}/${b.labels.length}/${b.lines.length};`);
  for (const array of [b.x, b.labels, b.lines]) hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return hash.digest('hex').slice(0, 24);
}

export function thrown(error: unknown): ThrownError {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; file?: unknown; line?: unknown };
  return { name: String(e?.name), code: e?.code, message: String(e?.message), file: e?.file, line: e?.line };
}

export type RunOptions = Omit<BatchSourceOptions, 'input' | 'stdin' | 'parser' | 'onRowError' | 'onLayout'>;

/** Runs the whole source and keeps everything it reported. */
export async function runSource(parser: ParserChoice, feeding: Feeding, options: RunOptions, digest = false): Promise<Outcome> {
  const rowErrors: RowError[] = [];
  const layouts: CsvLayout[] = [];
  const batches: Array<PlainBatch | string> = [];
  let error: ThrownError | null = null;
  const source = openBatchSource({
    ...options,
    ...streamFor(feeding),
    parser,
    onRowError: (e) => rowErrors.push({ ...e }),
    onLayout: (l) => layouts.push({ ...l }),
  });
  try {
    for await (const batch of source.batches) batches.push(digest ? batchDigest(batch) : plainBatch(batch));
  } catch (e) {
    error = thrown(e);
  }
  return { batches: batches as PlainBatch[] | string[], rowErrors, layouts, error, parser: await source.parser };
}
