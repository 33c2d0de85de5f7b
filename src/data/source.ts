// Where the work comes from: the input cut into blocks of lines for the workers (the framer: fast), or
// parsed into rows by csv-parse (any dialect it reads; the fast path's test oracle). `auto` takes
// csv-parse when a '"' follows the first record in the first read (up to 64 KiB): a quoting dialect
// would send nearly every record to csv-parse anyway. Either path reads gzip input as its text
// (input-bytes.ts).
import { Readable } from 'node:stream';
import { DataError } from '../errors.js';
import { batchRows, rebatch, type PooledBatch } from './batcher.js';
import { decodeBlocks } from './block-decoder.js';
import { ChunkPool, readPieces, type Piece } from './chunks.js';
import { Framer, type FramerOptions } from './framer.js';
import { readFirstRecord } from './head.js';
import { openInputBytes } from './input-bytes.js';
import { FileSequence } from './file-sequence.js';
import { fileRows } from './file-rows.js';
import { readInputHeads } from './input-files.js';
import { inputFileStat } from './input-size.js';
import { describeFiles, LineMap } from './line-map.js';
import { planShardRead, quotedShardProblem, shardInputName } from './shards.js';
import {
  checkCsvSourceOptions,
  maxRecordBytesOf,
  readFailure,
  rethrowAs,
  inputName,
  type CsvSourceOptions,
} from './source-options.js';
import type { Block, CsvLayout, DecodeSpec, Row } from './types.js';

export const PARSER_CHOICES = ['auto', 'fast', 'csv-parse'] as const;
export type ParserChoice = (typeof PARSER_CHOICES)[number];

/** One pool task's work, what one read completed (up to GROUP_ROWS rows): blocks (fast) or batches (csv-parse). */
export type WorkItem = { kind: 'blocks'; blocks: Block[] } | { kind: 'batches'; batches: PooledBatch[] };

/** Rows in a group at most (or one batch, when a batch is bigger). */
export const GROUP_ROWS = 2048;

export interface SourceOptions extends CsvSourceOptions {
  batchSize: number;
  /** 256 entries: the float for each pixel byte (normalize.ts). */
  table: Float32Array;
  parser: ParserChoice;
  /** Read only this shard of the file (src/data/shards.ts): its raw byte range. */
  shard?: { index: number; count: number; byteStart: number; byteEnd: number };
  /** Several input files read as one run, in order (`input` is then the first); unset or one: `input` alone. */
  inputs?: readonly string[];
}

export interface Source {
  /** The path taken. */
  parser: 'fast' | 'csv-parse';
  /** The input's name in messages (several files: "FIRST and N more files"). */
  file: string;
  /** Maps the line numbers of blocks, batches and row errors to each file's own (one file: the same numbers). */
  lineMap: LineMap;
  /** Known once the first item is out. */
  readonly layout: CsvLayout | null;
  /** Bytes of the input read so far. */
  readonly bytesRead: number;
  /** Lines started in what was read (shards.ts), once the framer has read to the end; else null. */
  readonly lines: number | null;
  /** Bound on one record's size (what the decoder must allow too). */
  maxRecordBytes: number;
  items: AsyncGenerator<WorkItem, void, undefined>;
  /** Whether the items stop at `limit` rows (the framer's count, under --on-error fail); else the consumer counts. */
  limited: boolean;
}

const SNIFF_BYTES = 64 * 1024;
const QUOTE = 0x22;

/** The input's name in messages and the map of its lines to each file's own. */
interface Names {
  file: string;
  lineMap: LineMap;
}

/** Reads the csv-parse path's rows (csv-source.ts for one input, file-rows.ts for several). */
type RowReader = (options: CsvSourceOptions) => AsyncGenerator<Row, void, undefined>;

const oneFile = (file: string): Names => ({ file, lineMap: new LineMap([file]) });

export async function openSource(options: SourceOptions): Promise<Source> {
  checkCsvSourceOptions(options);
  if (!PARSER_CHOICES.includes(options.parser))
    throw new RangeError(`parser must be one of ${PARSER_CHOICES.join(', ')}, got ${String(options.parser)}`);
  if (options.inputs !== undefined && options.inputs.length > 1) return filesSource(options, options.inputs);
  const file = inputName(options.input);
  if (options.shard) return shardSource(options, file);
  const names = oneFile(file);
  if (options.parser === 'csv-parse') return csvParseSource(options, names, csvRowsLater, null);
  const bytes = await openInputBytes(options.input, options.stdin).catch(rethrowAs(file));
  const pieces = readPieces(bytes.from, new ChunkPool());
  const first = await pieces.next().catch(rethrowAs(file));
  if (!sniffsQuoted(options, first)) return framedSource(options, names, first, pieces, bytes.compressedRead);
  // A stream cannot be read again: csv-parse takes what was read, then the rest; a plain file is opened again.
  if (typeof bytes.from === 'string') {
    void pieces.return();
    return csvParseSource(options, names, csvRowsLater, null);
  }
  const text = replayStream(first.value as Piece, pieces);
  const replayed: RowReader = (rowOptions) => csvRowsLater({ ...rowOptions, text });
  return csvParseSource(options, names, replayed, bytes.compressedRead);
}

