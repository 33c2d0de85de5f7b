// The general CSV path: input chunks (gzip decompressed: input-bytes.ts) -> InputGuardState (line
// length, binary) -> csv-parse -> layout + RowParser -> Row, pulled a chunk at a time (backpressure,
// flat memory). csv-parse's options never decide anything about our data:
//   - relax_column_count, relax_quotes: a wrong field count or a stray quote (12"3) is a bad row
//     (skippable), not a parser error that ends the stream; record boundaries do not move;
//   - no skip_records_with_error: after an error csv-parse goes on in an unknown state (and drops the
//     rest of the chunk after CSV_MAX_RECORD_SIZE), so an unclosed quote or an over-long record is fatal;
//   - record_delimiter ['\n', '\r\n']: mixed LF/CRLF files read right, a bare '\r' is data;
//   - no cast, no columns: fields stay strings, checked by RowParser.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CsvError, parse, type InfoRecord, type Options, type Parser } from 'csv-parse';
import { DataError } from '../errors.js';
import { CSV_PARSE_OPTIONS } from './head.js';
import { openInputBytes, type InputBytes } from './input-bytes.js';
import { InputGuardState } from './input-guard.js';
import * as msg from './messages.js';
import { HINT_ROWS, labelHint, looksLabeled, resolveLayout } from './columns.js';
import { RowParser } from './row-parser.js';
import type { CsvLayout, Row } from './types.js';
import {
  checkCsvSourceOptions,
  maxRecordBytesOf,
  readFailure,
  inputName,
  type CsvSourceOptions,
} from './source-options.js';

const BYTES_PER_PROGRESS = 64 * 1024;
const READ_CHUNK = 64 * 1024;

/**
 * The rows of a CSV of images, validated, in input order. A bad row throws a DataError under 'fail' and
 * goes to `onRowError` under 'skip'; problems of the input as a whole always throw.
 */
export async function* csvRows(options: CsvSourceOptions): AsyncGenerator<Row, void, undefined> {
  checkCsvSourceOptions(options);
  const { features, classes, onError, limit, signal } = options;
  const file = inputName(options.input);
  const maxRecordBytes = maxRecordBytesOf(options);
  if (signal?.aborted) return;

  const guard = new InputGuardState(file, maxRecordBytes);
  const feed = new ParserFeed(maxRecordBytes);
  const rows = new RowStage(file, features, classes, options);
  let input: Readable | null = null;
  const onAbort = () => input?.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  let good = 0;
  let reportedBytes = 0;
  try {
    const opened: InputBytes = options.text
      ? { from: options.text as Readable, compressedRead: null }
      : await openInputBytes(options.input, options.stdin);
    input =
      typeof opened.from === 'string' ? createReadStream(opened.from, { highWaterMark: READ_CHUNK }) : opened.from;
    // A gzip input's progress is its compressed bytes read (what its size on disk measures).
    const progressBytes = (parsed: number) => opened.compressedRead?.() ?? parsed;
    // Every row before a problem's line goes out before the problem, however the input is cut.
    for await (const chunk of readChunks(input, guard)) {
      const records = chunk === null ? await feed.end() : await feed.write(chunk);
      for (const located of records) {
        if (options.onBytes && located.bytes - reportedBytes >= BYTES_PER_PROGRESS) {
          reportedBytes = located.bytes;
          options.onBytes(progressBytes(located.bytes));
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
      if (feed.error !== null)
        throw toDataError(feed.error, { file, maxRecordBytes, line: feed.errorLine, quoting: feed.quoting });
      if (signal?.aborted) return;
    }
    if (guard.failure === null) options.onBytes?.(progressBytes(guard.bytes));
  } catch (error) {
    if (signal?.aborted && !(error instanceof DataError)) return;
    throw toDataError(error, { file, maxRecordBytes, line: 0, quoting: false });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Stop reading now, so that the input is closed by the time the generator is done.
    if (input !== null && !input.destroyed) input.destroy();
  }
  rows.checkHint();
  if (guard.failure !== null) throw guard.failure;
  if (rows.layout === null) throw new DataError(file, 0, msg.noRowsEmpty);
  if (rows.seen === 0) throw new DataError(file, 0, msg.noRowsHeaderOnly(rows.headerLine));
}

/** The input's chunks as the guard passes them on (none after a problem), then null for the end. */
async function* readChunks(
  input: NodeJS.ReadableStream,
  guard: InputGuardState,
): AsyncGenerator<Buffer | null, void, undefined> {
  for await (const data of input as AsyncIterable<Buffer | string>) {
    yield* guard.pass(typeof data === 'string' ? Buffer.from(data) : data);
    if (guard.failure !== null) break;
  }
  if (guard.failure === null) yield* guard.end();
  yield null;
}

/** csv-parse fed by hand a chunk at a time; on_record keeps a chunk's records before its error. */
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

  /** The first data records, for the label hint (columns.ts), until it has been checked. */
  private sample: string[][] | null = null;

  constructor(
    private readonly file: string,
    private readonly features: number,
    private readonly classes: number,
    private readonly options: Pick<CsvSourceOptions, 'columns' | 'onLayout' | 'onWarning'>,
  ) {}

  /** Warns (once) when the unlabeled input's first column looks like labels. */
  checkHint(): void {
    if (this.sample !== null && looksLabeled(this.sample, this.classes))
      this.options.onWarning?.(`${this.file}: ${labelHint(this.features)}`);
    this.sample = null;
  }

  /** The row, the problem with it, or null for the header. Throws for a first record that fits no layout. */
  take({ record, line, endLine }: LocatedRecord): Row | string | null {
    if (this.rowParser === null) {
      const result = resolveLayout(record, this.features, this.options.columns);
      if ('problem' in result) throw new DataError(this.file, line, result.problem);
      this.layout = result.layout;
      this.rowParser = new RowParser(result.layout, this.features, this.classes);
      this.options.onLayout?.(result.layout);
      if (this.options.onWarning && result.layout.labelIndex < 0 && this.options.columns === undefined)
        this.sample = [];
      if (result.layout.hasHeader) {
        this.headerLine = line;
        return null;
      }
    }
    this.seen++;
    if (this.sample !== null) {
      this.sample.push(record);
      if (this.sample.length === HINT_ROWS) this.checkHint();
    }
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
 * Line numbers that count '\n' only (like wc -l); csv-parse's `lines` counts a bare '\r' too. A record
 * starts after the previous one's end plus the blank lines skipped (`empty_lines`), and ends as many
 * lines later as its quoted fields hold '\n's (searched only when csv-parse saw a break inside).
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

/** Where csv-parse failed: the failing record's first line, and whether it was inside a quoted field. */
interface ErrorContext {
  file: string;
  maxRecordBytes: number;
  line: number;
  quoting: boolean;
}

/** csv-parse's errors and read errors as DataErrors, at the line of the record they happened in. */
function toDataError(error: unknown, context: ErrorContext): unknown {
  return error instanceof CsvError
    ? new DataError(context.file, context.line, csvProblem(error, context))
    : readFailure(error, context.file);
}

function csvProblem(error: CsvError, context: ErrorContext): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return msg.unclosedQuoteAtEnd;
    case 'CSV_MAX_RECORD_SIZE':
      return context.quoting
        ? msg.unclosedQuoteTooLong(context.maxRecordBytes)
        : msg.recordTooLong(context.maxRecordBytes);
    default:
      return `CSV syntax error (${error.code}): ${error.message}`;
  }
}
