// The first record of the input (header or first row) fixes the layout, so csv-parse itself reads it
// (BOM, blank lines, quoted line breaks); after it the framer only finds line ends.
import { parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import { countNewlines } from './input-guard.js';
import * as msg from './messages.js';

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** The options of every csv-parse call in this project (see csv-source.ts for why each is set). */
export const CSV_PARSE_OPTIONS: Readonly<Options> = {
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  record_delimiter: ['\n', '\r\n'],
};

export type FirstRecord =
  /** More input is needed to tell. */
  | { status: 'more' }
  /** The input holds no record (nothing, or only blank lines). */
  | { status: 'none' }
  | {
      status: 'record';
      fields: string[];
      /** Its first line, and the line breaks inside it (in quoted fields). */
      line: number;
      newlines: number;
      /** Offsets in `head`: where it starts (after a BOM and blank lines) and where it ends (after its line end). */
      start: number;
      end: number;
    };

/** A record that readFirstRecord found. */
export type FoundRecord = Extract<FirstRecord, { status: 'record' }>;

/**
 * The first record of `passed` (what the input guard passed on; `failure`: the problem it found), or null when more
 * input is needed. Throws the guard's problem, or "no rows" for an input without a record.
 */
export function firstRecordOrFail(
  passed: Buffer,
  ended: boolean,
  failure: DataError | null,
  file: string,
  maxRecordBytes: number,
): FoundRecord | null {
  const first = readFirstRecord(passed, ended || failure !== null, file, maxRecordBytes);
  if (first.status === 'none') throw failure ?? new DataError(file, 0, msg.noRowsEmpty);
  if (first.status === 'record') return first;
  if (failure !== null) throw failure;
  if (ended) throw new DataError(file, 0, msg.noRowsEmpty);
  return null;
}

/** Where the data starts: at the first record, or after it when it is the header (line 0: none). */
export function dataStartOf(first: FoundRecord, hasHeader: boolean) {
  return hasHeader
    ? { offset: first.end, line: first.line + first.newlines + 1, headerLine: first.line }
    : { offset: first.start, line: first.line, headerLine: 0 };
}

/**
 * Reads the first record from `head`, the input's first bytes (`ended`: there are no more). Throws a
 * DataError for csv-parse's errors there: a quote that is never closed, a record over the size bound.
 */
export function readFirstRecord(head: Buffer, ended: boolean, file: string, maxRecordBytes: number): FirstRecord {
  if (head.length < 3 && !ended && (head.length === 0 || head[0] === 0xef)) return { status: 'more' };
  let p = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  let line = 1;
  for (;;) {
    if (head[p] === NL) p++;
    else if (head[p] === CR && head[p + 1] === NL) p += 2;
    else if (head[p] === CR && p + 1 === head.length && !ended) return { status: 'more' };
    else break;
    line++;
  }
  if (p >= head.length) return ended ? { status: 'none' } : { status: 'more' };
  const nl = head.indexOf(NL, p);
  if (nl === -1 && !ended) return { status: 'more' };

  // Without a quote the record is this one line; with one it may run on (csv-parse decides).
  const quoted = head.subarray(p, nl === -1 ? head.length : nl).indexOf(QUOTE) !== -1;
  const text = quoted ? head.subarray(p) : head.subarray(p, nl === -1 ? head.length : nl + 1);
  // (A whole line without a quote is the whole record: csv-parse need not wait to see what follows it.)
  const parsed = quoted ? parseFirst(text, ended, maxRecordBytes) : splitLine(text, maxRecordBytes);
  if (parsed === 'more') return { status: 'more' };
  if (parsed === 'unclosed') throw new DataError(file, line, msg.unclosedQuoteAtEnd);
  if (parsed === 'too long') throw new DataError(file, line, msg.recordTooLong(maxRecordBytes));
  if (parsed === 'too long, quoting') throw new DataError(file, line, msg.unclosedQuoteTooLong(maxRecordBytes));
  const end = p + parsed.bytes;
  return { status: 'record', fields: parsed.record, line, newlines: countNewlines(head, p, end - 1), start: p, end };
}

/**
 * A line without a quote, split at its commas: what csv-parse makes of it (test/data/head.test.ts checks), without
 * the ~8 ms its first call costs a short run. Over the size bound, csv-parse words the error.
 */
function splitLine(text: Buffer, maxRecordBytes: number): Parsed {
  let end = text.length;
  if (text[end - 1] === NL) end -= text[end - 2] === CR ? 2 : 1;
  if (end > maxRecordBytes) return parseFirst(text, true, maxRecordBytes);
  return { record: text.toString('utf8', 0, end).split(','), bytes: text.length };
}

type Parsed = { record: string[]; bytes: number } | 'more' | 'unclosed' | 'too long' | 'too long, quoting';

/** csv-parse's first record of `text`, or why there is none (the streaming parser, for its `quoting` state). */
function parseFirst(text: Buffer, ended: boolean, maxRecordBytes: number): Parsed {
  let first: { record: string[]; bytes: number } | null = null;
  const on_record = (record: string[], context: { bytes: number }) => {
    first ??= { record, bytes: context.bytes };
    return null;
  };
  const parser = parse({ ...CSV_PARSE_OPTIONS, max_record_size: maxRecordBytes, to: 1, on_record } as Options);
  const state = (parser as unknown as { state: { stop: boolean; quoting: boolean } }).state;
  parser.on('error', () => undefined); // read from its state below
  parser.write(text);
  if (first === null && state.stop) return state.quoting ? 'too long, quoting' : 'too long';
  // csv-parse holds a record until it has seen what follows it, or the end.
  if (first === null && !ended) return 'more';
  if (first === null) parser.end();
  parser.destroy();
  if (first !== null) return first;
  // It failed at the end of the input; its error comes a tick later, so ask the synchronous parser which.
  try {
    parseSync(text, { ...CSV_PARSE_OPTIONS, max_record_size: maxRecordBytes, to: 1 } as Options);
  } catch (error) {
    if ((error as { code?: string }).code === 'CSV_MAX_RECORD_SIZE')
      return state.quoting ? 'too long, quoting' : 'too long';
  }
  return 'unclosed';
}
