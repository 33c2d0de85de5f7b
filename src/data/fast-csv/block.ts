// Decoding in the workers instead of on the main thread: the main thread only cuts the input into
// blocks of whole lines holding `rowsPerBlock` rows each (BlockSplitter: one memchr per line, plus the
// blank-line test that keeps blocks aligned with the batches the other paths make) and transfers each
// block's bytes to a worker, which decodes them (decodeBlock) before its forward pass.
//
// What stays on the main thread: the first record (it fixes the layout: decode it with the streaming
// FastCsvDecoder, or detectLayout on its fields), the InputGuard checks (the splitter checks line
// lengths; the first-line binary check is done by the first record's decoding), the end-of-input
// checks, `limit` and the order of reports. Blocks the splitter flags `quoted` hold a '"'; decodeBlock
// is exact on them as long as no quoted field runs past its line end, and throws a RangeError when
// one does (such a record spans blocks' lines): decode those on the main thread with FastCsvDecoder.
//
// Under onError 'skip' a bad row can only be dropped from its block's batch (a short batch: the
// streaming paths refill batches instead, so later batches differ); under 'fail' the block's first
// error is the run's error. See the decode-placement notes in the final report / bench.
import { DataError } from '../../errors.js';
import { RowParser } from '../row-parser.js';
import type { Batch, CsvLayout, RowError } from '../types.js';
import * as msg from './messages.js';
import { RecordScanner, ScanError, ScanStatus } from './record-scanner.js';
import { rowDecoder, type WasmRowDecoder } from './row-decoder-wasm.js';
import { decodeRow, lastLabel } from './row-kernel.js';

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** A run of whole lines: `rows` rows (non-blank lines), starting on line `firstLine`. */
export interface LineBlock {
  /** 0-based position in the input (the batch index it becomes). */
  index: number;
  firstLine: number;
  rows: number;
  /** A fresh buffer of its own (not a pool slice), so it can be transferred to a worker. */
  bytes: Uint8Array;
  /** It contains a '"': a record in it may span lines (see the top of this file). */
  quoted: boolean;
}

/**
 * Cuts a byte stream (from a record boundary on: after the header / first record) into LineBlocks.
 * push() returns the blocks a chunk completes; finish() the last, short one.
 */
export class BlockSplitter {
  /** Rows per block; lowering it cuts the next block shorter (e.g. to honour a row limit). */
  rowsPerBlock: number;
  private readonly maxLineBytes: number;
  private readonly file: string;
  private pieces: Uint8Array[] = [];
  private piecesBytes = 0;
  private rows = 0;
  private line: number;
  private blockFirstLine: number;
  private lineBytes = 0;
  /** The current line so far is exactly one '\r' (a '\r\n' line is blank). */
  private lineIsCr = false;
  private index = 0;

  constructor(options: { rowsPerBlock: number; firstLine: number; maxLineBytes: number; file: string; firstIndex?: number }) {
    this.rowsPerBlock = options.rowsPerBlock;
    this.maxLineBytes = options.maxLineBytes;
    this.file = options.file;
    this.line = options.firstLine;
    this.blockFirstLine = options.firstLine;
    this.index = options.firstIndex ?? 0;
  }

  push(chunk: Uint8Array): LineBlock[] {
    const blocks: LineBlock[] = [];
    let from = 0;
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      const nl = chunk.indexOf(NL, pos);
      const end = nl === -1 ? length : nl;
      const segment = end - pos;
      if (segment > 0) {
        this.lineIsCr = this.lineBytes === 0 && segment === 1 && chunk[pos] === CR;
        this.lineBytes += segment;
        if (this.lineBytes > this.maxLineBytes) throw new DataError(this.file, this.line, msg.lineTooLong(this.maxLineBytes));
      }
      if (nl === -1) break;
      // A blank line ('\n' or '\r\n') is not a row; anything else is one (a bad one, maybe).
      if (this.lineBytes !== 0 && !this.lineIsCr) this.rows++;
      this.line++;
      this.lineBytes = 0;
      this.lineIsCr = false;
      pos = nl + 1;
      if (this.rows === this.rowsPerBlock) {
        blocks.push(this.cut(chunk, from, pos));
        from = pos;
      }
    }
    if (from < length) {
      this.pieces.push(chunk.subarray(from));
      this.piecesBytes += length - from;
    }
    return blocks;
  }

  /** The rest of the input, if it holds any row (a last line without a line end counts). */
  finish(): LineBlock | null {
    if (this.lineBytes !== 0 && !this.lineIsCr) this.rows++;
    if (this.rows === 0) return null;
    return this.cut(new Uint8Array(0), 0, 0);
  }

  private cut(chunk: Uint8Array, from: number, to: number): LineBlock {
    const bytes = new Uint8Array(this.piecesBytes + (to - from));
    let at = 0;
    for (const piece of this.pieces) {
      bytes.set(piece, at);
      at += piece.length;
    }
    bytes.set(chunk.subarray(from, to), at);
    const block: LineBlock = {
      index: this.index++,
      firstLine: this.blockFirstLine,
      rows: this.rows,
      bytes,
      quoted: bytes.indexOf(QUOTE) !== -1,
    };
    this.pieces = [];
    this.piecesBytes = 0;
    this.rows = 0;
    this.blockFirstLine = this.line;
    return block;
  }
}

