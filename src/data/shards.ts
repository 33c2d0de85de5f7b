// Cutting a CSV file into n shards that n runs (or queue jobs) score independently, and finding where a
// shard's lines are. The cut is by bytes, so it costs nothing however large the file:
//
//   raw boundaries  b_0 = 0, b_k = dataStart + floor(k (size - dataStart) / n), b_n = size
//   shard k         the lines that START in [b_{k-1}, b_k)  (a line belongs to the shard in which it starts)
//
// where dataStart is the first data line's offset (after a BOM, blank lines and the header). Every line
// starts in exactly one raw range, so the n shards hold every row exactly once, whoever runs them and in
// whatever order. The header and layout always come from the file's first record (readHead), whichever
// shard runs. A shard's bytes run from the first line start at or after b_{k-1} to the first at or after
// b_k; its run reads from the first (positional reads) and the framer stops after the last line that
// starts before b_k (FramerOptions.endAt).
import { open, type FileHandle } from 'node:fs/promises';
import { DataError } from '../errors.js';
import { dataStartOf, firstRecordOrFail } from './head.js';
import { isGzip } from './input-bytes.js';
import { countNewlines, InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { detectLayout } from './row-parser.js';
import type { CsvLayout } from './types.js';

const NL = 0x0a;
const QUOTE = 0x22;
/** What the head read takes at first (enough for the first record and the quote sniff, usually). */
const HEAD_BYTES = 256 * 1024;
/** The quote sniff looks this far, like openSource's for --parser auto. */
const SNIFF_BYTES = 64 * 1024;

/** "i/n" as the command line gives it: shard i (1-based) of n. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** At most this many shards: more is a mistake, not a plan (each shard is a run or a queue job). */
export const MAX_SHARDS = 100_000;

/** Parses "i/n" (plain decimal integers, 1 <= i <= n <= MAX_SHARDS); a problem is returned as a message. */
export function parseShardSpec(text: string): ShardSpec | { problem: string } {
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text);
  if (!match) return { problem: `must be i/n, shard i of n (1-based), like 3/12` };
  const [index, count] = [Number(match[1]), Number(match[2])];
  if (count < 1 || count > MAX_SHARDS) return { problem: `n must be 1..${MAX_SHARDS}` };
  if (index < 1 || index > count) return { problem: `i must be 1..${count}` };
  return { index, count };
}

/** What the file's first record fixes for every shard. */
export interface FileHead {
  layout: CsvLayout;
  /** Offset of the first byte after the header (or of the first record, when it is data). */
  dataStart: number;
  /** Line number of the line that starts at dataStart. */
  dataFirstLine: number;
  /** A '"' after the first record in the first 64 KiB: --parser auto would take csv-parse. */
  quoted: boolean;
}

/** Reads the file's first record (as the framer does: input guard, BOM, blank lines, csv-parse). */
export async function readHead(
  file: FileHandle,
  name: string,
  size: number,
  features: number,
  maxRecordBytes: number,
): Promise<FileHead> {
  for (let want = Math.min(size, Math.max(HEAD_BYTES, 2 * maxRecordBytes)); ; want = Math.min(size, 2 * want)) {
    const bytes = await readAt(file, 0, want);
    if (isGzip(bytes)) throw new DataError(name, 0, msg.gzipShardProblem);
    const ended = bytes.length >= size;
    const guard = new InputGuardState(name, maxRecordBytes);
    const passed = Buffer.concat([...guard.pass(bytes), ...(ended ? guard.end() : [])]);
    const first = firstRecordOrFail(passed, ended, guard.failure, name, maxRecordBytes);
    if (first === null) continue; // blank lines before the first record: read more
    const found = detectLayout(first.fields, features);
    if ('problem' in found) throw new DataError(name, first.line, found.problem);
    const data = dataStartOf(first, found.layout.hasHeader);
    return {
      layout: found.layout,
      dataStart: data.offset,
      dataFirstLine: data.line,
      quoted: passed.subarray(0, SNIFF_BYTES).indexOf(QUOTE, first.end) !== -1,
    };
  }
}

/** Shard `index`'s raw byte range [start, end) of a file of `size` bytes whose data starts at dataStart. */
export function shardRange(
  size: number,
  dataStart: number,
  { index, count }: ShardSpec,
): { start: number; end: number } {
  const boundary = (k: number) =>
    k === 0 ? 0 : k === count ? size : dataStart + Math.floor((k * (size - dataStart)) / count);
  return { start: boundary(index - 1), end: boundary(index) };
}

/**
 * Where a shard run reads: from `start`, numbering lines from `firstLine`, stopping at a line start >= start + endAt.
 */
export interface ShardRead {
  start: number;
  firstLine: number;
  /** Relative to `start`; <= 0: the shard holds no line. */
  endAt: number;
}

