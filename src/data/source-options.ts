// The options every CSV source takes (the csv-parse path and the framer alike), kept apart from
// csv-source.ts so that the framer does not load csv-parse's streaming parser.
import { DataError } from '../errors.js';
import { badGzip, cannotRead } from './messages.js';
import type { ColumnChoice } from './columns.js';
import type { CsvLayout, RowError } from './types.js';

export interface CsvSourceOptions {
  /** A file path, or '-' for stdin. */
  input: string;
  /** Used when input is '-' (default process.stdin). It is consumed, and destroyed if we stop early. */
  stdin?: NodeJS.ReadableStream;
  /**
   * The input's text, already opened (what a source read, replayed): read instead of `input`, which still names it in
   * messages.
   */
  text?: NodeJS.ReadableStream;
  /** Pixels per row (784 for MNIST; from the model's first layer). */
  features: number;
  /** Labels must be integers 0..classes-1. */
  classes: number;
  onError: 'fail' | 'skip';
  /** Called for every bad row under 'skip'. */
  onRowError?: (error: RowError) => void;
  /** Which columns are the label and not pixels (--label-column, --drop-columns); unset: detected. */
  columns?: ColumnChoice;
  /** Called (once) with a warning about the input, e.g. that an unlabeled file's first column looks like labels. */
  onWarning?: (message: string) => void;
  /** Called once, when the header / first row fixed the layout. */
  onLayout?: (layout: CsvLayout) => void;
  /**
   * Progress: bytes of the input parsed so far (of a gzip file: compressed bytes read). Called at most every ~64 KB,
   * and once at the end.
   */
  onBytes?: (bytesRead: number) => void;
  /** Stop after this many good rows (and stop reading the input). */
  limit?: number;
  /** Bound on one record's size in bytes (default: max(64 KiB, 16 bytes per field)). */
  maxRecordBytes?: number;
  /** Stop reading when aborted; the generator then returns normally. */
  signal?: AbortSignal;
}

/** The input's name in messages ('-' is stdin). */
export const inputName = (input: string) => (input === '-' ? '<stdin>' : input);

/** Default bound on one record's size: max(64 KiB, 16 bytes per field). */
export const defaultMaxRecordBytes = (features: number) => Math.max(64 * 1024, (features + 1) * 16);

/** The options' bound on one record's size, or the default one. */
export const maxRecordBytesOf = (options: Pick<CsvSourceOptions, 'features' | 'maxRecordBytes'>) =>
  options.maxRecordBytes ?? defaultMaxRecordBytes(options.features);

/** The option checks of openSource and csvRows (programming errors: TypeError / RangeError naming the option). */
export function checkCsvSourceOptions(o: CsvSourceOptions): void {
  const positiveInt = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
  const bad = (name: string, want: string, got: unknown) =>
    new RangeError(`CSV source option ${name} must be ${want}, got ${String(got)}`);
  if (typeof o.input !== 'string' || o.input === '')
    throw new TypeError('CSV source option input must be a path or "-"');
  if (!positiveInt(o.features)) throw bad('features', 'a positive integer', o.features);
  // Labels travel in an Int16Array (batcher), so at most 32767 classes.
  if (!positiveInt(o.classes) || o.classes > 32767) throw bad('classes', 'an integer 1..32767', o.classes);
  if (o.onError !== 'fail' && o.onError !== 'skip') throw bad('onError', "'fail' or 'skip'", o.onError);
  if (o.limit !== undefined && !positiveInt(o.limit)) throw bad('limit', 'a positive integer', o.limit);
  if (o.maxRecordBytes !== undefined && !positiveInt(o.maxRecordBytes))
    throw bad('maxRecordBytes', 'a positive integer', o.maxRecordBytes);
}

/** A read error (or a gzip input's decompression error) as a DataError naming the input; anything else unchanged. */
export function readFailure(error: unknown, file: string): unknown {
  if (error instanceof DataError) return error;
  const errno = error as NodeJS.ErrnoException;
  // zlib's errors carry Z_* codes (Z_BUF_ERROR: the stream ends early; Z_DATA_ERROR: bad data) and no syscall.
  if (errno && typeof errno.code === 'string' && errno.code.startsWith('Z_'))
    return new DataError(file, 0, badGzip(errno.message));
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string')
    return new DataError(file, 0, cannotRead(errno.code, errno.syscall));
  return error;
}

/** For a promise's catch(): rethrows its error as readFailure words it. */
export const rethrowAs =
  (file: string) =>
  (error: unknown): never => {
    throw readFailure(error, file);
  };
