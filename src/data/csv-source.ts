// The general CSV path: a file (or stdin) read through csv-parse, one validated Row at a time.
//
//   input chunks -> InputGuardState (line length, binary check) -> csv-parse -> layout + RowParser -> Row
//
// csv-parse does the CSV syntax (quotes, BOM, CRLF) and knows where each record ends. The input is
// pulled a chunk at a time, so a slow consumer slows the read down (backpressure) and memory stays flat.
// Its options are chosen so that it never decides anything about our data:
//   - `relax_column_count`: a row with the wrong number of fields reaches us as a bad row, instead of
//     being a parser error that would end the stream;
//   - `relax_quotes`: a stray quote inside a field (12"3, or "12"3) stays in the field's text, which
//     then fails validation as a bad row (skippable), instead of a parser error that ends the stream.
//     It never moves record boundaries: a quote that opens a field opens quoting either way;
//   - no `skip_records_with_error`: with it csv-parse keeps going after errors in an unknown state,
//     and after CSV_MAX_RECORD_SIZE it silently drops the rest of the chunk (lib/api/index.js,
//     `return this.__error(...)` inside the byte loop). So the errors csv-parse cannot recover from,
//     an unclosed quote and an over-long record, are fatal, also under onError 'skip': after them
//     nobody can tell where the next record starts;
//   - `record_delimiter: ['\n', '\r\n']` instead of auto-discovery, so a file that mixes LF and CRLF
//     lines reads correctly and a bare '\r' is data (and then a bad value), not a line end;
//   - no `cast`, no `columns`: fields stay strings and RowParser checks them with a char loop.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CsvError, parse, type InfoRecord, type Options, type Parser } from 'csv-parse';
import { DataError } from '../errors.js';
import { CSV_PARSE_OPTIONS } from './head.js';
import { InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { detectLayout, RowParser } from './row-parser.js';
import type { CsvLayout, Row, RowError } from './types.js';
import { checkCsvSourceOptions, defaultMaxRecordBytes, STDIN_NAME, type CsvSourceOptions } from './source-options.js';

export { defaultMaxRecordBytes, STDIN_NAME, type CsvSourceOptions } from './source-options.js';

const BYTES_PER_PROGRESS = 64 * 1024;
const READ_CHUNK = 64 * 1024;

/**
 * Streams the rows of a CSV of images, validated against `features` and `classes`, in input order.
 * Bad rows throw a DataError (`FILE:LINE: problem`) under 'fail' and go to `onRowError` under 'skip';
 * problems with the input as a whole (empty, no data rows, binary, an over-long record, a layout that
 * does not fit, a CSV syntax error) always throw. (That every row was bad is the pipeline's to say: it
 * sees the rows of both paths decoded.)
 */
export async function* csvRows(options: CsvSourceOptions): AsyncGenerator<Row, void, undefined> {
  checkCsvSourceOptions(options);
  const { features, classes, onError, limit, signal } = options;
  const file = options.input === '-' ? STDIN_NAME : options.input;
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(features);
  if (signal?.aborted) return;

  const input = options.input === '-' ? (options.stdin ?? process.stdin) : createReadStream(options.input, { highWaterMark: READ_CHUNK });
  const guard = new InputGuardState(file, maxRecordBytes);
  const feed = new ParserFeed(maxRecordBytes);
  const rows = new RowStage(file, features, classes, options.onLayout);
  const onAbort = () => (input as Readable).destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  let good = 0;
  let reportedBytes = 0;
  try {
    // Pulled a chunk at a time (the input's own backpressure): a chunk is checked, then parsed up to
    // where the check found a problem, then its rows go out, then the problem (if any) is thrown. So
    // every row before a problem's line is delivered first, however the input is cut into chunks.
    for await (const chunk of readChunks(input, guard)) {
      const records = chunk === null ? await feed.end() : await feed.write(chunk);
      for (const located of records) {
        if (options.onBytes && located.bytes - reportedBytes >= BYTES_PER_PROGRESS) {
          reportedBytes = located.bytes;
          options.onBytes(located.bytes);
        }
        const row = rows.take(located);
        if (row === null) continue;
        if (typeof row === 'string') {
          if (onError === 'fail') throw new DataError(file, located.line, row);
          options.onRowError?.({ line: located.line, message: row });
          continue;
        }
        good++;
        yield row;
        if ((limit !== undefined && good >= limit) || signal?.aborted) return;
      }
      if (feed.error !== null) throw toDataError(feed.error, { file, maxRecordBytes, line: feed.errorLine, quoting: feed.quoting });
      if (signal?.aborted) return;
    }
  } catch (error) {
    if (signal?.aborted && !(error instanceof DataError)) return;
    throw toDataError(error, { file, maxRecordBytes, line: 0, quoting: false });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Stop reading now, so that the input is closed by the time the generator is done.
    if (!(input as Readable).destroyed) (input as Readable).destroy();
  }
  if (guard.failure !== null) throw guard.failure;
  options.onBytes?.(guard.bytes);
  if (rows.layout === null) throw new DataError(file, 0, msg.noRowsEmpty);
  if (rows.seen === 0) throw new DataError(file, 0, msg.noRowsHeaderOnly(rows.headerLine));
}

/**
 * The input's chunks as the guard passes them on (cut where it found a problem; then no more are read),
 * and a last null for the end of the input.
 */
async function* readChunks(input: NodeJS.ReadableStream, guard: InputGuardState): AsyncGenerator<Buffer | null, void, undefined> {
  for await (const data of input as AsyncIterable<Buffer | string>) {
    yield* guard.pass(typeof data === 'string' ? Buffer.from(data) : data);
    if (guard.failure !== null) break;
  }
  if (guard.failure === null) yield* guard.end();
  // The end of what may be read: csv-parse reads its last record, and says what is wrong with how it ended.
  yield null;
}

/**
 * csv-parse fed by hand, one chunk at a time. Records are taken as csv-parse makes them (on_record, in
 * parse order), so a chunk's records are all here before the error that may follow them in it.
 */
class ParserFeed {
  error: unknown = null;
  errorLine = 0;
  quoting = false;
  private readonly parser: Parser;
  private readonly lines = new LineTracker();
  private records: LocatedRecord[] = [];
  /** Settles when csv-parse reports an error (it does so a tick after it stopped). */
  private readonly failed: Promise<void>;

  constructor(maxRecordBytes: number) {
    const options: Options = {
      ...CSV_PARSE_OPTIONS,
      bom: true,
      // Counts the characters of a record's fields (not its commas); the guard bounds the whole line.
      max_record_size: maxRecordBytes,
      on_record: (record: string[], context: InfoRecord) => {
        this.records.push(this.lines.locate(record, context));
        return null;
      },
    };
    this.parser = parse(options);
    this.failed = new Promise((resolve) =>
      this.parser.once('error', (error) => {
        this.error = error;
        this.errorLine = this.lines.nextStart(error);
        this.quoting = parserState(this.parser).quoting === true;
        resolve();
      }),
    );
  }

  /** Parses `chunk` (synchronously); the records it completed, and `error` when csv-parse stopped on it. */
  async write(chunk: Buffer): Promise<LocatedRecord[]> {
    if (chunk.length > 0 && this.error === null) {
      this.parser.write(chunk);
      if (parserState(this.parser).stop === true) await this.failed;
    }
    return this.take();
  }

  /** The end of the input: the last record, and csv-parse's end-of-input errors. */
  async end(): Promise<LocatedRecord[]> {
    if (this.error === null) {
      const finished = new Promise<void>((resolve) => this.parser.once('finish', () => resolve()));
      this.parser.end();
      await Promise.race([finished, this.failed]);
    }
    return this.take();
  }

  private take(): LocatedRecord[] {
    const records = this.records;
    this.records = [];
    return records;
  }
}

/** csv-parse keeps its state public (`parser.state`, "backward compatibility"); the typings do not say so. */
const parserState = (parser: Parser) => (parser as unknown as { state: { quoting?: unknown; stop?: unknown } }).state;

/** The layout from the first record, then a row (or what is wrong with it) per record. */
class RowStage {
  layout: CsvLayout | null = null;
  headerLine = 0;
  /** Data records seen, good or bad. */
  seen = 0;
  private rowParser: RowParser | null = null;

  constructor(
    private readonly file: string,
    private readonly features: number,
    private readonly classes: number,
    private readonly onLayout?: (layout: CsvLayout) => void,
  ) {}

  /** The row, the problem with it, or null for the header. Throws for a first record that fits no layout. */
  take({ record, line, endLine }: LocatedRecord): Row | string | null {
    if (this.rowParser === null) {
      const result = detectLayout(record, this.features);
      if ('problem' in result) throw new DataError(this.file, line, result.problem);
      this.layout = result.layout;
      this.rowParser = new RowParser(result.layout, this.features, this.classes);
      this.onLayout?.(result.layout);
      if (result.layout.hasHeader) {
        this.headerLine = line;
        return null;
      }
    }
    this.seen++;
    const row = this.rowParser.parse(record, line);
    // Usually a quote that opened a field and was closed lines later: name every line it took.
    return typeof row === 'string' && endLine > line ? msg.quotedLineBreak(line, endLine) : row;
  }
}

/** A record as csv-parse hands it to us: its fields, the lines it starts and ends on, the bytes parsed. */
interface LocatedRecord {
  record: string[];
  line: number;
  endLine: number;
  bytes: number;
}

/**
 * Physical line numbers that count '\n' only, like `wc -l`, `sed -n Np` and editors in Unix mode.
 * csv-parse's `lines` also counts a bare '\r' (data to us, and then a bad value) as a line end, so
 * we derive ours: a record starts on the line after the previous record ended, plus the blank lines
 * csv-parse skipped in between (`empty_lines`; each is exactly one '\n' or '\r\n'), and it ends
 * that many lines later as its quoted fields hold '\n's. Fields are searched for '\n' only when
 * csv-parse saw a line break inside the record, which a valid row (digits only) never has.
 */
class LineTracker {
  private endLine = 0;
  private emptyLines = 0;
  private parserLines = 0;

  locate(record: string[], context: InfoRecord): LocatedRecord {
    const skipped = context.empty_lines - this.emptyLines;
    const line = this.endLine + 1 + skipped;
    const breaksInside = context.lines - this.parserLines - 1 - skipped;
    this.endLine = breaksInside > 0 ? line + newlinesIn(record) : line;
    this.emptyLines = context.empty_lines;
    this.parserLines = context.lines;
    return { record, line, endLine: this.endLine, bytes: context.bytes };
  }

  /** The line the record being parsed when `error` happened starts on. */
  nextStart(error: unknown): number {
    const empty = (error as { empty_lines?: unknown }).empty_lines;
    return this.endLine + 1 + (typeof empty === 'number' ? Math.max(0, empty - this.emptyLines) : 0);
  }
}

/** Line breaks inside a record's (quoted) fields. */
function newlinesIn(record: readonly string[]): number {
  let count = 0;
  for (const field of record) {
    for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) count++;
  }
  return count;
}

interface ErrorContext {
  file: string;
  maxRecordBytes: number;
  /** The line the failing record starts on. */
  line: number;
  /** Whether csv-parse was inside a quoted field when it failed. */
  quoting: boolean;
}

/** csv-parse's errors and read errors as DataErrors, at the line of the record they happened in. */
function toDataError(error: unknown, context: ErrorContext): unknown {
  if (error instanceof DataError) return error;
  if (error instanceof CsvError) return new DataError(context.file, context.line, csvProblem(error, context));
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    return new DataError(context.file, 0, msg.cannotRead(errno.code, errno.syscall));
  }
  return error;
}

function csvProblem(error: CsvError, context: ErrorContext): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return msg.unclosedQuoteAtEnd;
    case 'CSV_MAX_RECORD_SIZE':
      return context.quoting ? msg.unclosedQuoteTooLong(context.maxRecordBytes) : msg.recordTooLong(context.maxRecordBytes);
    default:
      return `CSV syntax error (${error.code}): ${error.message}`;
  }
}