/**
 * The read of the shard with raw range [rawStart, rawEnd): shard 1 from the data's first line, numbered
 * as in the file; any other from its first line start, numbered from 1 (its runs cannot know the lines
 * before it without reading them: a merge renumbers, see src/stats/merge.ts).
 */
export async function shardRead(
  file: FileHandle,
  name: string,
  head: FileHead,
  rawStart: number,
  rawEnd: number,
  maxRecordBytes: number,
): Promise<ShardRead> {
  if (rawStart === 0) return { start: head.dataStart, firstLine: head.dataFirstLine, endAt: rawEnd - head.dataStart };
  // The data's first line can start right after a BOM, where no '\n' marks it: a shard cut there starts there.
  if (rawStart <= head.dataStart) return { start: head.dataStart, firstLine: 1, endAt: rawEnd - head.dataStart };
  const start = await lineStartAtOrAfter(file, name, rawStart, maxRecordBytes);
  return { start, firstLine: 1, endAt: rawEnd - start };
}

/**
 * The first line start at or after `at` (> 0): after the first '\n' at or after at - 1, or the end of the
 * file. A line is at most maxRecordBytes long, so a longer search means the line through `at` is too long
 * (the shard it starts in reports it at its line; this one cannot know where its first line starts).
 */
async function lineStartAtOrAfter(file: FileHandle, name: string, at: number, maxRecordBytes: number): Promise<number> {
  const bytes = await readAt(file, at - 1, maxRecordBytes + 2);
  const nl = bytes.indexOf(NL);
  if (nl !== -1) return at + nl;
  if (bytes.length < maxRecordBytes + 2) return at - 1 + bytes.length;
  throw new DataError(
    name,
    0,
    `the line through byte ${at - 1} is longer than the limit of ${maxRecordBytes} bytes (maxRecordBytes); is this a ` +
      `CSV file of images?`,
  );
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Opens the file for a shard's planning reads; the caller closes it. */
export const openForShards = (path: string): Promise<FileHandle> => open(path, 'r');

/** The file's head and the read of one shard of it (raw range [start, end)), in one open of the file. */
export async function planShardRead(
  path: string,
  name: string,
  range: { start: number; end: number },
  features: number,
  maxRecordBytes: number,
): Promise<{ head: FileHead; read: ShardRead }> {
  const file = await openForShards(path);
  try {
    const { size } = await file.stat();
    const head = await readHead(file, name, size, features, maxRecordBytes);
    return { head, read: await shardRead(file, name, head, range.start, Math.min(range.end, size), maxRecordBytes) };
  } finally {
    await file.close();
  }
}

/** Shard `spec` of the file at `path`: its raw byte range, cut by the file's size and its data's start. */
export async function shardSpan(
  path: string,
  spec: ShardSpec,
  features: number,
  maxRecordBytes: number,
): Promise<ShardSpec & { byteStart: number; byteEnd: number }> {
  const file = await openForShards(path);
  try {
    const { size } = await file.stat();
    const head = await readHead(file, path, size, features, maxRecordBytes);
    const { start, end } = shardRange(size, head.dataStart, spec);
    return { ...spec, byteStart: start, byteEnd: end };
  } finally {
    await file.close();
  }
}

/**
 * The absolute input lines of the shard with raw range [byteStart, byteEnd): the lines that start in it,
 * found by counting line ends from the start of the file (a read of up to byteEnd bytes: for messages
 * about a failed shard, not for every run). null when no line starts in it.
 */
export async function shardLines(
  path: string,
  byteStart: number,
  byteEnd: number,
): Promise<{ first: number; last: number } | null> {
  const file = await openForShards(path);
  try {
    const { size } = await file.stat();
    // Lines starting below x: the one at 0, and one after each '\n' at p < x - 1.
    const startsBelow = async (x: number, from: { position: number; count: number }) => {
      const buffer = Buffer.alloc(1 << 20);
      while (from.position < x - 1) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, x - 1 - from.position), from.position);
        if (bytesRead === 0) break;
        from.count += countNewlines(buffer, 0, bytesRead);
        from.position += bytesRead;
      }
      return (x > 0 && size > 0 ? 1 : 0) + from.count;
    };
    const scan = { position: 0, count: 0 };
    const before = await startsBelow(Math.min(byteStart, size), scan);
    const through = await startsBelow(Math.min(byteEnd, size), scan);
    return through > before ? { first: before + 1, last: through } : null;
  } finally {
    await file.close();
  }
}

/** How a shard's input is named in its messages: its line numbers count from its own first line. */
export const shardInputName = (file: string, span: { index: number; count: number }, start: number): string =>
  span.index === 1 ? file : `${file} [shard ${span.index}/${span.count}, lines counted from byte ${start}]`;

/** Quoted rows go to csv-parse, which reads records across lines: such a file cannot be cut at line starts. */
export const quotedShardProblem =
  'cannot be cut into shards: it has quoted fields (which --parser auto reads with csv-parse, across lines); score ' +
  'it whole';
