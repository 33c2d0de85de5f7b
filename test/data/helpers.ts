// Shared by the test/data tests (not a test file itself): temp folders and collecting csvRows output.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { csvRows } from '../../src/data/csv-source.js';
import type { CsvSourceOptions } from '../../src/data/source-options.js';
import type { CsvLayout, Row, RowError } from '../../src/data/types.js';

/** A fresh temp folder; `cleanup` removes it. */
export async function tempDir(prefix = 'nnpipe-data-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let counter = 0;
/** Writes `content` to a new file in `dir` and returns its path. */
export async function writeTemp(
  dir: string,
  content: string | Uint8Array,
  name = `input-${++counter}.csv`,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** A Readable standing in for stdin, fed in small chunks so records straddle chunk boundaries. */
export function stdinOf(content: string | Uint8Array, chunkSize = 7): Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

export interface Collected {
  rows: Row[];
  errors: RowError[];
  layouts: CsvLayout[];
}

type CollectOptions = Omit<CsvSourceOptions, 'onRowError' | 'onLayout' | 'features' | 'classes' | 'onError'> &
  Partial<Pick<CsvSourceOptions, 'features' | 'classes' | 'onError'>>;

/** Runs csvRows to the end (defaults: 4 features, 10 classes, onError 'fail') and keeps everything it reported. */
export async function collect(options: CollectOptions): Promise<Collected> {
  const out: Collected = { rows: [], errors: [], layouts: [] };
  for await (const row of csvRows({
    features: 4,
    classes: 10,
    onError: 'fail',
    ...options,
    onRowError: (e) => out.errors.push(e),
    onLayout: (l) => out.layouts.push(l),
  })) {
    out.rows.push(row);
  }
  return out;
}

/** Rows as plain data, easy to compare with deepEqual. */
export const plain = (rows: Row[]) => rows.map((r) => ({ line: r.line, label: r.label, pixels: Array.from(r.pixels) }));

/** A file of `bytes` of `fill` between `head` and `tail`, written in 1 MiB blocks (a huge line without holding it). */
export async function writeBig(path: string, head: string, fill: string, bytes: number, tail = ''): Promise<string> {
  const out = createWriteStream(path);
  out.write(head);
  const block = fill.repeat(Math.ceil((1 << 20) / fill.length));
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end(tail);
  await finished(out);
  return path;
}

/** The message of a line past the record limit. */
export const tooLong = (limit: number) =>
  `line is longer than the limit of ${limit} bytes (maxRecordBytes); is this a CSV file of images?`;
