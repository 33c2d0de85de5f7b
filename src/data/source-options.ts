// The options every CSV source takes (the csv-parse path and the framer alike), kept apart from
// csv-source.ts so that the framer does not load csv-parse's streaming parser.
import type { CsvLayout, RowError } from './types.js';

export interface CsvSourceOptions {
  /** A file path, or '-' for stdin. */
  input: string;
  /** Used when input is '-' (default process.stdin). It is consumed, and destroyed if we stop early. */
  stdin?: NodeJS.ReadableStream;
  /** Pixels per row (784 for MNIST; from the model's first layer). */
  features: number;
  /** Labels must be integers 0..classes-1. */
  classes: number;
  onError: 'fail' | 'skip';
  /** Called for every bad row under 'skip'. */
  onRowError?: (error: RowError) => void;
  /** Called once, when the header / first row fixed the layout. */
  onLayout?: (layout: CsvLayout) => void;
  /** Progress: bytes of the input parsed so far. Called at most every ~64 KB, and once at the end. */
  onBytes?: (bytesRead: number) => void;
  /** Stop after this many good rows (and stop reading the input). */
  limit?: number;
  /** Bound on one record's size in bytes (default: max(64 KiB, 16 bytes per field)). */
  maxRecordBytes?: number;
  /** Stop reading when aborted; the generator then returns normally. */
  signal?: AbortSignal;
}

/** How `file` is named in messages when the input is stdin. */
export const STDIN_NAME = '<stdin>';

/** Default bound on one record's size: max(64 KiB, 16 bytes per field). */
export const defaultMaxRecordBytes = (features: number) => Math.max(64 * 1024, (features + 1) * 16);

/** csvRows' option checks (programming errors: TypeError / RangeError). */
export function checkCsvSourceOptions(o: CsvSourceOptions): void {
  const positiveInt = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
  if (typeof o.input !== 'string' || o.input === '') throw new TypeError('csvRows: input must be a path or "-"');
  if (!positiveInt(o.features)) throw new RangeError(`csvRows: features must be a positive integer, got ${o.features}`);
  // Labels travel in an Int16Array (batcher), so at most 32767 classes.
  if (!positiveInt(o.classes) || o.classes > 32767) throw new RangeError(`csvRows: classes must be an integer 1..32767, got ${o.classes}`);
  if (o.onError !== 'fail' && o.onError !== 'skip') throw new RangeError(`csvRows: onError must be 'fail' or 'skip', got ${String(o.onError)}`);
  if (o.limit !== undefined && !positiveInt(o.limit)) throw new RangeError(`csvRows: limit must be a positive integer, got ${o.limit}`);
  if (o.maxRecordBytes !== undefined && !positiveInt(o.maxRecordBytes)) {
    throw new RangeError(`csvRows: maxRecordBytes must be a positive integer, got ${o.maxRecordBytes}`);
  }
}
