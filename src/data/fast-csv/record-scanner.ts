// csv-parse's parse loop (csv-parse 6.2.1, lib/api/index.js `parse`), ported for the one dialect the
// csv-parse path configures (csv-source.ts): delimiter ',', quote and escape '"', record delimiters
// '\n' and '\r\n', relax_quotes, skip_empty_lines, max_record_size, no trimming, no comments.
//
// The fast decoder never needs this for an ordinary row (digits, commas, a line end). It runs this
// for the records that are not ordinary: the first record (the header or first row, which fixes the
// layout), and any record the fast loop bails out of (a quote, a bare '\r', a bad value, a wrong
// field count, ...). Those records then get exactly the fields csv-parse would give them, and
// RowParser words the problem, so the messages match by construction.
//
// Ported line by line, including the corners that only matter for broken input:
//   - a quote closes a quoted field only when followed by ',', a record delimiter, the end of the
//     data, or a NUL byte (csv-parse tests `!nextChr`); otherwise (relax_quotes) the field gets its
//     opening quote back and both quotes stay in its text;
//   - a quote in the middle of an unquoted field is a plain character;
//   - `""` inside a quoted field is one quote;
//   - the record size counts field characters only (JS string length of finished fields plus the
//     bytes of the current one), checked before each byte is appended;
//   - csv-parse does not look at a byte until 2 more bytes (3 while quoting) have arrived, unless the
//     input has ended. That decides in which chunk a record completes or an error happens, which the
//     fast path reproduces (see decoder.ts), so it is ported too.

const QUOTE = 0x22;
const COMMA = 0x2c;
const NL = 0x0a;
const CR = 0x0d;

/** What stopped a scan. */
export const enum ScanStatus {
  /** Not enough data to go on; everything up to `pos` is consumed, the state is kept. */
  NeedMore = 0,
  /** A record is complete: `fields`, `newlines`, `blankLines`; `pos` is after its delimiter. */
  Record = 1,
  /** The input ended with no further record. */
  Done = 2,
}

/** csv-parse's two errors that end a read (the only ones our options leave possible). */
export class ScanError extends Error {
  readonly code: 'CSV_MAX_RECORD_SIZE' | 'CSV_QUOTE_NOT_CLOSED';
  /** csv-parse's `state.quoting` after the error (csv-source words the problem by it). */
  readonly quoting: boolean;
  constructor(code: 'CSV_MAX_RECORD_SIZE' | 'CSV_QUOTE_NOT_CLOSED', quoting: boolean) {
    super(code);
    this.code = code;
    this.quoting = quoting;
  }
}

export class RecordScanner {
  /** Position after the last byte consumed (after a record's delimiter for ScanStatus.Record). */
  pos = 0;
  /** The fields of the record just completed. */
  fields: string[] = [];
  /** Blank lines skipped before the record (or before the end) since the last record. */
  blankLines = 0;
  /** '\n' bytes inside the record's fields (a quoted field spanning lines). */
  newlines = 0;

  readonly maxRecordSize: number;
  private quoting = false;
  private wasQuoting = false;
  private escaping = false;
  private field = new Uint8Array(64);
  private fieldLength = 0;
  private record: string[] = [];
  private recordLength = 0;

  constructor(maxRecordSize: number) {
    this.maxRecordSize = maxRecordSize;
  }

  /** True between records: nothing of a record has been consumed yet. */
  get atRecordStart(): boolean {
    return !this.quoting && !this.escaping && !this.wasQuoting && this.fieldLength === 0 && this.record.length === 0;
  }

  /**
   * Consumes bytes of `buf` from `pos` (to `buf.length`) until a record completes, csv-parse would
   * wait for more data, or (`end`) the input ends. Blank lines before a record are skipped and counted.
   */
  scan(buf: Uint8Array, pos: number, end: boolean): ScanStatus {
    const bufLen = buf.length;
    let i = pos;
    for (; i < bufLen; i++) {
      // __needMoreData: 2 bytes of look-ahead (a '\r\n'), 3 while quoting (a quote, then '\r\n').
      if (!end && bufLen - i - 1 < (this.quoting ? 3 : 2)) break;
      const chr = buf[i];
      if (this.escaping) {
        this.escaping = false;
      } else {
        if (this.quoting && chr === QUOTE && i + 1 < bufLen && buf[i + 1] === QUOTE) {
          // `""` inside quotes: this one is dropped, the next one is appended as a plain character.
          this.escaping = true;
          continue;
        }
        if (chr === QUOTE) {
          if (this.quoting) {
            const next = i + 1 < bufLen ? buf[i + 1] : -1;
            const nextIsRecordDelimiter = next === NL || (next === CR && i + 2 < bufLen && buf[i + 2] === NL);
            // `!nextChr` in csv-parse: the end of the data, and also a NUL byte.
            if (next === -1 || next === 0 || next === COMMA || nextIsRecordDelimiter) {
              this.quoting = false;
              this.wasQuoting = true;
              continue;
            }
            // relax_quotes: not a closing quote after all; the field gets its opening quote back and
            // this quote is appended below.
            this.quoting = false;
            this.wasQuoting = true;
            this.prependQuote();
          } else if (this.fieldLength === 0) {
            this.quoting = true;
            continue;
          }
          // else: a quote inside an unquoted field is a plain character (relax_quotes).
        }
        if (!this.quoting) {
          const delimiterLength = chr === NL ? 1 : chr === CR && i + 1 < bufLen && buf[i + 1] === NL ? 2 : 0;
          if (delimiterLength !== 0) {
            if (!this.wasQuoting && this.record.length === 0 && this.fieldLength === 0) {
              this.blankLines++;
              i += delimiterLength - 1;
              continue;
            }
            this.endField();
            this.pos = i + delimiterLength;
            this.endRecord();
            return ScanStatus.Record;
          }
          if (chr === COMMA) {
            this.endField();
            continue;
          }
        }
      }
      if (this.recordLength + this.fieldLength > this.maxRecordSize) {
        this.pos = i;
        throw new ScanError('CSV_MAX_RECORD_SIZE', this.quoting);
      }
      if (chr === NL) this.newlines++;
      this.append(chr);
    }
    this.pos = i;
    if (!end) return ScanStatus.NeedMore;
    if (this.quoting) throw new ScanError('CSV_QUOTE_NOT_CLOSED', true);
    if (this.wasQuoting || this.record.length !== 0 || this.fieldLength !== 0) {
      this.endField();
      this.endRecord();
      return ScanStatus.Record;
    }
    return ScanStatus.Done;
  }

  /** Forget the record just reported (call before scanning the next one). */
  nextRecord(): void {
    this.blankLines = 0;
    this.newlines = 0;
  }

  private endField(): void {
    const text = this.fieldLength === 0 ? '' : Buffer.from(this.field.buffer, this.field.byteOffset, this.fieldLength).toString('utf8');
    this.record.push(text);
    this.recordLength += text.length;
    this.fieldLength = 0;
    this.wasQuoting = false;
  }

  private endRecord(): void {
    this.fields = this.record;
    this.record = [];
    this.recordLength = 0;
  }

  private append(byte: number): void {
    if (this.fieldLength === this.field.length) this.grow();
    this.field[this.fieldLength++] = byte;
  }

  private prependQuote(): void {
    if (this.fieldLength === this.field.length) this.grow();
    this.field.copyWithin(1, 0, this.fieldLength);
    this.field[0] = QUOTE;
    this.fieldLength++;
  }

  private grow(): void {
    const bigger = new Uint8Array(this.field.length * 2);
    bigger.set(this.field);
    this.field = bigger;
  }
}
