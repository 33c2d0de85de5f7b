// The main thread's part of reading a CSV: find the layout once, then cut the input into blocks of
// `rowsPerBlock` rows by finding line ends (one memchr per line). The workers decode (block-decoder.ts);
// a block's bytes stay in the chunks' shared memory, as segments.
//
// A row is a non-blank line; blank is empty or a lone '\r' (but a lone '\r' at the very end is a row,
// as csv-parse reads it). Lines are counted by '\n'. What ends the read is what ends it on the csv-parse
// path; the complete lines before the problem still go out as a block, then `failure` is set.
import { DataError } from '../errors.js';
import { ChunkPool, type Chunk, type FileStart, type Piece } from './chunks.js';
import { dataStartOf, firstRecordOrFail } from './head.js';
import { InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { labelHint, looksLabeledText, resolveLayout, type ColumnChoice } from './columns.js';
import type { LineMap } from './line-map.js';
import type { Block, CsvLayout, Segment } from './types.js';

const NL = 0x0a;
const CR = 0x0d;
/** Text looked at for the label hint: ~100 MNIST rows. */
const HINT_BYTES = 512 * 1024;

export interface FramerOptions {
  /** The input's name in messages. */
  file: string;
  /** Pixels per row (the model's first layer), for the layout. */
  features: number;
  rowsPerBlock: number;
  maxRecordBytes: number;
  columns?: ColumnChoice;
  /** For the label hint (columns.ts): the model's classes and where the warning goes. */
  hint?: { classes: number; warn: (message: string) => void };
  /** Stop after this many rows. Every row counts, good or bad: for runs where a bad row ends the run. */
  limit?: number;
  /** A shard's read (shards.ts): its layout, its first line's number, the byte its last line starts before. */
  shard?: { layout: CsvLayout; firstLine: number; endAt: number };
  /** Several input files (file-sequence.ts): each file's lines, added as it starts; names a problem's file. */
  lines?: LineMap;
}

interface Open {
  chunk: Chunk;
  start: number;
  end: number;
}

export class Framer {
  /** Known once the first record has been read. */
  layout: CsvLayout | null = null;
  /** The header's line, or 0. */
  headerLine = 0;
  /** What ended the read (the blocks before it have been handed out); push() takes nothing after it. */
  failure: DataError | null = null;
  /** The limit was reached: nothing more to read. */
  done = false;
  /** Rows in the blocks handed out so far. */
  rows = 0;
  /** Bytes pushed before the piece being scanned (to find `shard.endAt`). */
  private pushed = 0;
  /** The file being read (of several): its name, its header's line, the rows framed before it. */
  private file: { name: string; headerLine: number; rowsBefore: number };

  /** Blocks cut and not yet returned. */
  private out: Block[] = [];
  private readonly options: FramerOptions;
  // Before the layout is known: what has arrived (retained), the input guard, the bytes it has passed.
  private headPieces: Piece[] = [];
  private readonly guard: InputGuardState;
  private passed = 0;
  // The block being filled: its segments so far (each holding one reference to its chunk).
  private segments: Open[] = [];
  private blockRows = 0;
  private blockFirstLine = 1;
  private blockIndex = 0;
  // The line being scanned: its number, its bytes so far, and whether they are exactly one '\r'.
  private line = 1;
  private lineBytes = 0;
  private loneCr = false;

  constructor(options: FramerOptions) {
    this.options = options;
    this.guard = new InputGuardState(options.file, options.maxRecordBytes);
    this.file = { name: options.file, headerLine: 0, rowsBefore: 0 };
    if (options.shard) {
      this.layout = options.shard.layout;
      this.line = this.blockFirstLine = options.shard.firstLine;
      this.done = options.shard.endAt <= 0;
    }
  }

  /** Lines that started in what was read (blank ones too), counting from line 1 of the numbering. */
  get linesStarted(): number {
    return this.line - 1 + (this.lineBytes > 0 ? 1 : 0);
  }

  /** The blocks that `piece` completes. The framer keeps what it needs of the piece's chunk. */
  push(piece: Piece): Block[] {
    if (piece.fileStart && this.failure === null && !this.done) this.run(() => this.nextFile(piece.fileStart!));
    if (this.failure === null && !this.done && piece.end > piece.start) {
      this.run(() =>
        this.layout === null ? this.pushHead(piece, false) : this.scan(piece.chunk, piece.start, piece.end),
      );
    }
    this.pushed += piece.end - piece.start;
    return this.take();
  }

  /** At the end of the input: the last block, if any. Sets `failure` for an input without rows. */
  finish(): Block[] {
    if (this.failure === null && !this.done) {
      this.run(() => {
        if (this.layout === null) this.pushHead(null, true);
        if (this.failure === null && !this.done) this.finishBody();
      });
    }
    return this.take();
  }

  /** Gives back every chunk still held (when the read stops early). */
  close(): void {
    for (const piece of this.headPieces) piece.chunk.release();
    this.headPieces = [];
    for (const open of this.segments) open.chunk.release();
    this.segments = [];
  }

  private finishBody(): void {
    // A last line without a line end is a row (a lone '\r' there too).
    if (this.lineBytes > 0) this.blockRows++;
    if (this.blockRows > 0) this.out.push(this.cut());
    this.close();
    if (this.rows === this.file.rowsBefore && !this.options.shard)
      throw new DataError(this.file.name, 0, msg.noRowsHeaderOnly(this.file.headerLine));
    this.done = true;
  }

  /**
   * The pieces that follow are the next input file's, from its first data line: the last file's last line
   * ends here (a newline of its own between them, so that a block's bytes stay whole lines), and that
   * file must have had rows.
   */
  private nextFile(start: FileStart): void {
    if (this.layout === null) this.pushHead(null, true);
    if (this.failure !== null || this.done) return;
    if (this.lineBytes > 0) {
      // A lone '\r' ending a file is a row, as at the end of the input: "\r\r\n" keeps it one, "\r\n" would be blank.
      const end = this.loneCr && this.lineBytes === 1 ? [CR, NL] : [NL];
      const newline = new ChunkPool(end.length).acquire();
      newline.bytes.set(end);
      try {
        this.scan(newline, 0, end.length);
      } finally {
        newline.release();
      }
    }
    if (this.done) return;
    const rows = this.rows + this.blockRows;
    if (rows === this.file.rowsBefore)
      throw new DataError(this.file.name, 0, msg.noRowsHeaderOnly(this.file.headerLine));
    const name = this.options.lines?.files[start.index] ?? this.options.file;
    this.file = { name, headerLine: start.headerLine, rowsBefore: rows };
    this.options.lines?.add(start.index, this.line, start.firstLine);
  }

  /** Runs a step; a DataError it throws ends the read (see fail()). */
  private run(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The blocks cut since the last call. */
  private take(): Block[] {
    const blocks = this.out;
    this.out = [];
    return blocks;
  }

  /** Collects the input (through the input guard) until the first record is complete, then scans the data. */
  private pushHead(piece: Piece | null, ended: boolean): void {
    if (piece !== null) {
      piece.chunk.retain();
      this.headPieces.push(piece);
      this.passed += byteLength(this.guard.pass(piece.chunk.bytes.subarray(piece.start, piece.end)));
    } else this.passed += byteLength(this.guard.end());
    const stop = this.guard.failure;
    const pieces = this.headPieces;
    const head = (
      pieces.length === 1
        ? pieces[0].chunk.bytes.subarray(pieces[0].start, pieces[0].end)
        : Buffer.concat(pieces.map((p) => p.chunk.bytes.subarray(p.start, p.end)))
    ).subarray(0, this.passed);
    const { file, features, maxRecordBytes } = this.options;
    const first = firstRecordOrFail(head, ended, stop, file, maxRecordBytes);
    if (first === null) return;
    const found = resolveLayout(first.fields, features, this.options.columns);
    if ('problem' in found) throw new DataError(file, first.line, found.problem);
    this.layout = found.layout;
    const data = dataStartOf(first, found.layout.hasHeader);
    let skip = data.offset;
    this.line = data.line;
    this.headerLine = this.file.headerLine = data.headerLine;
    const { hint } = this.options;
    if (
      hint &&
      found.layout.labelIndex < 0 &&
      this.options.columns === undefined &&
      looksLabeledText(head.subarray(skip, skip + HINT_BYTES).toString(), hint.classes)
    ) {
      hint.warn(`${file}: ${labelHint(features)}`);
    }
    this.blockFirstLine = this.line;
    this.headPieces = [];
    try {
      // From here scan() checks line lengths; a problem the guard found ends the read at its line.
      let left = stop !== null ? this.passed : Number.POSITIVE_INFINITY;
      for (const p of pieces) {
        const end = Math.min(p.end, p.start + left);
        left -= end - p.start;
        if (p.start + skip < end && !this.done) this.scan(p.chunk, p.start + skip, end);
        skip = Math.max(0, skip - (p.end - p.start));
      }
    } finally {
      for (const p of pieces) p.chunk.release();
    }
    if (stop !== null && !this.done) throw new ReadEnds(stop);
  }

  /** Finds the line ends in chunk bytes [start, end), cutting a block at every rowsPerBlock-th row. */
  private scan(chunk: Chunk, start: number, end: number): void {
    const { rowsPerBlock, maxRecordBytes } = this.options;
    const limit = this.options.limit ?? Number.POSITIVE_INFINITY;
    // Where the shard ends, as a position in this chunk (pieces are scanned whole, in order, once the layout is known).
    const endAt = this.options.shard ? start + this.options.shard.endAt - this.pushed : Number.POSITIVE_INFINITY;
    const bytes = chunk.bytes;
    this.open(chunk, start, end);
    let pos = start;
    while (pos < end) {
      let nl = bytes.indexOf(NL, pos);
      if (nl >= end) nl = -1;
      const stop = nl === -1 ? end : nl;
      const length = stop - pos;
      if (length > 0) {
        this.loneCr = this.lineBytes === 0 && length === 1 && bytes[pos] === CR;
        this.lineBytes += length;
        if (this.lineBytes > maxRecordBytes) {
          this.closeAt(stop);
          throw new ReadEnds(this.lineError(this.line, msg.lineTooLong(maxRecordBytes)));
        }
      }
      if (nl === -1) break;
      if (this.lineBytes > 0 && !this.loneCr) this.blockRows++;
      this.line++;
      this.lineBytes = 0;
      this.loneCr = false;
      pos = nl + 1;
      const last = pos >= endAt;
      if (this.blockRows === rowsPerBlock || this.rows + this.blockRows === limit || last) {
        this.closeAt(pos);
        if (this.blockRows > 0) this.out.push(this.cut());
        if (this.rows === limit || last) {
          this.done = true;
          this.close();
          return;
        }
        if (pos < end) this.open(chunk, pos, end);
      }
    }
  }

  /** A problem at run line `line`, named by its file and line there. */
  private lineError(line: number, problem: string): DataError {
    return this.options.lines?.error(line, problem) ?? new DataError(this.options.file, line, problem);
  }

  /** The block's bytes go on into [start, end) of `chunk`. */
  private open(chunk: Chunk, start: number, end: number): void {
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.chunk === chunk && last.end === start) {
      last.end = end;
      return;
    }
    chunk.retain();
    this.segments.push({ chunk, start, end });
  }

  /** The block being filled ends at `pos` of the last segment's chunk. */
  private closeAt(pos: number): void {
    this.segments[this.segments.length - 1].end = pos;
  }

  /** Hands out the block being filled and starts the next one. */
  private cut(): Block {
    const held = this.segments;
    const segments: Segment[] = held.map(({ chunk, start, end }) => ({ buffer: chunk.buffer, start, end }));
    let released = false;
    const block: Block = {
      index: this.blockIndex++,
      firstLine: this.blockFirstLine,
      rows: this.blockRows,
      segments,
      release: () => {
        if (released) return;
        released = true;
        for (const open of held) open.chunk.release();
      },
    };
    this.rows += this.blockRows;
    this.segments = [];
    this.blockRows = 0;
    this.blockFirstLine = this.line;
    return block;
  }

  /** The read ends with `error`; for a problem found in a line, after the complete lines before it. */
  private fail(error: unknown): void {
    if (error instanceof ReadEnds) {
      const last = this.completeLines();
      if (last !== null) this.out.push(last);
      error = error.error;
    }
    this.close();
    if (!(error instanceof DataError)) throw error;
    this.failure = error;
  }

  /** The rows of complete lines in the block being filled, as a block (the current line left out). */
  private completeLines(): Block | null {
    if (this.blockRows === 0) return null;
    // Drop the current line's bytes from the end of the segments.
    let drop = this.lineBytes;
    while (drop > 0) {
      const last = this.segments[this.segments.length - 1];
      const length = last.end - last.start;
      if (length > drop) {
        last.end -= drop;
        break;
      }
      drop -= length;
      this.segments.pop();
      last.chunk.release();
    }
    return this.cut();
  }
}

const byteLength = (parts: Buffer[]) => parts.reduce((n, part) => n + part.length, 0);

/** Thrown to stop at a line with a problem (fail() delivers the lines before it first). */
class ReadEnds extends Error {
  constructor(readonly error: DataError) {
    super(error.message);
  }
}