export interface BlockSpec {
  /** The file's layout (from its header or first row, found on the main thread). */
  layout: CsvLayout;
  features: number;
  classes: number;
  table: Float32Array;
  /** csv-parse's record size bound (only matters for quoted records). */
  maxRecordBytes: number;
}

export interface DecodedBlock {
  /** The good rows, in order (fewer than the block's rows when some are bad); null when none is good. */
  batch: Batch | null;
  /** The bad rows, in order, worded as the other paths word them. */
  errors: RowError[];
}

/**
 * Decodes a block of whole lines (as cut by BlockSplitter, starting on line `firstLine`) into a batch.
 * Plain data, no I/O: usable inside a worker. Rows, values, labels, line numbers and row errors are
 * those of the streaming paths for the same lines. Throws a RangeError for a record that does not end
 * within the block (a quoted field spanning a line end): decode such blocks on the main thread.
 *
 * The ordinary rows go through the WebAssembly row decoder when it is built (`decoder`, default: this
 * thread's, see row-decoder-wasm.ts), else through the JavaScript decodeRow; same results either way.
 */
export function decodeBlock(block: Uint8Array, firstLine: number, index: number, spec: BlockSpec, decoder: WasmRowDecoder | null = rowDecoder()): DecodedBlock {
  return decode(block, firstLine, index, spec, decoder, false);
}

/** decodeBlock with the JavaScript decodeRow (the fallback, and the tests' oracle). */
export function decodeBlockJs(block: Uint8Array, firstLine: number, index: number, spec: BlockSpec): DecodedBlock {
  return decode(block, firstLine, index, spec, null, false);
}

/**
 * decodeBlock for a caller that is done with the rows before the next decode on this thread, such as a
 * worker whose forward pass copies them into its engine: with the WebAssembly decoder, batch.x is a view
 * of the decoder's memory instead of a fresh buffer (allocating and first touching a fresh 300 KB buffer
 * per batch costs about as much as decoding it), so it is neither transferable nor valid after the
 * thread's next decode; labels and lines are fresh. Without the decoder, the same as decodeBlock.
 */
export function decodeBlockView(block: Uint8Array, firstLine: number, index: number, spec: BlockSpec, decoder: WasmRowDecoder | null = rowDecoder()): DecodedBlock {
  return decode(block, firstLine, index, spec, decoder, true);
}

function decode(block: Uint8Array, firstLine: number, index: number, spec: BlockSpec, decoder: WasmRowDecoder | null, view: boolean): DecodedBlock {
  // A Buffer view (no copy): the byte loop then sees one kind of array wherever it runs (monomorphic).
  const bytes = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  // Rows of a block = its non-blank lines, at most; count them to size the batch exactly.
  let capacity = 0;
  for (let at = 0, start = 0; start < bytes.length; start = at + 1) {
    at = bytes.indexOf(NL, start);
    if (at === -1) at = bytes.length;
    const len = at - start;
    if (len !== 0 && !(len === 1 && bytes[start] === CR)) capacity++;
  }
  if (decoder !== null && decoder.load(bytes, 0, bytes.length, spec.table, spec.features, capacity)) {
    return decodeWithWasm(bytes, firstLine, index, spec, capacity, decoder, view);
  }
  return decodeWithJs(bytes, firstLine, index, spec, capacity);
}