/**
 * Several input files as one run: every file's head read and checked alike first (input-files.ts), then
 * the files' pieces in sequence through one framer, or their rows through csv-parse one file after another.
 */
async function filesSource(options: SourceOptions, files: readonly string[]): Promise<Source> {
  if (options.shard || files.includes('-'))
    throw new RangeError('openSource: several inputs are files, read whole (no stdin, no shard)');
  const heads = await readInputHeads(files, {
    features: options.features,
    maxRecordBytes: maxRecordBytesOf(options),
    columns: options.columns,
  });
  const sizes = await Promise.all(files.map(async (path) => (await inputFileStat(path))?.bytes ?? null));
  const names = { file: describeFiles(files), lineMap: new LineMap(files) };
  if (options.parser !== 'csv-parse') {
    const sequence = new FileSequence(heads, sizes);
    const pieces = sequence.pieces();
    const first = await pieces.next();
    if (!sniffsQuoted(options, first)) return framedSource(options, names, first, pieces, () => sequence.bytesRead);
    await pieces.return();
  }
  const rows: RowReader = (rowOptions) => fileRows({ ...rowOptions, files, sizes, lines: names.lineMap });
  return csvParseSource(options, names, rows, null);
}

/** Whether --parser auto takes csv-parse: a '"' in the first SNIFF_BYTES read, after the first record. */
function sniffsQuoted(options: SourceOptions, first: IteratorResult<Piece, void>): boolean {
  if (options.parser !== 'auto' || first.done) return false;
  const { chunk, start, end } = first.value;
  const bytes = chunk.bytes.subarray(start, Math.min(end, start + SNIFF_BYTES));
  let record: ReturnType<typeof readFirstRecord>;
  try {
    record = readFirstRecord(bytes, false, '', maxRecordBytesOf(options));
  } catch {
    return false; // the framer reports what is wrong with it
  }
  return record.status === 'record' && bytes.indexOf(QUOTE, record.end) !== -1;
}

/** One shard of a file: read from its first line start with the file's layout, framed to its last line. */
async function shardSource(options: SourceOptions, file: string): Promise<Source> {
  const shard = options.shard!;
  if (options.input === '-' || options.limit !== undefined)
    throw new RangeError('openSource: a shard is read from a file, without a limit');
  const range = { start: shard.byteStart, end: shard.byteEnd };
  const { head, read } = await planShardRead(
    options.input,
    file,
    range,
    options.features,
    maxRecordBytesOf(options),
  ).catch(rethrowAs(file));
  if (options.parser === 'csv-parse' || (options.parser === 'auto' && head.quoted))
    throw new DataError(file, 0, quotedShardProblem);
  options.onLayout?.(head.layout);
  const pieces = readPieces(options.input, new ChunkPool(), read.start);
  const first: IteratorResult<Piece, void> =
    read.endAt > 0 ? await pieces.next().catch(rethrowAs(file)) : { done: true, value: undefined };
  const framing = { layout: head.layout, firstLine: read.firstLine, endAt: read.endAt };
  const name = shardInputName(file, shard, read.start);
  return framedSource(options, oneFile(name), first, pieces, null, framing);
}

/** `compressedRead`: a gzip input's compressed bytes read so far (its progress), else null. */
function framedSource(
  options: SourceOptions,
  { file, lineMap }: Names,
  first: IteratorResult<Piece, void>,
  pieces: AsyncGenerator<Piece>,
  compressedRead: (() => number) | null,
  shard?: FramerOptions['shard'],
): Source {
  const limited = options.onError === 'fail' && options.limit !== undefined;
  const maxRecordBytes = maxRecordBytesOf(options);
  const framer = new Framer({
    file: lineMap.files[0],
    lines: lineMap.several ? lineMap : undefined,
    features: options.features,
    rowsPerBlock: options.batchSize,
    maxRecordBytes,
    limit: limited ? options.limit : undefined,
    shard,
    columns: options.columns,
    hint: options.onWarning && { classes: options.classes, warn: options.onWarning },
  });
  let bytesRead = 0;
  let readToEnd = false;
  async function* items(): AsyncGenerator<WorkItem, void, undefined> {
    let out: Block[] = [];
    try {
      for (let next = first; !next.done; next = await pieces.next()) {
        if (options.signal?.aborted) return;
        bytesRead += next.value.end - next.value.start;
        out = framer.push(next.value);
        while (out.length > 0) yield { kind: 'blocks', blocks: takeGroup(out) };
        if (framer.failure) throw framer.failure;
        if (framer.done) {
          readToEnd = options.limit === undefined;
          return;
        }
      }
      out = framer.finish();
      while (out.length > 0) yield { kind: 'blocks', blocks: takeGroup(out) };
      if (framer.failure) throw framer.failure;
      readToEnd = true;
    } catch (error) {
      throw readFailure(error, file);
    } finally {
      for (const block of out) block.release();
      framer.close();
      await pieces.return(undefined);
    }
  }
  return {
    parser: 'fast',
    file,
    lineMap,
    get layout() {
      return framer.layout;
    },
    get bytesRead() {
      return compressedRead?.() ?? bytesRead;
    },
    get lines() {
      return readToEnd ? framer.linesStarted : null;
    },
    maxRecordBytes,
    items: items(),
    limited,
  };
}

