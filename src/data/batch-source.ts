// Where batches come from: the fast CSV decoder or the general csv-parse path, chosen per input.
//
//   csv-parse  csvRows + batchRows: any CSV the pipeline accepts; the reference behaviour (the oracle).
//   fast       src/data/fast-csv: decodes digits straight into the batch's Float32Array. Same batches,
//              line numbers, row errors and input errors as csv-parse on every input (records it does
//              not decode itself, such as quoted fields, go through a port of csv-parse's parse loop
//              and RowParser), so it never refuses an input; it is just slower on such records.
//   auto       fast, unless the first chunk of the input contains a quote character. Precisely: the
//              data the first read delivers (a file's first 64 KiB; from stdin whatever the first read
//              returns, up to 64 KiB from a pipe), and the csv-parse path when it holds a '"' (0x22).
//              Quoted fields at the start mean a CSV dialect that quotes, where nearly every record
//              would take the fast path's slow lane and csv-parse is the better tool; a quote further
//              down in an otherwise plain file is one slow record on the fast path. Deciding on the
//              first chunk only, which either path would have read before reporting anything, keeps
//              `auto`'s reports identical to the chosen path's, timing included. The chunk is not read
//              twice: it is handed to the chosen path.
import { PassThrough, pipeline } from 'node:stream';
import { DataError } from '../errors.js';
import { batchRows } from './batcher.js';
import { STDIN_NAME, type CsvSourceOptions } from './source-options.js';
import { InputFeed } from './fast-csv/input-feed.js';
import { checkFastOptions, fastCsvBatches, readFailure } from './fast-csv/source.js';
import type { Batch, WorkItem } from './types.js';
import { fastCsvLineBatches, LINE_BATCH_READ_CHUNK } from './fast-csv/line-batches.js';

export const PARSER_CHOICES = ['auto', 'fast', 'csv-parse'] as const;
export type ParserChoice = (typeof PARSER_CHOICES)[number];

export interface BatchSourceOptions extends CsvSourceOptions {
  batchSize: number;
  /** 256 entries: the float for each pixel byte (see normalizationTable). */
  table: Float32Array;
  parser: ParserChoice;
}

/**
 * Where the fast path decodes: 'main' (here, into Batches) or 'workers' (here only cut into LineBatches
 * of raw lines, which the workers decode; see fast-csv/line-batches.ts for what that changes).
 */
export type DecodePlacement = 'main' | 'workers';

export interface BatchSource<T extends WorkItem = WorkItem> {
  /** Batches, or (fast path decoding in the workers) LineBatches. */
  batches: AsyncGenerator<T, void, undefined>;
  /**
   * Resolves once the parser actually used is known: at once for 'fast' and 'csv-parse'; for 'auto'
   * when `batches` has read the start of the input (so await it after the first batch, or at the end).
   * If the input fails or the read is aborted before 'auto' could decide, it resolves to 'fast'.
   */
  parser: Promise<'fast' | 'csv-parse'>;
}

const QUOTE = 0x22;
/** As much as the fast path reads ahead; a stream's first read is no bigger in practice. */
const FIRST_READ_MAX = 64 * 1024;

export function openBatchSource(options: BatchSourceOptions): BatchSource<Batch>;
export function openBatchSource(options: BatchSourceOptions, decodeIn: DecodePlacement): BatchSource;
export function openBatchSource(options: BatchSourceOptions, decodeIn: DecodePlacement = 'main'): BatchSource {
  if (!PARSER_CHOICES.includes(options.parser)) {
    throw new RangeError(`openBatchSource: parser must be one of ${PARSER_CHOICES.join(', ')}, got ${String(options.parser)}`);
  }
  let settle: (parser: 'fast' | 'csv-parse') => void = () => undefined;
  const parser = new Promise<'fast' | 'csv-parse'>((resolve) => (settle = resolve));
  switch (options.parser) {
    case 'fast':
      settle('fast');
      return { batches: decodeIn === 'workers' ? fastCsvLineBatches(options) : fastCsvBatches(options), parser };
    case 'csv-parse':
      settle('csv-parse');
      return { batches: csvParseBatches(options), parser };
    default:
      return { batches: autoBatches(options, decodeIn, settle), parser };
  }
}

/** The general path, unchanged; csv-parse is loaded only when this path is taken. */
async function* csvParseBatches(options: BatchSourceOptions): AsyncGenerator<Batch, void, undefined> {
  const { batchSize, features, table } = options;
  const { csvRows } = await import('./csv-source.js');
  yield* batchRows(csvRows(options), { batchSize, features, table });
}

async function* autoBatches(options: BatchSourceOptions, decodeIn: DecodePlacement, settle: (parser: 'fast' | 'csv-parse') => void): AsyncGenerator<WorkItem, void, undefined> {
  let feed: InputFeed | null = null;
  let handedOver = false;
  try {
    checkFastOptions(options);
    const { signal } = options;
    if (signal?.aborted) return;
    const file = options.input === '-' ? STDIN_NAME : options.input;
    feed = new InputFeed(options.input, options.stdin, decodeIn === 'workers' ? LINE_BATCH_READ_CHUNK : undefined);
    const first: Buffer[] = [];
    let bytes = 0;
    const take = (chunk: Buffer) => {
      first.push(chunk);
      bytes += chunk.length;
      // A stream that can always give more (it pushes from _read) would otherwise never stop.
      if (bytes >= FIRST_READ_MAX) feed?.pause();
    };
    for (const chunk of feed.setSink(take)) take(chunk);
    const onAbort = () => feed?.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (bytes === 0 && !feed.ended && feed.error === null) await feed.next();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    feed.pause();
    feed.setSink(null);
    if (signal?.aborted) return;
    if (feed.error !== null && bytes === 0) throw readFailure(feed.error, file);

    if (!first.some((chunk) => chunk.indexOf(QUOTE) !== -1)) {
      settle('fast');
      handedOver = true;
      if (decodeIn === 'workers') yield* fastCsvLineBatches(options, { feed, first });
      else yield* fastCsvBatches(options, { feed, first });
      return;
    }
    settle('csv-parse');
    // csv-parse reads the first chunk, then the rest of the input, as its stdin. The rest follows a
    // turn of the event loop later (unless the input ended with that chunk), as it would have arrived.
    const replay = new PassThrough({ highWaterMark: 64 * 1024 });
    const source = feed.stream;
    const ended = feed.ended;
    feed.detach();
    for (const chunk of first) replay.write(chunk);
    if (ended) replay.end();
    else {
      setImmediate(() => {
        if (!replay.destroyed) pipeline(source, replay, () => undefined);
      });
    }
    handedOver = true;
    try {
      yield* csvParseBatches({ ...options, input: '-', stdin: replay });
    } catch (error) {
      // csvRows names its input '<stdin>'; it is the real input here.
      if (error instanceof DataError && error.file === STDIN_NAME && file !== STDIN_NAME) {
        throw new DataError(file, error.line, error.problem, error.code);
      }
      throw error;
    } finally {
      if (!source.destroyed) source.destroy();
    }
  } finally {
    settle('fast');
    if (!handedOver) feed?.destroy();
  }
}
