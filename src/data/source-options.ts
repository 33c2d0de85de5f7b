// The options every CSV source takes (the csv-parse path and the fast path alike), kept apart from
// csv-source.ts so that the fast path does not load csv-parse.
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
