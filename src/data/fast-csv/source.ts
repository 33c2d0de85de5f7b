// The fast path as an async generator of batches: what `batchRows(csvRows(options), ...)` yields, from
// the same options, through FastCsvDecoder instead of csv-parse.
//
// Reading: the stream's chunks are queued as they arrive and decoded, one chunk at a time, when this
// generator runs; what they produce is delivered (batches yielded, onRowError called, a bad row thrown
// under 'fail') once the input has nothing more to give right away. That is when the csv-parse path's
// consumer gets to run too: its stream stages read, check and parse everything already available
// before the records reach it. So an error that ends the read (binary input, an over-long line, an
// unclosed quote) wins over the rows and row errors of the same stretch of input on both paths, e.g.
// anywhere in a small file, while rows delivered before it stay delivered. (On big inputs how far the
// csv-parse path reads ahead depends on its stream buffers and timing; this path reads at most
// READ_AHEAD undelivered bytes ahead, which also keeps memory flat on any input size.)
import { checkBatcherOptions } from '../batcher.js';
import { DataError } from '../../errors.js';
import { checkCsvSourceOptions, defaultMaxRecordBytes, STDIN_NAME, type CsvSourceOptions } from '../source-options.js';
import type { Batch } from '../types.js';
import { FastCsvDecoder, type PartialBatch } from './decoder.js';
import { InputFeed } from './input-feed.js';
import * as msg from './messages.js';

export interface FastCsvOptions extends CsvSourceOptions {
  batchSize: number;
  /** 256 entries: the float for each pixel byte (see normalizationTable). */
  table: Float32Array;
}

const READ_AHEAD = 64 * 1024;
const BYTES_PER_PROGRESS = 64 * 1024;

/** batchRows' and then csvRows' option checks, with their messages (programming errors). */
export function checkFastOptions(o: FastCsvOptions): void {
  checkBatcherOptions(o);
  checkCsvSourceOptions(o);
}

/** A read error as the csv-parse path reports it; anything else unchanged. */
export function readFailure(error: unknown, file: string): unknown {
  if (error instanceof DataError) return error;
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') return new DataError(file, 0, msg.cannotRead(errno.code, errno.syscall));
  return error;
}

const sliceOf = (p: PartialBatch, features: number): Batch => ({
  index: p.index,
  rows: p.rows,
  features,
  x: p.x.slice(0, p.rows * features),
  labels: p.labels.slice(0, p.rows),
  lines: p.lines.slice(0, p.rows),
});

/** An input already opened, and its first chunk read (by `auto`, to choose the path). */
export interface OpenedInput {
  feed: InputFeed;
  /** What the first read delivered. */
  first: Buffer[];
}

/** The fast path: the input is opened here, or `opened` goes on where the sniffer stopped. */
export async function* fastCsvBatches(options: FastCsvOptions, opened?: OpenedInput): AsyncGenerator<Batch, void, undefined> {
  try {
    checkFastOptions(options);
  } catch (error) {
    opened?.feed.destroy();
    throw error;
  }
  const { features, onError, signal } = options;
  const file = options.input === '-' ? STDIN_NAME : options.input;
  if (signal?.aborted) {
    opened?.feed.destroy();
    return;
  }
  const decoder = new FastCsvDecoder({
    file,
    features,
    classes: options.classes,
    onError,
    limit: options.limit,
    maxRecordBytes: options.maxRecordBytes ?? defaultMaxRecordBytes(features),
    batchSize: options.batchSize,
    table: options.table,
  });
  const feed = opened?.feed ?? new InputFeed(options.input, options.stdin);
  let fatal: unknown = null;
  // Chunks are only queued in the 'data' handler and decoded when this generator runs: a file stream
  // asks for its next chunk right after the handler returns, so that read overlaps the decoding.
  const arrived: Buffer[] = [];
  let pendingBytes = 0;
  const sink = (chunk: Buffer) => {
    arrived.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= READ_AHEAD) feed.pause();
  };
  /** Decodes the chunks that arrived since the last call; an error that ends the read goes to `fatal`. */
  const decodeArrived = () => {
    for (let i = 0; i < arrived.length && fatal === null; i++) {
      try {
        decoder.push(arrived[i]);
      } catch (error) {
        fatal = error;
        feed.pause();
      }
    }
    arrived.length = 0;
  };
  for (const chunk of [...(opened?.first ?? []), ...feed.setSink(sink)]) sink(chunk);
  const onAbort = () => feed.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });

  const events = decoder.events;
  /** The rows of the unfinished batch delivered so far (what an abort leaves as the last batch). */
  let delivered: PartialBatch | null = null;
  let reportedBytes = 0;
  let finished = false;
  const stopped = () => signal?.aborted === true;
  try {
    read: for (;;) {
      decodeArrived();
      if (fatal !== null) throw fatal;
      if (feed.error !== null) {
        const failure = readFailure(feed.error, file);
        if (stopped() && !(failure instanceof DataError)) break;
        throw failure;
      }
      if (feed.ended && !finished) {
        decoder.finish();
        finished = true;
      }
      for (let i = 0; i < events.length; i++) {
        const event = events[i];
        switch (event.kind) {
          case 'layout':
            options.onLayout?.(event.layout);
            break;
          case 'rowError':
            if (onError === 'fail') throw new DataError(file, event.line, event.message);
            options.onRowError?.({ line: event.line, message: event.message });
            break;
          case 'fatal':
            throw event.error;
          case 'mark':
            delivered = event.partial;
            if (options.onBytes && event.bytes - reportedBytes >= BYTES_PER_PROGRESS) {
              reportedBytes = event.bytes;
              options.onBytes(event.bytes);
            }
            break;
          case 'limit':
            if (event.partial) yield sliceOf(event.partial, features);
            return;
          case 'batch':
            delivered = null;
            yield event.batch;
            // What arrived while the consumer had the batch: an error that ends the read wins over
            // the rest of what was decoded, as on the csv-parse path.
            decodeArrived();
            if (fatal !== null || feed.error !== null) {
              events.splice(0, i + 1);
              continue read;
            }
            break;
        }
        if (stopped()) break;
      }
      if (stopped()) break;
      events.length = 0;
      if (finished) {
        options.onBytes?.(decoder.bytesRead);
        if (decoder.layout === null) throw new DataError(file, 0, msg.noRowsEmpty);
        if (decoder.good === 0 && decoder.bad === 0) throw new DataError(file, 0, msg.noRowsHeaderOnly(decoder.headerLine));
        if (decoder.good === 0) throw new DataError(file, 0, msg.noValidRows(decoder.bad));
        const last = decoder.partial();
        if (last) yield sliceOf(last, features);
        return;
      }
      pendingBytes = 0;
      feed.resume();
      await feed.next();
    }
    // Aborted: like csvRows returning early, the rows delivered so far make the last batch.
    if (delivered !== null && delivered.rows > 0) yield sliceOf(delivered, features);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    feed.setSink(null);
    feed.destroy();
  }
}
