// Decoding a block of lines into a batch, in a worker (or on the main thread with --decode main). Ordinary rows
// (digits and commas) go through the WebAssembly row decoder, or the JavaScript one; any other line is split by
// csv-parse and judged by RowParser, as on the csv-parse path, so both paths give the same rows and errors. One
// difference: a line is one record here, so a quoted field not closed on its line is a `failure` (--parser
// csv-parse reads it).
import { parse } from 'csv-parse/sync';
import { CSV_PARSE_OPTIONS } from './head.js';
import { countNewlines } from './input-guard.js';
import { quoteRunsPastLine } from './messages.js';
import { RowParser } from './row-parser.js';
import { rowDecoder, type WasmRowDecoder } from './row-decoder-wasm.js';
import { JsRowDecoder, type RowDecoder } from './row-kernel.js';
import type { Block, DecodedBlock, DecodeSpec, RowError, Segment } from './types.js';

const NL = 0x0a;

/** A block as it crosses to a worker: plain data, its bytes in shared memory. */
export interface BlockData {
  index: number;
  firstLine: number;
  /** Non-blank lines: at most this many good rows. */
  rows: number;
  segments: Segment[];
}

/** The last input line a block covers (for messages: "lines 31-40"). */
export function lastLineOf(block: BlockData): number {
  let newlines = 0;
  let endsWithNewline = false;
  for (const { buffer, start, end } of block.segments) {
    const bytes = Buffer.from(buffer, start, end - start);
    newlines += countNewlines(bytes, 0, bytes.length);
    if (end > start) endsWithNewline = bytes[bytes.length - 1] === NL;
  }
  return Math.max(block.firstLine, block.firstLine + newlines - (endsWithNewline ? 1 : 0));
}

interface DecodeOptions {
  /** Fresh buffers rather than views of the decoder's memory (valid until this thread decodes again). @default true */
  copy?: boolean;
  /** The row decoder; null: JavaScript only. @default this thread's WebAssembly one, if built */
  decoder?: WasmRowDecoder | null;
}

/** A block's plain data (what crosses to a worker). */
export const blockData = (block: Block): BlockData => ({
  index: block.index,
  firstLine: block.firstLine,
  rows: block.rows,
  segments: block.segments,
});

/**
 * Decodes blocks on this thread as the consumer asks, each released when the next is wanted (its rows are views valid
 * until then).
 */
export function* decodeBlocks(blocks: Block[], spec: () => DecodeSpec): Generator<DecodedBlock, void, undefined> {
  let next = 0;
  try {
    for (; next < blocks.length; next++) {
      try {
        yield decodeBlock(blockData(blocks[next]), spec(), { copy: false });
      } finally {
        blocks[next].release();
      }
    }
  } finally {
    // Stopped part-way: the blocks not decoded go back too.
    for (const block of blocks.slice(next + 1)) block.release();
  }
}

/** Decodes the block's rows (up to a line it cannot read: `failure`). */
export function decodeBlock(block: BlockData, spec: DecodeSpec, options: DecodeOptions = {}): DecodedBlock {
  const parts = block.segments.map(({ buffer, start, end }) => new Uint8Array(buffer, start, end - start));
  const wasm = options.decoder === undefined ? rowDecoder() : options.decoder;
  const decoder: RowDecoder =
    wasm !== null && !spec.layout.drop?.length && wasm.load(parts, spec, block.rows)
      ? wasm
      : new JsRowDecoder(parts, spec, block.rows);
  const length = decoder.input.length;
  const other = new OtherRows(spec);
  let rows = 0;
  let line = block.firstLine;
  let p = 0;
  while (p < length && other.failure === null) {
    const room = block.rows - rows;
    p = decoder.decode(p, length, room, rows, line);
    rows += decoder.rows;
    line = decoder.line;
    if (p >= length) break;
    // It stops right after the last row there is room for: only blank lines can follow.
    if (room > 0 && decoder.rows === room) continue;
    // Not an ordinary row (and not blank): its slot gets all its floats if it is good.
    const end = other.take(decoder, p, line, rows);
    if (end > 0) rows++;
    p = Math.abs(end);
    line++;
  }
  // The JavaScript decoder's arrays are this block's own: no copy needed.
  const copy = decoder === wasm && (options.copy ?? true);
  return batchOf(block.index, spec.features, rows, decoder, other, copy);
}

/** The lines the row decoders leave: fields from csv-parse, judged by RowParser. Rare, so not fast. */
class OtherRows {
  readonly errors: RowError[] = [];
  /** The line that could not be read, if any (decoding stops there). */
  failure: RowError | null = null;
  private rowParser: RowParser | null = null;

  constructor(private readonly spec: DecodeSpec) {}

  /**
   * The line at input[p]: a good row to slot `slot`, a bad one to `errors`. The position after it, negated unless the
   * row is good.
   */
  take({ input: bytes, x, labels, lines }: RowDecoder, p: number, line: number, slot: number): number {
    const nl = bytes.indexOf(NL, p);
    const end = nl === -1 ? bytes.length : nl + 1;
    let records: string[][];
    try {
      records = parse(bytes.subarray(p, end), { ...CSV_PARSE_OPTIONS, max_record_size: this.spec.maxRecordBytes });
    } catch (error) {
      if ((error as { code?: string }).code !== 'CSV_QUOTE_NOT_CLOSED') throw error;
      this.failure = { line, message: quoteRunsPastLine };
      return -end;
    }
    const { layout, features, classes, table } = this.spec;
    this.rowParser ??= new RowParser(layout, features, classes);
    const row = this.rowParser.parse(records[0] ?? [], line);
    if (typeof row === 'string') {
      this.errors.push({ line, message: row });
      return -end;
    }
    const base = slot * features;
    for (let j = 0; j < features; j++) x[base + j] = table[row.pixels[j]];
    labels[slot] = row.label ?? -1;
    lines[slot] = line;
    return end;
  }
}

/** The good rows as a batch: views of the arrays, or (`copy`) fresh buffers of exactly their size. */
function batchOf(
  index: number,
  features: number,
  rows: number,
  { x, labels, lines }: RowDecoder,
  { errors, failure }: OtherRows,
  copy: boolean,
): DecodedBlock {
  if (rows === 0) return { batch: null, errors, failure };
  const cut = <T extends Float32Array | Int16Array | Uint32Array>(a: T, n: number) =>
    (copy ? a.slice(0, n) : a.subarray(0, n)) as T;
  return {
    batch: { index, rows, features, x: cut(x, rows * features), labels: cut(labels, rows), lines: cut(lines, rows) },
    errors,
    failure,
  };
}