function decodeWithJs(bytes: Buffer, firstLine: number, index: number, spec: BlockSpec, capacity: number): DecodedBlock {
  const { layout, features, table } = spec;
  const rowParser = new RowParser(layout, features, spec.classes);
  const skipZeros = Object.is(table[0], 0);
  const labelMax = spec.classes - 1;
  const x = new Float32Array(capacity * features);
  const labels = new Int16Array(capacity);
  const lines = new Uint32Array(capacity);
  const errors: RowError[] = [];
  let rows = 0;
  let line = firstLine;
  let p = 0;
  const length = bytes.length;
  while (p < length) {
    const c = bytes[p];
    if (c === NL) {
      line++;
      p++;
      continue;
    }
    if (c === CR && bytes[p + 1] === NL) {
      line++;
      p += 2;
      continue;
    }
    const rowBase = rows * features;
    const next = decodeRow(bytes, p, x, rowBase, table, skipZeros, layout.fieldCount, layout.labelIndex, labelMax);
    if (next >= 0) {
      labels[rows] = lastLabel;
      lines[rows] = line;
      rows++;
      line++;
      p = next;
      continue;
    }
    // Not an ordinary row: decodeRow may have written some of its pixels.
    x.fill(0, rowBase, rowBase + features);
    const other = otherRow(bytes, p, line, spec, rowParser, errors, x, labels, lines, rows);
    if (other.good) rows++;
    p = other.end;
    line++;
  }
  return finish(index, features, rows, capacity, x, labels, lines, errors, false);
}

/** The ordinary rows in WebAssembly (runs of them per call), the others as in decodeWithJs. */
function decodeWithWasm(bytes: Buffer, firstLine: number, index: number, spec: BlockSpec, capacity: number, decoder: WasmRowDecoder, view: boolean): DecodedBlock {
  const { layout, features } = spec;
  const labelMax = spec.classes - 1;
  let rowParser: RowParser | null = null;
  const errors: RowError[] = [];
  let rows = 0;
  let line = firstLine;
  let p = 0;
  const length = bytes.length;
  while (p < length) {
    const room = capacity - rows;
    p = decoder.decode(p, length, room, rows, line, layout.fieldCount, layout.labelIndex, labelMax);
    rows += decoder.rows;
    line = decoder.line;
    if (p >= length) break;
    // It stops right after the last row there is room for: only blank lines can follow (the next call's).
    if (room > 0 && decoder.rows === room) continue;
    // Not an ordinary row (and not blank): its slot gets all its floats if it is good.
    rowParser ??= new RowParser(layout, features, spec.classes);
    const other = otherRow(bytes, p, line, spec, rowParser, errors, decoder.x, decoder.labels, decoder.lines, rows);
    if (other.good) rows++;
    p = other.end;
    line++;
  }
  if (view && rows > 0) {
    const batch: Batch = { index, rows, features, x: decoder.x.subarray(0, rows * features), labels: decoder.labels.slice(0, rows), lines: decoder.lines.slice(0, rows) };
    return { batch, errors };
  }
  // Copies out of the decoder's memory: fresh buffers of their own, transferable.
  return finish(index, features, rows, capacity, decoder.x, decoder.labels, decoder.lines, errors, true);
}

/**
 * The row on `line` at bytes[p], which decodeRow does not take: its fields as csv-parse splits them,
 * then RowParser. A good row goes to slot `slot` (all its floats, its label and line), a bad one to
 * `errors`. Rare (a quote, a bad value...): a small object per call is fine.
 */
function otherRow(
  bytes: Buffer,
  p: number,
  line: number,
  spec: BlockSpec,
  rowParser: RowParser,
  errors: RowError[],
  x: Float32Array,
  labels: Int16Array,
  lines: Uint32Array,
  slot: number,
): { good: boolean; end: number } {
  const scanner = new RecordScanner(spec.maxRecordBytes);
  let status: ScanStatus;
  try {
    status = scanner.scan(bytes, p, true);
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    status = ScanStatus.NeedMore;
  }
  if (status !== ScanStatus.Record || scanner.newlines > 0) {
    throw new RangeError(`decodeBlock: the record on line ${line} does not end on its line; decode this block on the main thread`);
  }
  const row = rowParser.parse(scanner.fields, line);
  if (typeof row === 'string') {
    errors.push({ line, message: row });
    return { good: false, end: scanner.pos };
  }
  const { table, features } = spec;
  const rowBase = slot * features;
  for (let j = 0; j < features; j++) x[rowBase + j] = table[row.pixels[j]];
  labels[slot] = row.label ?? -1;
  lines[slot] = line;
  return { good: true, end: scanner.pos };
}

/** The batch of the `rows` good rows; `copy`: the arrays are views to copy from, not to hand out. */
function finish(
  index: number,
  features: number,
  rows: number,
  capacity: number,
  x: Float32Array,
  labels: Int16Array,
  lines: Uint32Array,
  errors: RowError[],
  copy: boolean,
): DecodedBlock {
  if (rows === 0) return { batch: null, errors };
  const batch: Batch =
    rows === capacity && !copy
      ? { index, rows, features, x, labels, lines }
      : { index, rows, features, x: x.slice(0, rows * features), labels: labels.slice(0, rows), lines: lines.slice(0, rows) };
  return { batch, errors };
}
