// The fast CSV decoder: raw input bytes in, batches out, with exactly the rows, line numbers, row
// errors and input errors of the csv-parse path (csvRows + batchRows).
//
// An ordinary row (ASCII digits, commas, '\n' or '\r\n') is decoded by one byte loop straight into
// the batch's Float32Array through the normalisation table: value = value*10 + (c - 48), no strings,
// no arrays. Anything else (the first record, which fixes the layout; a quote; a bare '\r'; a bad
// value; a wrong field count) makes the loop give up on that one record, which then goes through
// RecordScanner (a port of csv-parse's parse loop) and RowParser, exactly as on the csv-parse path.
//
// Synchronous and push-driven: `push(chunk)` per input chunk, `finish()` at the end; what the
// csv-parse path would report comes out as `events`, in order, for the caller (source.ts) to deliver.
// Errors that end the read (the InputGuard's, csv-parse's) are thrown by push/finish. Two details
// keep the events identical to the csv-parse path's even around such errors:
//   - each chunk goes through the same InputGuard checks before any of it is decoded, as the guard
//     stream sits before csv-parse there;
//   - a record only completes once csv-parse would have looked at its line end: not until 2 more
//     bytes have arrived (or the input ended). So a record whose line end is among the last two
//     bytes of the data so far completes with the next chunk, as in csv-parse.
import { DataError } from '../../errors.js';
import { detectLayout, RowParser } from '../row-parser.js';
import type { Batch, CsvLayout } from '../types.js';
import { InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { RecordScanner, ScanError, ScanStatus } from './record-scanner.js';
import { rowDecoder, type WasmRowDecoder } from './row-decoder-wasm.js';
import { decodeRow, lastLabel } from './row-kernel.js';

const NL = 0x0a;
const CR = 0x0d;

export interface DecoderOptions {
  /** How the input is named in messages (a path, or '<stdin>'). */
  file: string;
  features: number;
  classes: number;
  onError: 'fail' | 'skip';
  limit?: number;
  maxRecordBytes: number;
  batchSize: number;
  table: Float32Array;
}

/** The rows of the batch being filled, as far as they have been decided (see DecoderEvent 'mark'). */
export interface PartialBatch {
  index: number;
  x: Float32Array;
  labels: Int16Array;
  lines: Uint32Array;
  rows: number;
}

/** What the csv-parse path would report, in its order. */
export type DecoderEvent =
  | { kind: 'layout'; layout: CsvLayout }
  | { kind: 'batch'; batch: Batch }
  | { kind: 'rowError'; line: number; message: string }
  /** The first record fits no layout: the csv-parse path throws this when it reaches the record. */
  | { kind: 'fatal'; error: DataError }
  /** The limit-th good row was added: deliver `partial` and stop. */
  | { kind: 'limit'; partial: PartialBatch | null }
  /** End of a chunk's events: the rows so far, and the input position after the last record. */
  | { kind: 'mark'; partial: PartialBatch | null; bytes: number };

export class FastCsvDecoder {
  readonly events: DecoderEvent[] = [];
  layout: CsvLayout | null = null;
  headerLine = 0;
  good = 0;
  bad = 0;

  private readonly file: string;
  private readonly features: number;
  private readonly classes: number;
  private readonly failFast: boolean;
  private readonly limit: number;
  private readonly batchSize: number;
  private readonly table: Float32Array;
  /** The table maps byte 0 to +0, so a fresh (zero-filled) batch needs no store for a 0 pixel. */
  private readonly skipZeros: boolean;
  private readonly guard: InputGuardState;
  private readonly scanner: RecordScanner;
  private rowParser: RowParser | null = null;
  private fieldCount = 0;
  private labelIndex = -1;

  /** Undecoded input: the tail of the data so far, from `pos`. `base` is buf[0]'s offset in the input. */
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private base = 0;
  private bomChecked = false;
  /** 1-based physical line of the next record (or blank line) to decode. */
  private line = 1;
  /** The scanner holds part of a record (a quoted field running on past the data so far). */
  private inRecord = false;
  /** Events after this point can never be delivered (a fatal event, the limit, a bad row under 'fail'):
   *  only look for errors that end the read, which would win over them on the csv-parse path too. */
  private syntaxOnly = false;
  /** Input offset after the last record completed. */
  private recordEnd = 0;

  private batchIndex = 0;
  private x: Float32Array | null = null;
  private labels: Int16Array | null = null;
  private lines: Uint32Array | null = null;
  private filled = 0;

  constructor(options: DecoderOptions) {
    this.file = options.file;
    this.features = options.features;
    this.classes = options.classes;
    this.failFast = options.onError === 'fail';
    this.limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.batchSize = options.batchSize;
    this.table = options.table;
    this.skipZeros = Object.is(options.table[0], 0);
    this.guard = new InputGuardState(options.file, options.maxRecordBytes);
    this.scanner = new RecordScanner(options.maxRecordBytes);
  }

  /** Bytes of input checked so far (the csv-parse path's final onBytes value). */
  get bytesRead(): number {
    return this.guard.bytes;
  }

  /** Decodes one chunk of input as far as csv-parse would. Throws the DataError that ends the read, if any. */
  push(chunk: Buffer): void {
    this.guard.check(chunk);
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else {
      // The unfinished record's bytes (usually part of one line) go in front of the new chunk.
      const rest = this.buf.subarray(this.pos);
      this.base += this.pos;
      this.buf = Buffer.concat([rest, chunk]);
    }
    this.pos = 0;
    this.decode(false);
    this.mark();
  }

  /** The input has ended: decodes the rest. Throws the DataError that ends the read, if any. */
  finish(): void {
    this.guard.flush();
    this.decode(true);
    this.mark();
  }

  /** The rows of the unfinished batch (the last, short batch at the end of the input). */
  partial(): PartialBatch | null {
    if (this.x === null || this.labels === null || this.lines === null || this.filled === 0) return null;
    return { index: this.batchIndex, x: this.x, labels: this.labels, lines: this.lines, rows: this.filled };
  }

  private mark(): void {
    if (!this.syntaxOnly) this.events.push({ kind: 'mark', partial: this.partial(), bytes: this.recordEnd });
  }

  private decode(end: boolean): void {
    const buf = this.buf;
    let pos = this.pos;
    if (!this.bomChecked) {
      // csv-parse's `bom: true`: a UTF-8 BOM at the very start is dropped (it waits for 3 bytes).
      if (buf.length - pos < 3 && !end) return;
      if (buf.length - pos >= 3 && buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) pos += 3;
      this.bomChecked = true;
    }
    // Lines the fast loop may complete: those whose line end csv-parse would already have looked at.
    const stop = end ? buf.lastIndexOf(NL) + 1 : usableEnd(buf);
    try {
      for (;;) {
        if (this.inRecord || this.rowParser === null || this.syntaxOnly) {
          // The scanner's turn: a record in progress, the first record, or syntax only.
          const status = this.scanner.scan(buf, pos, end);
          pos = this.scanner.pos;
          if (status === ScanStatus.Record) {
            this.inRecord = false;
            this.onRecord(this.scanner.fields, this.scanner.blankLines, this.scanner.newlines, pos);
            this.scanner.nextRecord();
            continue;
          }
          this.inRecord = status === ScanStatus.NeedMore && !this.scanner.atRecordStart;
          if (!this.inRecord) {
            this.line += this.scanner.blankLines;
            this.scanner.nextRecord();
          }
          break;
        }
        if (pos < stop) {
          const wasm = rowDecoder();
          pos = wasm !== null && wasm.load(buf, pos, stop, this.table, this.features, this.batchSize) ? this.fastLinesWasm(wasm, pos, stop) : this.fastLines(buf, pos, stop);
        }
        if (pos < stop) {
          // The fast loop gave up on the line at pos: the scanner takes that record.
          this.inRecord = true;
          continue;
        }
        if (end && pos < buf.length) {
          // The last line has no line end.
          this.inRecord = true;
          continue;
        }
        break;
      }
    } catch (error) {
      if (error instanceof ScanError) throw this.scanFailure(error);
      throw error;
    }
    this.pos = pos;
  }

  /** csv-parse's error as the csv-parse path words it, at the line its record starts on. */
  private scanFailure(error: ScanError): DataError {
    const line = this.line + this.scanner.blankLines;
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') return new DataError(this.file, line, msg.unclosedQuoteAtEnd);
    return new DataError(this.file, line, error.quoting ? msg.unclosedQuoteTooLong(this.scanner.maxRecordSize) : msg.recordTooLong(this.scanner.maxRecordSize));
  }

  /** A record from the scanner, as csvRows treats it. `end` is its end in buf. */
  private onRecord(fields: string[], blankLines: number, newlines: number, end: number): void {
    const line = this.line + blankLines;
    this.line = line + newlines + 1;
    this.recordEnd = this.base + end;
    if (this.syntaxOnly) return;
    if (this.rowParser === null) {
      const result = detectLayout(fields, this.features);
      if ('problem' in result) {
        this.events.push({ kind: 'fatal', error: new DataError(this.file, line, result.problem) });
        this.syntaxOnly = true;
        return;
      }
      const layout = result.layout;
      this.layout = layout;
      this.rowParser = new RowParser(layout, this.features, this.classes);
      this.fieldCount = layout.fieldCount;
      this.labelIndex = layout.labelIndex;
      this.events.push({ kind: 'layout', layout });
      if (layout.hasHeader) {
        this.headerLine = line;
        return;
      }
    }
    const row = this.rowParser.parse(fields, line);
    if (typeof row === 'string') {
      this.badRow(line, newlines > 0 ? msg.quotedLineBreak(line, line + newlines) : row);
      return;
    }
    const slot = this.slot();
    const x = this.x as Float32Array;
    const table = this.table;
    const base = slot * this.features;
    const pixels = row.pixels;
    for (let j = 0; j < pixels.length; j++) x[base + j] = table[pixels[j]];
    this.addRow(row.label ?? -1, line);
  }

  private badRow(line: number, message: string): void {
    this.bad++;
    this.events.push({ kind: 'rowError', line, message });
    if (this.failFast) this.syntaxOnly = true;
  }

  /** The next free row slot of the current batch (allocating the batch's buffers on its first row). */
  private slot(): number {
    if (this.x === null) {
      this.x = new Float32Array(this.batchSize * this.features);
      this.labels = new Int16Array(this.batchSize);
      this.lines = new Uint32Array(this.batchSize);
    }
    return this.filled;
  }

  /** Completes the row just written to slot `filled`. */
  private addRow(label: number, line: number): void {
    (this.labels as Int16Array)[this.filled] = label;
    (this.lines as Uint32Array)[this.filled] = line;
    this.filled++;
    this.good++;
    this.afterRow();
  }

  private afterRow(): void {
    if (this.filled === this.batchSize) {
      const batch: Batch = {
        index: this.batchIndex++,
        rows: this.filled,
        features: this.features,
        x: this.x as Float32Array,
        labels: this.labels as Int16Array,
        lines: this.lines as Uint32Array,
      };
      this.x = this.labels = this.lines = null;
      this.filled = 0;
      this.events.push({ kind: 'batch', batch });
    }
    if (this.good === this.limit) {
      this.events.push({ kind: 'limit', partial: this.partial() });
      this.syntaxOnly = true;
    }
  }

  /**
   * fastLines with the WebAssembly row decoder, which holds buf[pos, stop) (wasm.load): runs of rows
   * per call, each run at most what the batch and the limit have room for, copied into the batch.
   */
  private fastLinesWasm(wasm: WasmRowDecoder, pos: number, stop: number): number {
    const features = this.features;
    const labelMax = this.classes - 1;
    const end = stop - pos;
    let at = 0;
    while (at < end) {
      const room = Math.min(this.batchSize - this.filled, this.limit - this.good);
      at = wasm.decode(at, end, room, 0, this.line, this.fieldCount, this.labelIndex, labelMax);
      this.line = wasm.line;
      const rows = wasm.rows;
      if (rows > 0) {
        const slot = this.slot();
        (this.x as Float32Array).set(wasm.x.subarray(0, rows * features), slot * features);
        (this.labels as Int16Array).set(wasm.labels.subarray(0, rows), slot);
        (this.lines as Uint32Array).set(wasm.lines.subarray(0, rows), slot);
        this.filled += rows;
        this.good += rows;
        this.recordEnd = this.base + pos + wasm.lastRowEnd;
        // Room was bounded by the batch and the limit: this completes at most this one batch / the limit.
        this.afterRow();
        if (this.syntaxOnly) return pos + at;
      }
      // Short of room: it stopped at `end` or at a line it will not decode (for the scanner).
      if (rows < room) break;
    }
    return pos + at;
  }

  /**
   * The hot loop: decodes ordinary rows and blank lines from `pos` while lines end before `stop`.
   * Returns where it stopped: `stop`, or the start of a line it will not decode (for the scanner).
   */
  private fastLines(buf: Buffer, pos: number, stop: number): number {
    const features = this.features;
    const fieldCount = this.fieldCount;
    const labelIndex = this.labelIndex;
    const labelMax = this.classes - 1;
    const table = this.table;
    const skipZeros = this.skipZeros;
    let p = pos;
    while (p < stop) {
      const c = buf[p];
      if (c === NL) {
        this.line++;
        p++;
        continue;
      }
      if (c === CR && buf[p + 1] === NL) {
        this.line++;
        p += 2;
        continue;
      }
      const rowBase = this.slot() * features;
      const x = this.x as Float32Array;
      const next = decodeRow(buf, p, x, rowBase, table, skipZeros, fieldCount, labelIndex, labelMax);
      if (next < 0) {
        x.fill(0, rowBase, rowBase + features);
        return p;
      }
      p = next;
      this.recordEnd = this.base + p;
      this.addRow(lastLabel, this.line);
      this.line++;
      if (this.syntaxOnly) return p;
    }
    return p;
  }
}

/**
 * End of the lines csv-parse would already have completed: it looks at a byte only once 2 more have
 * arrived, so a line end ('\n', or the '\r' of '\r\n') must start at least 3 bytes before the end.
 */
function usableEnd(buf: Buffer): number {
  const length = buf.length;
  let at = buf.lastIndexOf(NL, length - 2);
  if (at !== -1 && at === length - 2 && buf[at - 1] !== CR) at = buf.lastIndexOf(NL, length - 3);
  return at + 1;
}
