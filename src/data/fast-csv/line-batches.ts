// The fast path with decoding in the workers. The main thread reads the input, runs the same input
// checks as the other paths (InputGuardState: over-long lines, a binary first line), finds the layout
// from the first record, and cuts the rest into LineBatches of `batchSize` rows (BlockSplitter: one
// memchr per line); each worker decodes its batch (decodeBlock) before its forward pass. On a 2-core
// machine this keeps both cores decoding instead of one, which is most of the work of a run.
//
// It gives the same rows, values, labels, line numbers, row errors and input errors as the streaming
// paths, with two differences that the caller must accept (or use the main-thread fast path):
//   - under onError 'skip' a bad row is dropped from its batch, which is then short (the streaming
//     paths refill it from the next rows), so later batches are cut at other rows;
//   - row counts are only known once the workers have decoded the rows, so `limit` is honoured here
//     only under onError 'fail' (where every row is good or the run fails), and "no valid rows" is
//     for the pipeline to detect at the end.
// A record whose quoted field runs across a line end cannot be split into lines; such an input must
// take the streaming fast path (`auto` only comes here when the first chunk holds no quote at all).
import { DataError } from '../../errors.js';
import { detectLayout } from '../row-parser.js';
import { defaultMaxRecordBytes, STDIN_NAME } from '../source-options.js';
import type { CsvLayout, LineBatch } from '../types.js';
import { BlockSplitter, decodeBlock, type BlockSpec } from './block.js';
import { InputFeed } from './input-feed.js';
import { InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { checkFastOptions, readFailure, type FastCsvOptions, type OpenedInput } from './source.js';

// Big reads: this path has no chunk-by-chunk behaviour to match, and per read (and per wake-up of the
// event loop) costs are what the main thread spends most of its time on here.
export const LINE_BATCH_READ_CHUNK = 1024 * 1024;
const READ_AHEAD = LINE_BATCH_READ_CHUNK;
const BYTES_PER_PROGRESS = 64 * 1024;
const NL = 0x0a;
const CR = 0x0d;

/** Where the first record is, once the head of the input holds it. */
interface Head {
  /** Offset of the first record's first byte in the head bytes (after a BOM and blank lines). */
  start: number;
  /** Offset just past its line end (or the end of the input). */
  end: number;
  line: number;
  fields: string[];
}

/** Finds the first non-blank line in `bytes`; null when more input is needed (and may come). */
function findHead(bytes: Buffer, ended: boolean): Head | 'empty' | null {
  let pos = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (pos === 0 && bytes.length < 3 && !ended) return null; // a BOM may still be arriving
  let line = 1;
  for (;;) {
    const nl = bytes.indexOf(NL, pos);
    if (nl === -1 && !ended) return null;
    const lineEnd = nl === -1 ? bytes.length : nl;
    const contentEnd = lineEnd > pos && bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (contentEnd > pos) {
      const fields = bytes.toString('utf8', pos, contentEnd).split(',');
      return { start: pos, end: nl === -1 ? bytes.length : nl + 1, line, fields };
    }
    if (nl === -1) return 'empty';
    line++;
    pos = nl + 1;
  }
}

/**
 * Line batches for the workers to decode. `opened` goes on from an input `auto` has already opened and
 * sniffed (its first chunk must hold no '"').
 */
export async function* fastCsvLineBatches(options: FastCsvOptions, opened?: OpenedInput): AsyncGenerator<LineBatch, void, undefined> {
  try {
    checkFastOptions(options);
  } catch (error) {
    opened?.feed.destroy();
    throw error;
  }
  const { features, signal, batchSize } = options;
  const file = options.input === '-' ? STDIN_NAME : options.input;
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(features);
  const limit = options.onError === 'fail' ? (options.limit ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
  if (signal?.aborted) {
    opened?.feed.destroy();
    return;
  }
  const feed = opened?.feed ?? new InputFeed(options.input, options.stdin, LINE_BATCH_READ_CHUNK);
  const guard = new InputGuardState(file, maxRecordBytes);
  const arrived: Buffer[] = [];
  let pendingBytes = 0;
  const sink = (chunk: Buffer) => {
    arrived.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= READ_AHEAD) feed.pause();
  };
  for (const chunk of [...(opened?.first ?? []), ...feed.setSink(sink)]) sink(chunk);
  const onAbort = () => feed.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });

  let head: Buffer[] = []; // the input up to the first record, while it is being looked for
  let spec: BlockSpec | null = null;
  let headerLine = 0;
  let splitter: BlockSplitter | null = null;
  let rows = 0;
  let reportedBytes = 0;
  const ready: LineBatch[] = [];
  const toLineBatch = (block: { index: number; firstLine: number; rows: number; bytes: Uint8Array; quoted: boolean }): LineBatch => {
    if (block.quoted) {
      // Rare in a numeric file: check here, where the error can name the file, that no quoted field
      // runs across a line end (decodeBlock throws a RangeError for that).
      try {
        decodeBlock(block.bytes, block.firstLine, block.index, spec!);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new DataError(file, block.firstLine, 'a quoted field runs across a line end, which decoding in the workers cannot read: run with --parser fast or --parser csv-parse');
      }
    }
    rows += block.rows;
    return { kind: 'lines', index: block.index, firstLine: block.firstLine, rows: block.rows, bytes: block.bytes, spec: spec! };
  };
  /** Checks and splits what arrived; completed batches go to `ready`. */
  const take = (chunk: Buffer, ended: boolean) => {
    if (chunk.length > 0) guard.check(chunk);
    if (splitter === null) {
      head.push(chunk);
      const bytes = head.length === 1 ? head[0] : Buffer.concat(head);
      head = [bytes];
      const found = findHead(bytes, ended);
      if (found === null) return;
      if (found === 'empty') throw new DataError(file, 0, msg.noRowsEmpty);
      const result = detectLayout(found.fields, features);
      if ('problem' in result) throw new DataError(file, found.line, result.problem);
      const layout: CsvLayout = result.layout;
      options.onLayout?.(layout);
      spec = { layout, features, classes: options.classes, table: options.table, maxRecordBytes };
      if (layout.hasHeader) headerLine = found.line;
      const first = layout.hasHeader ? found.end : found.start;
      splitter = new BlockSplitter({
        rowsPerBlock: Math.min(batchSize, limit),
        firstLine: layout.hasHeader ? found.line + 1 : found.line,
        maxLineBytes: maxRecordBytes,
        file,
      });
      head = [];
      chunk = bytes.subarray(first);
    }
    for (const block of splitter.push(chunk)) {
      ready.push(toLineBatch(block));
      if (rows >= limit) return;
      splitter.rowsPerBlock = Math.min(batchSize, limit - rows);
    }
  };

  try {
    for (;;) {
      for (let i = 0; i < arrived.length && rows < limit; i++) take(arrived[i], false);
      arrived.length = 0;
      if (feed.error !== null) {
        const failure = readFailure(feed.error, file);
        if (signal?.aborted && !(failure instanceof DataError)) return;
        throw failure;
      }
      if (options.onBytes && guard.bytes - reportedBytes >= BYTES_PER_PROGRESS) {
        reportedBytes = guard.bytes;
        options.onBytes(guard.bytes);
      }
      while (ready.length > 0) {
        yield ready.shift()!;
        if (signal?.aborted) return;
      }
      if (rows >= limit) return;
      if (feed.ended && arrived.length === 0) {
        take(Buffer.alloc(0), true);
        guard.flush();
        const last = (splitter as BlockSplitter | null)?.finish() ?? null;
        if (last) yield toLineBatch(last);
        options.onBytes?.(guard.bytes);
        if (spec === null) throw new DataError(file, 0, msg.noRowsEmpty);
        if (rows === 0) throw new DataError(file, 0, msg.noRowsHeaderOnly(headerLine));
        return;
      }
      if (signal?.aborted) return;
      pendingBytes = 0;
      feed.resume();
      await feed.next();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    feed.setSink(null);
    feed.destroy();
  }
}
