// Shared by the data-path tests (not a test file itself): run one input through a parser choice the way
// the pipeline does when it decodes on this thread (openSource, then batchesHere: the framer's blocks
// decoded and cut into exact batches, or csv-parse's batches), and record everything it reported in a
// form that deepEqual can compare between the paths.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { batchesHere, openSource, type ParserChoice, type SourceOptions } from '../../src/data/source.js';
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
  layout: CsvLayout | null;
  error: ThrownError | null;
  parser: 'fast' | 'csv-parse' | null;
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
export const everyN = (length: number, size: number) =>
  Array.from({ length: Math.ceil(length / size) }, (_, i) => i * size);

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
  for (const array of [b.x, b.labels, b.lines])
    hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return hash.digest('hex').slice(0, 24);
}

export function thrown(error: unknown): ThrownError {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; file?: unknown; line?: unknown };
  return { name: String(e?.name), code: e?.code, message: String(e?.message), file: e?.file, line: e?.line };
}

export type RunOptions = Omit<SourceOptions, 'input' | 'stdin' | 'parser' | 'onRowError' | 'onLayout'>;

/** Runs the whole source and keeps everything it reported. */
export async function runSource(
  parser: ParserChoice,
  feeding: Feeding,
  options: RunOptions,
  digest = false,
): Promise<Outcome> {
  const rowErrors: RowError[] = [];
  const batches: Array<PlainBatch | string> = [];
  let error: ThrownError | null = null;
  let layout: CsvLayout | null = null;
  let used: Outcome['parser'] = null;
  try {
    const sourceOptions: SourceOptions = {
      ...options,
      ...streamFor(feeding),
      parser,
      onRowError: (e) => rowErrors.push({ ...e }),
    };
    const source = await openSource(sourceOptions);
    used = source.parser;
    try {
      for await (const group of batchesHere(source, sourceOptions)) {
        for (const batch of group) {
          batches.push(digest ? batchDigest(batch) : plainBatch(batch));
          batch.release();
        }
      }
    } finally {
      layout = source.layout;
    }
  } catch (e) {
    error = thrown(e);
  }
  return {
    batches: batches as PlainBatch[] | string[],
    rowErrors,
    layout: layout ? { ...layout } : null,
    error,
    parser: used,
  };
}

/**
 * The framer's outcome agrees with csv-parse's: the same in every respect when csv-parse completes;
 * when it fails, the same error, and what csv-parse delivered before it is a prefix of what the framer
 * delivered (csv-parse may stop reading earlier: how far its stream stages have read when an error ends
 * the read depends on chunking and timing; the framer delivers every complete batch before the error).
 * With a limit, csv-parse may also meet an error just after the limit-th row that the framer, stopping
 * there, never reads.
 */
export function agreement(fast: Outcome, oracle: Outcome, limit?: number): string | null {
  const json = (value: unknown) => JSON.stringify(value);
  const same = (a: unknown, b: unknown, what: string) =>
    json(a) === json(b) ? null : `${what} differ:\n  fast      ${json(a)}\n  csv-parse ${json(b)}`;
  const prefix = (a: unknown[], b: unknown[], what: string) =>
    b.length <= a.length && json(a.slice(0, b.length)) === json(b)
      ? null
      : `${what}: csv-parse's are not a prefix of the framer's:\n  fast      ${json(a)}\n  csv-parse ${json(b)}`;
  if (oracle.error === null) {
    return (
      same(fast.error, null, 'errors') ??
      same(fast.batches, oracle.batches, 'batches') ??
      same(fast.rowErrors, oracle.rowErrors, 'row errors') ??
      same(fast.layout, oracle.layout, 'layouts')
    );
  }
  if (fast.error === null && limit !== undefined) {
    const rows = (fast.batches as PlainBatch[]).reduce((n, b) => n + b.rows, 0);
    if (rows !== limit)
      return `the framer completed with ${rows} rows (limit ${limit}) where csv-parse failed: ${oracle.error.message}`;
    return prefix(fast.batches, oracle.batches, 'batches') ?? prefix(fast.rowErrors, oracle.rowErrors, 'row errors');
  }
  return (
    same(fast.error, oracle.error, 'errors') ??
    prefix(fast.batches, oracle.batches, 'batches') ??
    prefix(fast.rowErrors, oracle.rowErrors, 'row errors')
  );
}
