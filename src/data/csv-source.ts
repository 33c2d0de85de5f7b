// The CSV source: a file (or stdin) streamed through csv-parse, one validated Row at a time.
//
//   input stream -> InputGuard (line length, binary check) -> csv-parse -> layout + RowParser -> Row
//
// csv-parse does the CSV syntax (quotes, BOM, CRLF) and knows where each record ends; we consume it
// with `for await`, so a slow consumer slows the file read down (backpressure) and memory stays flat.
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
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type InfoRecord, type Options } from 'csv-parse';
import { DataError } from '../errors.js';
import { InputGuardState } from './fast-csv/input-guard.js';
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
 * does not fit, a CSV syntax error) always throw.
 */
export async function* csvRows(options: CsvSourceOptions): AsyncGenerator<Row, void, undefined> {
  checkCsvSourceOptions(options);
  const { features, classes, onError, limit, signal } = options;
  const file = options.input === '-' ? STDIN_NAME : options.input;
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(features);
  if (signal?.aborted) return;

  const input =
    options.input === '-' ? (options.stdin ?? process.stdin) : createReadStream(options.input, { highWaterMark: READ_CHUNK });
  const guard = new InputGuard(file, maxRecordBytes);
  const lines = new LineTracker();
  const parserOptions: Options<LocatedRecord, string[]> = {
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\n', '\r\n'],
    // Counts the characters of a record's fields (not its commas); the guard bounds the whole line.
    max_record_size: maxRecordBytes,
    // Runs inside the parser, in parse order, so the line count is also right for a parse error that
    // happens while earlier records still sit in the stream's buffer.
    on_record: (record, context) => lines.locate(record, context),
  };
  // The typings' non-generic overload only knows string[] records; on_record makes ours LocatedRecords.
  const parser = parse(parserOptions as unknown as Options);
  // Errors of any stage destroy all three with that error, and the `for await` below throws it.
  // Stopping early (limit, abort, a thrown bad row) destroys the parser, which closes the input.
  const flowing = pipeline(input, guard, parser);
  flowing.catch(() => undefined);
  const onAbort = () => parser.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });

  let rowParser: RowParser | null = null;
  let layout: CsvLayout | null = null;
  let headerLine = 0;
  let good = 0;
  let bad = 0;
  let reportedBytes = 0;
  try {
    for await (const { record, line, endLine, bytes } of parser as AsyncIterable<LocatedRecord>) {
      if (options.onBytes && bytes - reportedBytes >= BYTES_PER_PROGRESS) {
        reportedBytes = bytes;
        options.onBytes(bytes);
      }
      if (rowParser === null) {
        const result = detectLayout(record, features);
        if ('problem' in result) throw new DataError(file, line, result.problem);
        layout = result.layout;
        rowParser = new RowParser(layout, features, classes);
        options.onLayout?.(layout);
        if (layout.hasHeader) {
          headerLine = line;
          continue;
        }
      }
      let row = rowParser.parse(record, line);
      if (typeof row === 'string') {
        // Usually a quote that opened a field and was closed lines later: name every line it took.
        if (endLine > line) row = `a quoted field contains a line break (the record runs from line ${line} to ${endLine})`;
        if (onError === 'fail') throw new DataError(file, line, row);
        bad++;
        options.onRowError?.({ line, message: row });
      } else {
        good++;
        yield row;
        if (limit !== undefined && good >= limit) return;
      }
      if (signal?.aborted) return;
    }
  } catch (error) {
    if (signal?.aborted && !(error instanceof DataError)) return;
    throw toDataError(error, { file, maxRecordBytes, line: lines.nextStart(error), quoting: parserIsQuoting(parser) });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Normal end: all finished. Early return or throw: stop reading now. pipeline() would destroy the
    // guard and the input too, but only a tick later; doing it here means the input is closed (and
    // a file descriptor released) by the time the generator is done, without waiting on anything.
    for (const stream of [parser, guard, input as Partial<Readable>]) {
      if (!stream.destroyed && typeof stream.destroy === 'function') stream.destroy();
    }
  }
  options.onBytes?.(guard.bytes);

  if (layout === null) throw new DataError(file, 0, 'no rows: the input is empty (or only blank lines)');
  if (good === 0 && bad === 0) throw new DataError(file, 0, `no rows: the input has a header (line ${headerLine}) but no data rows`);
  if (good === 0) throw new DataError(file, 0, `no valid rows: all ${bad} data row${bad === 1 ? ' is' : 's are'} bad (see the errors above)`);
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

/** csv-parse keeps its state public (`parser.state`, "backward compatibility"); we only read `quoting`. */
function parserIsQuoting(parser: object): boolean {
  const state = (parser as { state?: { quoting?: unknown } }).state;
  return state?.quoting === true;
}

/** csv-parse's errors and read errors as DataErrors, at the line of the record they happened in. */
function toDataError(error: unknown, context: ErrorContext): unknown {
  if (error instanceof DataError) return error;
  if (error instanceof CsvError) return new DataError(context.file, context.line, csvProblem(error, context));
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    return new DataError(context.file, 0, `cannot read the input (${errno.code}: ${errno.syscall} failed)`);
  }
  return error;
}

function csvProblem(error: CsvError, context: ErrorContext): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'unclosed quote: a quoted field starts in this record and never ends';
    case 'CSV_MAX_RECORD_SIZE':
      return context.quoting
        ? `unclosed quote: a quoted field starts in this record and does not end within ${context.maxRecordBytes} bytes (maxRecordBytes)`
        : `record is longer than the limit of ${context.maxRecordBytes} bytes (maxRecordBytes)`;
    default:
      return `CSV syntax error (${error.code}): ${error.message}`;
  }
}

/**
 * Sits between the input and csv-parse, passing chunks through unchanged. It bounds a physical line's
 * length *before* csv-parse buffers it: csv-parse's own max_record_size counts only field characters,
 * so a line of nothing but commas would otherwise grow a record of millions of empty fields. And it
 * rejects binary input early, on the first non-blank line: a NUL byte or invalid UTF-8 there means
 * this is not a CSV text file (UTF-16 included), which reads better than a "wrong field count" error.
 * The checks are InputGuardState's (fast-csv/input-guard.ts), shared with the fast path, so both paths
 * refuse the same inputs with the same messages; this wraps them as a stream stage.
 */
class InputGuard extends Transform {
  private readonly state: InputGuardState;

  constructor(file: string, maxLineBytes: number) {
    super();
    this.state = new InputGuardState(file, maxLineBytes);
  }

  /** Bytes passed through so far. */
  get bytes(): number {
    return this.state.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.state.check(chunk);
      callback(null, chunk);
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.state.flush();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