/** One input's rows through csv-source.ts, loaded only when this path is taken (csv-parse is big). */
async function* csvRowsLater(options: CsvSourceOptions): AsyncGenerator<Row, void, undefined> {
  const { csvRows } = await import('./csv-source.js');
  yield* csvRows(options);
}

/** `compressedRead`: of an input replayed to csv-parse as a gzip stream, its compressed bytes read (its progress). */
function csvParseSource(
  options: SourceOptions,
  { file, lineMap }: Names,
  readRows: RowReader,
  compressedRead: (() => number) | null,
): Source {
  let layout: CsvLayout | null = null;
  let bytesRead = 0;
  const rows = readRows({
    ...options,
    onLayout: (found) => {
      layout = found;
      options.onLayout?.(found);
    },
    onBytes: (bytes) => {
      bytesRead = bytes;
      options.onBytes?.(bytes);
    },
  });
  return {
    parser: 'csv-parse',
    file,
    lineMap,
    get layout() {
      return layout;
    },
    get bytesRead() {
      return compressedRead?.() ?? bytesRead;
    },
    lines: null,
    maxRecordBytes: maxRecordBytesOf(options),
    items: groupBatches(batchRows(rows, options)),
    limited: options.limit !== undefined,
  };
}

/** The first blocks of `blocks` up to GROUP_ROWS rows (at least one), taken out of it. */
function takeGroup<T extends { rows: number }>(items: T[]): T[] {
  let count = 1;
  for (let rows = items[0].rows; count < items.length && rows + items[count].rows <= GROUP_ROWS; count++)
    rows += items[count].rows;
  return items.splice(0, count);
}

/** Batches in groups of up to GROUP_ROWS rows, in order. */
async function* groupBatches(batches: AsyncIterable<PooledBatch>): AsyncGenerator<WorkItem, void, undefined> {
  let group: PooledBatch[] = [];
  let rows = 0;
  try {
    for await (const batch of batches) {
      if (group.length > 0 && rows + batch.rows > GROUP_ROWS) {
        yield { kind: 'batches', batches: group };
        group = [];
        rows = 0;
      }
      group.push(batch);
      rows += batch.rows;
    }
    if (group.length > 0) yield { kind: 'batches', batches: group };
    group = [];
  } finally {
    for (const batch of group) batch.release();
  }
}

/** How the source's blocks are decoded (their layout is known once the first block is out). */
export function decodeSpec(source: Source, options: Pick<SourceOptions, 'features' | 'classes' | 'table'>): DecodeSpec {
  if (source.layout === null) throw new Error('decodeSpec: the layout is not known before the first block');
  return {
    layout: source.layout,
    features: options.features,
    classes: options.classes,
    table: options.table,
    maxRecordBytes: source.maxRecordBytes,
  };
}

/** The source's rows as exact batches decoded on this thread (the framer's blocks decoded and re-cut). */
export async function* batchesHere(
  source: Source,
  options: SourceOptions,
): AsyncGenerator<PooledBatch[], void, undefined> {
  if (source.parser === 'csv-parse') {
    for await (const item of source.items) if (item.kind === 'batches') yield item.batches;
    return;
  }
  const groups = (async function* () {
    for await (const item of source.items)
      if (item.kind === 'blocks') yield decodeBlocks(item.blocks, () => decodeSpec(source, options));
  })();
  yield* rebatch(groups, {
    batchSize: options.batchSize,
    features: options.features,
    limit: source.limited ? undefined : options.limit,
    file: source.file,
    lineMap: source.lineMap,
    onError: options.onError,
    onRowError: options.onRowError,
  });
}

/** The stream again from its start: the piece already read, then the rest. */
function replayStream(first: Piece, rest: AsyncGenerator<Piece>): Readable {
  const head = Buffer.from(first.chunk.bytes.subarray(first.start, first.end));
  return Readable.from(
    (async function* () {
      yield head;
      for await (const piece of rest) yield Buffer.from(piece.chunk.bytes.subarray(piece.start, piece.end));
    })(),
    { objectMode: false },
  );
}
