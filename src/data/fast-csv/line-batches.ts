// The fast path with decoding in the workers. The main thread reads the input, runs the same input
// checks as the other paths (InputGuardState: over-long lines, a binary first line), reads the first
// record as csv-parse does (RecordScanner: a BOM, blank lines, quoted names, a header over two lines)
// to find the layout, and cuts the rest into LineBatches of `batchSize` rows (BlockSplitter: one memchr
// per line); each worker decodes its batch (decodeBlock) before its forward pass. On a 2-core machine
// this keeps both cores decoding instead of one, which is most of the work of a run.
//
// It gives the same rows, values, labels, line numbers, row errors and input errors as the streaming
// paths (test/data/line-batches*.test.ts), with two differences that the caller must accept (or use
// the main-thread fast path):
//   - under onError 'skip' a bad row is dropped from its batch, which is then short (the streaming
//     paths refill it from the next rows), so later batches are cut at other rows; and so, when an
//     error that ends the read (below) comes after data rows, which good rows were scored before it;
//   - row counts are only known once the workers have decoded the rows, so `limit` is honoured here
//     only under onError 'fail' (where every row is good or the run fails; under 'skip' it is refused),
//     and "no valid rows" is for the consumer to detect at the end.
// A record whose quoted field runs across a line end cannot be split into lines: the rows before it
// are delivered (under 'fail' only a bad one among them), then this path fails with a DataError
// saying so (`auto` only comes here when the first chunk holds no quote at all; `--decode main` reads
// such records).
//
// What is reported when follows the main-thread fast path (source.ts): chunks are checked and split as
// they arrive, and what they complete is delivered once the input has nothing more to give right away.
// A record counts as complete only once csv-parse would have looked at its line end (2 more bytes, or
// the end of the input), and an error that ends the read (InputGuard's, csv-parse's, a read error) wins
// over what the same stretch of input completed. Row errors cannot be known here; so when such an
// error comes, the complete lines delivered before it that are in no delivered batch yet (the
// unfinished batch's) are decoded here, and their bad rows go out first, as a batch of only those rows
// (its other lines blank, so line numbers stay), as the main-thread path reported them first. As on
// that path, how far a file has been read when such an error comes depends on the read size (64 KiB
// there, LINE_BATCH_READ_CHUNK here): past the first 64 KiB, the rows before the error may differ,
// not the error.
//
// Memory: reads of LINE_BATCH_READ_CHUNK with up to 4 in flight (file-stream.ts), at most READ_AHEAD
// bytes taken and not yet split (then the input is paused), the unfinished batch's lines (views of the
// chunks), and the batches split from one stretch of input.
import { DataError } from '../../errors.js';
import { detectLayout } from '../row-parser.js';
import { defaultMaxRecordBytes, STDIN_NAME } from '../source-options.js';
import type { CsvLayout, LineBatch } from '../types.js';
import { BlockSplitter, decodeBlock, type BlockSpec, type LineBlock } from './block.js';
import { InputFeed } from './input-feed.js';
import { countNewlines, InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { RecordScanner, ScanError, ScanStatus } from './record-scanner.js';
import { checkFastOptions, readFailure, type FastCsvOptions, type OpenedInput } from './source.js';

// Bigger reads than the main-thread path's 64 KiB: this path has no chunk-by-chunk behaviour to match,
// and per read (and per wake-up of the event loop) costs are what the main thread spends most of its
// time on here. Not bigger: with 4 reads in flight, this bounds how far a file is read ahead (~2 MiB).
export const LINE_BATCH_READ_CHUNK = 256 * 1024;
const READ_AHEAD = LINE_BATCH_READ_CHUNK;
const BYTES_PER_PROGRESS = 64 * 1024;
const NL = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const BLANK_LINE = Buffer.from('\n');

export const quotedAcrossLines =
  'a quoted field runs across a line end, which decoding in the workers cannot read: run with --decode main (or --parser csv-parse)';

/** Split work waiting to be delivered, in input order. */
interface Pending {
  /** A batch for the workers; null for the failure below. */
  batch: LineBatch | null;
  /** The record on this batch's first line runs across a line end: delivered by throwing it. */
  failure: DataError | null;
  /** Its bytes' place in the data after the first record (offsets of what the splitter was given). */
  start: number;
  end: number;
  /** The input's bytes from `start` to `end` (for a batch of only bad rows, not the batch's bytes). */
  bytes: Uint8Array;
  firstLine: number;
  index: number;
}

/** A Buffer view of the bytes (no copy): its indexOf is a memchr, a Uint8Array's a loop. */
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** Bytes copied into one fresh buffer of their own (transferable: not a slice of Node's buffer pool). */
function concatFresh(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    if (at >= length) break;
    const take = Math.min(part.length, length - at);
    out.set(take === part.length ? part : part.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** Where a record runs across a line end; `complete`: it also ends within the bytes looked at. */
interface Across {
  line: number;
  offset: number;
  complete: boolean;
}

/**
 * The first record in `bytes` (from `pos`, a record start) that runs across a line end, as csv-parse
 * reads the lines; null if there is none. A record csv-parse fails on (a quote not closed by the end
 * of the bytes, or too long) counts as one that does not end there.
 */
function recordAcrossLines(bytes: Uint8Array, pos: number, line: number, maxRecordBytes: number): Across | null {
  const scanner = new RecordScanner(maxRecordBytes);
  for (;;) {
    // The record's first byte: after the blank lines the scanner skips.
    let start = pos;
    for (;;) {
      if (bytes[start] === NL) start++;
      else if (bytes[start] === CR && bytes[start + 1] === NL) start += 2;
      else break;
    }
    let status: ScanStatus;
    try {
      status = scanner.scan(bytes, pos, true);
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      return { line: line + scanner.blankLines, offset: start, complete: false };
    }
    if (status !== ScanStatus.Record) return null;
    const at = line + scanner.blankLines;
    if (scanner.newlines > 0) return { line: at, offset: start, complete: true };
    line = at + 1;
    pos = scanner.pos;
    scanner.nextRecord();
  }
}

/**
 * Line batches for the workers to decode. `opened` goes on from an input `auto` has already opened and
 * sniffed (its first chunk must hold no '"').
 */
export async function* fastCsvLineBatches(options: FastCsvOptions, opened?: OpenedInput): AsyncGenerator<LineBatch, void, undefined> {
  try {
    checkFastOptions(options);
    if (options.onError === 'skip' && options.limit !== undefined) {
      throw new RangeError("fastCsvLineBatches: limit is only supported under onError 'fail' (decode on the main thread for limit under 'skip')");
    }
  } catch (error) {
    opened?.feed.destroy();
    throw error;
  }
  const { features, signal, batchSize } = options;
  const file = options.input === '-' ? STDIN_NAME : options.input;
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(features);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (signal?.aborted) {
    opened?.feed.destroy();
    return;
  }
  const feed = opened?.feed ?? new InputFeed(options.input, options.stdin, LINE_BATCH_READ_CHUNK);
  const guard = new InputGuardState(file, maxRecordBytes);
  // Chunks are queued as they arrive and split when this generator runs (see source.ts).
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

  // ---- the first record --------------------------------------------------------------------------------
  /** The input from where the first record starts (or from where blank lines are still being skipped). */
  let head: Buffer = EMPTY;
  let bomChecked = false;
  /** Line of head[0]. */
  let headLine = 1;
  /** Reads the first record once its first byte is known (it keeps its state between chunks). */
  let scanner: RecordScanner | null = null;
  let layoutToReport: CsvLayout | null = null;
  /** The first record fits no layout: reported when delivered (an error ending the read wins). */
  let layoutProblem: DataError | null = null;
  let spec: BlockSpec | null = null;
  let headerLine = 0;

  // ---- splitting -------------------------------------------------------------------------------------
  let splitter: BlockSplitter | null = null;
  /** The last bytes, held back until csv-parse would have looked at them (see feedSplitter). */
  let held: Buffer = EMPTY;
  /** The last byte given to the splitter (-1: none yet, or what came before it was no CR). */
  let lastGiven = -1;
  /** Bytes given to the splitter so far; the offsets below count these. */
  let given = 0;
  /** What the splitter holds (the bytes given since its last cut), as views of the same chunks. */
  let tail: Buffer[] = [];
  let tailFrom = 0;
  /** Offset of the tail's first byte (= the end of the last batch cut) and its input line. */
  let tailStart = 0;
  let tailLine = 0;
  /** Offset just past the last '\n' given to the splitter. */
  let lastLineEnd = 0;
  /** Offset up to which complete lines have been delivered (at the end of the last delivery). */
  let delivered = 0;
  let rows = 0;
  /** Index of the next batch the splitter cuts. */
  let nextIndex = 0;
  /** Set once the limit is reached, or a record across lines was found: nothing more is split. */
  let splitEnd = -1;
  const ready: Pending[] = [];
  /** An error that ends the read (it wins over what the same stretch of input completed). */
  let fatal: unknown = null;

  const toBatch = (block: LineBlock): LineBatch => ({
    kind: 'lines',
    index: block.index,
    firstLine: block.firstLine,
    rows: block.rows,
    bytes: block.bytes,
    spec: spec!,
  });

  /** The first `count` rows of `block`, as a block of their own (a fresh buffer). */
  const firstRows = (block: LineBlock, count: number): LineBlock => {
    const cutter = new BlockSplitter({ rowsPerBlock: count, firstLine: block.firstLine, maxLineBytes: Number.MAX_SAFE_INTEGER, file, firstIndex: block.index });
    return cutter.push(asBuffer(block.bytes))[0] ?? (cutter.finish() as LineBlock);
  };

  /** All of `bytes` as one block (its rows counted), or null when it holds no row. */
  const wholeBlock = (bytes: Uint8Array, firstLine: number, index: number): LineBlock | null => {
    const cutter = new BlockSplitter({ rowsPerBlock: Number.MAX_SAFE_INTEGER, firstLine, maxLineBytes: Number.MAX_SAFE_INTEGER, file, firstIndex: index });
    cutter.push(asBuffer(bytes));
    return cutter.finish();
  };

  /**
   * The bad rows of `bytes` (whole lines from line `firstLine`) as a batch of only those rows: its other
   * lines blank, so every line keeps its number; null when there is none.
   */
  const badRowsBatch = (bytes: Buffer, firstLine: number, index: number): LineBatch | null => {
    if (bytes.length === 0) return null;
    let errors;
    try {
      errors = decodeBlock(bytes, firstLine, index, spec!).errors;
    } catch (error) {
      if (error instanceof RangeError) return null; // not expected: callers cut such a record off
      throw error;
    }
    if (errors.length === 0) return null;
    const bad = new Set(errors.map((e) => e.line));
    const kept: Uint8Array[] = [];
    let size = 0;
    for (let pos = 0, line = firstLine; pos < bytes.length; line++) {
      const nl = bytes.indexOf(NL, pos);
      const end = nl === -1 ? bytes.length : nl + 1;
      const piece = bad.has(line) ? bytes.subarray(pos, end) : BLANK_LINE;
      kept.push(piece);
      size += piece.length;
      pos = end;
    }
    return { kind: 'lines', index, firstLine, rows: errors.length, bytes: concatFresh(kept, size), spec: spec! };
  };

  /** Forgets the first `length` bytes of the tail (they were cut into a batch). */
  const cutTail = (length: number) => {
    tailStart += length;
    let left = length;
    while (left > 0) {
      const piece = tail[tailFrom];
      if (piece.length <= left) {
        left -= piece.length;
        tailFrom++;
      } else {
        tail[tailFrom] = piece.subarray(left);
        left = 0;
      }
    }
    if (tailFrom > 64 && tailFrom * 2 > tail.length) {
      tail = tail.slice(tailFrom);
      tailFrom = 0;
    }
  };

  /** A batch the splitter cut: cut at the limit, checked, queued. */
  const addBlock = (cut: LineBlock) => {
    const block = rows + cut.rows > limit ? firstRows(cut, limit - rows) : cut;
    const start = tailStart;
    const end = start + block.bytes.length;
    tailLine = block.firstLine + countNewlines(asBuffer(block.bytes), 0, block.bytes.length);
    nextIndex = block.index + 1;
    cutTail(block.bytes.length);
    if (block.quoted) {
      // Rare in a numeric file: decode it here to see that no quoted field runs across a line end
      // (decodeBlock throws a RangeError for that), so that the error can name the file and line.
      let across: Across | null = null;
      try {
        decodeBlock(block.bytes, block.firstLine, block.index, spec!);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        across = recordAcrossLines(block.bytes, 0, block.firstLine, maxRecordBytes) ?? { line: block.firstLine, offset: 0, complete: false };
      }
      if (across !== null) {
        // The rows before that record go first: under 'skip' as a (short) batch; under 'fail' only a
        // bad one among them, if any, which the main-thread path would report first (its good rows
        // are in no batch there: the batch they are in never completes).
        const lines = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, across.offset);
        const before =
          options.onError === 'skip' ? wholeBlock(lines, block.firstLine, block.index) : badRowsBatch(lines, block.firstLine, block.index);
        if (before !== null) {
          rows += before.rows;
          const batch = 'kind' in before ? before : toBatch(before);
          ready.push({ batch, failure: null, start, end: start + across.offset, bytes: lines, firstLine: batch.firstLine, index: batch.index });
        }
        const failure = new DataError(file, across.line, quotedAcrossLines);
        ready.push({ batch: null, failure, start: start + across.offset, end, bytes: EMPTY, firstLine: across.line, index: nextIndex });
        splitEnd = start + across.offset;
        return;
      }
    }
    rows += block.rows;
    ready.push({ batch: toBatch(block), failure: null, start, end, bytes: block.bytes, firstLine: block.firstLine, index: block.index });
    if (rows >= limit) splitEnd = end;
  };

  /**
   * Near the limit, the batch that reaches it must end with the limit-th row. A push cuts all its
   * batches at the size set before it (firstRows() in addBlock shortens one that went past), and the
   * splitter cuts when its count of rows equals the size, so the size can only be lowered to no less
   * than the rows it already holds: when those are enough, the batch is cut here instead.
   */
  const approachLimit = () => {
    const remaining = limit - rows;
    if (splitEnd >= 0 || remaining >= batchSize || splitter!.rowsPerBlock === remaining) return;
    const cutter = new BlockSplitter({ rowsPerBlock: remaining, firstLine: tailLine, maxLineBytes: Number.MAX_SAFE_INTEGER, file, firstIndex: nextIndex });
    const [block] = cutter.push(asBuffer(concatFresh(tail.slice(tailFrom), given - tailStart)));
    if (block !== undefined) addBlock(block);
    else splitter!.rowsPerBlock = remaining;
  };

  /** Gives bytes to the splitter (and to the tail's mirror). */
  const give = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    const nl = bytes.lastIndexOf(NL);
    if (nl !== -1) lastLineEnd = given + nl + 1;
    tail.push(bytes);
    given += bytes.length;
    lastGiven = bytes[bytes.length - 1];
    for (const block of splitter!.push(bytes)) {
      if (splitEnd >= 0) break;
      addBlock(block);
    }
    if (limit !== Number.POSITIVE_INFINITY) approachLimit();
  };

  /**
   * The data after the first record, to split. csv-parse looks at a byte only once 2 more have arrived
   * (or the input ended), so a line whose '\n' is among the last 2 bytes so far (the last 1, for a
   * "\r\n") is not complete yet: those bytes are held back until more come.
   */
  const feedSplitter = (bytes: Buffer, ended: boolean) => {
    if (ended) {
      give(held.length === 0 ? bytes : Buffer.concat([held, bytes]));
      held = EMPTY;
      return;
    }
    const joined = held.length > 0 && bytes.length < 3;
    const all = joined ? Buffer.concat([held, bytes]) : bytes;
    const n = all.length;
    const before = n >= 3 ? all[n - 3] : lastGiven;
    const keep = Math.min(n, n >= 2 && all[n - 2] === NL && before === CR ? 1 : 2);
    if (!joined && held.length > 0) give(held);
    give(all.subarray(0, n - keep));
    held = Buffer.from(all.subarray(n - keep));
  };

  /** csv-parse's error for a record, as the main-thread path words it (decoder.ts), at `line`. */
  const scanFailure = (error: ScanError, line: number): DataError => {
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') return new DataError(file, line, msg.unclosedQuoteAtEnd);
    return new DataError(file, line, error.quoting ? msg.unclosedQuoteTooLong(maxRecordBytes) : msg.recordTooLong(maxRecordBytes));
  };

  /**
   * After the limit, or a first record that fits no layout, nothing more is delivered; but csv-parse
   * still reads what has arrived, and an error of its (a quoted field not closed within the record
   * size bound, or by the end of the input) still ends the read, as on the main-thread path.
   */
  let syntax: { scanner: RecordScanner; rest: Buffer; line: number } | null = null;
  const scanSyntax = (chunk: Buffer, ended: boolean) => {
    const state = syntax!;
    const bytes = state.rest.length === 0 ? chunk : Buffer.concat([state.rest, chunk]);
    const { scanner: records } = state;
    let pos = 0;
    try {
      for (;;) {
        const status = records.scan(bytes, pos, ended);
        pos = records.pos;
        if (status === ScanStatus.Record) {
          state.line += records.blankLines + records.newlines + 1;
          records.nextRecord();
          continue;
        }
        if (records.atRecordStart) {
          state.line += records.blankLines;
          records.nextRecord();
        }
        break;
      }
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      throw scanFailure(error, state.line + records.blankLines);
    }
    state.rest = bytes.subarray(pos);
  };
  const startSyntax = (rest: Buffer, line: number, ended: boolean) => {
    syntax = { scanner: new RecordScanner(maxRecordBytes), rest: EMPTY, line };
    scanSyntax(rest, ended);
  };
  /** Once the limit is reached: what was given to the splitter after it, and what it held back. */
  const afterLimit = (ended: boolean) => {
    if (syntax === null && rows >= limit) {
      const rest = Buffer.concat([...tail.slice(tailFrom), held]);
      held = EMPTY;
      startSyntax(rest, tailLine, ended);
    }
  };

  /** The first record: finds the layout, then hands the data after it to the splitter. */
  const takeHead = (chunk: Buffer, ended: boolean) => {
    head = head.length === 0 ? chunk : chunk.length === 0 ? head : Buffer.concat([head, chunk]);
    if (!bomChecked) {
      // csv-parse's `bom: true`: a UTF-8 BOM at the very start is dropped (it waits for 3 bytes).
      if (head.length < 3 && !ended) return;
      if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3);
      bomChecked = true;
    }
    if (scanner === null) {
      // Blank lines before the first record: counted, not kept.
      let pos = 0;
      for (;;) {
        if (head[pos] === NL) pos++;
        else if (head[pos] === CR && head[pos + 1] === NL) pos += 2;
        else break;
        headLine++;
      }
      head = head.subarray(pos);
      if (head.length === 0 || (head.length === 1 && head[0] === CR && !ended)) return;
      scanner = new RecordScanner(maxRecordBytes);
    }
    let status: ScanStatus;
    try {
      status = scanner.scan(head, scanner.pos, ended);
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      throw scanFailure(error, headLine);
    }
    if (status !== ScanStatus.Record) return; // it needs more input (the input has not ended)
    const result = detectLayout(scanner.fields, features);
    if ('problem' in result) {
      layoutProblem = new DataError(file, headLine, result.problem);
      const rest = head.subarray(scanner.pos);
      head = EMPTY;
      startSyntax(rest, headLine + scanner.newlines + 1, ended);
      return;
    }
    const layout = result.layout;
    layoutToReport = layout;
    spec = { layout, features, classes: options.classes, table: options.table, maxRecordBytes };
    let data = head;
    let firstLine = headLine;
    if (layout.hasHeader) {
      headerLine = headLine;
      firstLine = headLine + scanner.newlines + 1;
      data = head.subarray(scanner.pos);
      lastGiven = head[scanner.pos - 1];
    }
    tailLine = firstLine;
    splitter = new BlockSplitter({ rowsPerBlock: Math.min(batchSize, limit), firstLine, maxLineBytes: maxRecordBytes, file });
    head = EMPTY;
    scanner = null;
    feedSplitter(data, ended);
  };

  /** Checks a chunk (all of it: an error that ends the read wins) and splits it. */
  const take = (chunk: Buffer) => {
    if (chunk.length > 0) guard.check(chunk);
    if (syntax !== null) scanSyntax(chunk, false);
    else if (splitEnd >= 0) return; // after a record across lines: nothing more to look at
    else if (splitter === null) takeHead(chunk, false);
    else feedSplitter(chunk, false);
    afterLimit(false);
  };

  /** The input has ended: the rest is split, the last short batch cut. */
  const endInput = () => {
    guard.flush();
    if (syntax !== null) {
      scanSyntax(EMPTY, true);
      return;
    }
    if (splitEnd >= 0) return;
    if (splitter === null) takeHead(EMPTY, true);
    else feedSplitter(EMPTY, true);
    afterLimit(true);
    if (splitter === null || splitEnd >= 0) return;
    let last = splitter.finish();
    // The splitter counts a last line of just "\r" as blank; csv-parse (no "\n" follows) as a record.
    const loneCr = lastGiven === CR && lastLineEnd === given - 1;
    if (last === null && loneCr) last = { index: nextIndex, firstLine: tailLine, rows: 0, bytes: concatFresh(tail.slice(tailFrom), given - tailStart), quoted: false };
    if (last !== null) addBlock(loneCr ? { ...last, rows: last.rows + 1 } : last);
    afterLimit(true);
  };

  /** Takes what arrived; an error that ends the read goes to `fatal`. */
  const takeArrived = () => {
    for (let i = 0; i < arrived.length && fatal === null; i++) {
      try {
        take(arrived[i]);
      } catch (error) {
        fatal = error;
        feed.pause();
      }
    }
    arrived.length = 0;
  };

  /**
   * The complete lines delivered (see the top of this file) that are in no delivered batch: the bytes,
   * their first line and index, cut before a failure that is in them; and that failure, when the
   * main-thread path would have reported its record already.
   */
  const deliveredLines = (): { bytes: Buffer; firstLine: number; index: number; failure: DataError | null } | null => {
    if (spec === null) return null;
    const from = ready.length > 0 ? ready[0].start : tailStart;
    let to = splitEnd >= 0 ? Math.min(delivered, splitEnd) : delivered;
    if (to <= from) return null;
    const pending = ready.filter((p) => p.batch !== null);
    const parts: Uint8Array[] = [...pending.map((p) => p.bytes), ...tail.slice(tailFrom)];
    let bytes = Buffer.from(concatFresh(parts, to - from).buffer);
    const firstLine = ready.length > 0 ? ready[0].firstLine : tailLine;
    const index = ready.length > 0 ? ready[0].index : nextIndex;
    let failure: DataError | null = null;
    const failed = ready.find((p) => p.failure !== null);
    if (failed !== undefined && failed.start < to) {
      failure = failed.failure;
      to = failed.start;
      bytes = bytes.subarray(0, to - from);
    } else if (bytes.indexOf(0x22) !== -1) {
      // Lines not split into a batch yet: one of their records may run across a line end.
      const across = recordAcrossLines(bytes, 0, firstLine, maxRecordBytes);
      if (across !== null) {
        if (across.complete) failure = new DataError(file, across.line, quotedAcrossLines);
        bytes = bytes.subarray(0, across.offset);
      }
    }
    return { bytes, firstLine, index, failure };
  };

  let reportedBytes = 0;
  let finished = false;
  try {
    read: for (;;) {
      takeArrived();
      if (fatal === null && feed.error === null && feed.ended && !finished) {
        finished = true;
        try {
          endInput();
        } catch (error) {
          fatal = error;
        }
      }
      if (fatal !== null || feed.error !== null) {
        const failure = fatal ?? readFailure(feed.error, file);
        if (fatal === null && signal?.aborted && !(failure instanceof DataError)) break;
        // The bad rows the main-thread path would have reported before this error go first.
        const lines = deliveredLines();
        const bad = lines === null ? null : badRowsBatch(lines.bytes, lines.firstLine, lines.index);
        if (bad !== null) yield bad;
        throw lines?.failure ?? failure;
      }
      // Deliver what this stretch of input completed, in input order.
      if (layoutToReport !== null) {
        options.onLayout?.(layoutToReport);
        layoutToReport = null;
      }
      if (layoutProblem !== null) throw layoutProblem;
      if (options.onBytes && !finished && guard.bytes - reportedBytes >= BYTES_PER_PROGRESS) {
        reportedBytes = guard.bytes;
        options.onBytes(guard.bytes);
      }
      while (ready.length > 0) {
        const next = ready[0];
        if (next.failure !== null) throw next.failure;
        yield next.batch!;
        ready.shift();
        if (signal?.aborted) return;
        // The batch that reaches the limit ends the run, unless it is a full one: the main-thread path
        // delivers that as a batch, then looks at what arrived before it stops (below).
        if (ready.length === 0 && rows >= limit && next.batch!.rows < batchSize) return;
        // What arrived while the consumer had the batch: an error that ends the read wins over the
        // rest of what was split, as on the main-thread path.
        takeArrived();
        if (fatal !== null || feed.error !== null) continue read;
      }
      delivered = Math.max(delivered, lastLineEnd);
      if (splitEnd >= 0) return; // the limit
      if (finished) {
        if (guard.bytes !== reportedBytes || guard.bytes === 0) options.onBytes?.(guard.bytes);
        if (spec === null) throw new DataError(file, 0, msg.noRowsEmpty);
        if (rows === 0) throw new DataError(file, 0, msg.noRowsHeaderOnly(headerLine));
        return;
      }
      if (signal?.aborted) break;
      pendingBytes = 0;
      feed.resume();
      await feed.next();
    }
    // Aborted: like the main-thread path, the complete lines delivered so far make the last batch.
    const lines = deliveredLines();
    const last = lines === null ? null : wholeBlock(lines.bytes, lines.firstLine, lines.index);
    if (last !== null) yield toBatch(last);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    feed.setSink(null);
    feed.destroy();
  }
}
