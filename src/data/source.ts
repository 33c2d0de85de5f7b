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
import { openInputBytes, type InputBytes } from './input-bytes.js';
import { FileSequence } from './file-sequence.js';
import { fileRows } from './file-rows.js';
import { readInputHeads } from './input-files.js';
import { inputFileStat } from './input-size.js';
import { describeFiles, LineMap } from './line-map.js';
import { planShardRead, quotedShardProblem, shardInputName } from './shards.js';
import {
  checkCsvSourceOptions,
  defaultMaxRecordBytes,
  readFailure,
  STDIN_NAME,
  type CsvSourceOptions,
} from './source-options.js';
import type { Block, CsvLayout, DecodeSpec, Row } from './types.js';

export const PARSER_CHOICES = ['auto', 'fast', 'csv-parse'] as const;
export type ParserChoice = (typeof PARSER_CHOICES)[number];

/**
 * What one read of the input completed (up to GROUP_ROWS rows): blocks (fast) or batches (csv-parse), for one pool
 * task.
 */
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
  /**
   * Whether the items stop at `limit` rows (the framer counts rows undecoded: only under --on-error fail; else the
   * consumer counts good rows).
   */
  limited: boolean;
}

const SNIFF_BYTES = 64 * 1024;
const QUOTE = 0x22;

export async function openSource(options: SourceOptions): Promise<Source> {
  checkCsvSourceOptions(options);
  if (!PARSER_CHOICES.includes(options.parser))
    throw new RangeError(`parser must be one of ${PARSER_CHOICES.join(', ')}, got ${String(options.parser)}`);
  if (options.inputs !== undefined && options.inputs.length > 1) return filesSource(options, options.inputs);
  const file = options.input === '-' ? STDIN_NAME : options.input;
  if (options.shard) return shardSource(options, file);
  if (options.parser === 'csv-parse') return csvParseSource(options, file, undefined);
  let bytes: InputBytes;
  let first: IteratorResult<Piece, void>;
  let pieces: AsyncGenerator<Piece, void, undefined>;
  try {
    bytes = await openInputBytes(options.input, options.stdin);
    pieces = readPieces(bytes.from, new ChunkPool());
    first = await pieces.next();
  } catch (error) {
    throw readFailure(error, file);
  }
  if (
    options.parser === 'auto' &&
    !first.done &&
    quotedData(first.value, options.maxRecordBytes ?? defaultMaxRecordBytes(options.features))
  ) {
    // A stream cannot be read again: csv-parse takes what was read, then the rest; a plain file is opened again.
    if (typeof bytes.from === 'string') {
      void pieces.return();
      return csvParseSource(options, file, undefined);
    }
    return csvParseSource(options, file, {
      stream: replayStream(first.value, pieces),
      compressedRead: bytes.compressedRead,
    });
  }
  return framedSource(options, { file, lineMap: new LineMap([file]) }, first, pieces, bytes.compressedRead);
}

/**
 * Several input files as one run: every file's head read and checked alike first (input-files.ts), then
 * the files' pieces in sequence through one framer, or their rows through csv-parse one file after another.
 */
async function filesSource(options: SourceOptions, files: readonly string[]): Promise<Source> {
  if (options.shard || files.includes('-'))
    throw new RangeError('openSource: several inputs are files, read whole (no stdin, no shard)');
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(options.features);
  const heads = await readInputHeads(files, { features: options.features, maxRecordBytes, columns: options.columns });
  const sizes = await Promise.all(files.map(async (path) => (await inputFileStat(path))?.bytes ?? null));
  const names = { file: describeFiles(files), lineMap: new LineMap(files) };
  if (options.parser !== 'csv-parse') {
    const sequence = new FileSequence(heads, sizes);
    const pieces = sequence.pieces();
    const first = await pieces.next();
    if (!(options.parser === 'auto' && !first.done && quotedData(first.value, maxRecordBytes)))
      return framedSource(options, names, first, pieces, () => sequence.bytesRead);
    await pieces.return();
  }
  return csvParseSource(options, names.file, {
    rows: (rowOptions) => fileRows({ ...rowOptions, files, sizes, lines: names.lineMap }),
    lineMap: names.lineMap,
  });
}

/** A '"' in the first SNIFF_BYTES of the piece, after its first record (whatever that record holds). */
function quotedData({ chunk, start, end }: Piece, maxRecordBytes: number): boolean {
  const bytes = chunk.bytes.subarray(start, Math.min(end, start + SNIFF_BYTES));
  let first: ReturnType<typeof readFirstRecord>;
  try {
    first = readFirstRecord(bytes, false, '', maxRecordBytes);
  } catch {
    return false; // the framer reports what is wrong with it
  }
  return first.status === 'record' && bytes.indexOf(QUOTE, first.end) !== -1;
}

/** One shard of a file: read from its first line start with the file's layout, framed to its last line. */
async function shardSource(options: SourceOptions, file: string): Promise<Source> {
  const shard = options.shard!;
  if (options.input === '-' || options.limit !== undefined)
    throw new RangeError('openSource: a shard is read from a file, without a limit');
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(options.features);
  const { head, read } = await planShardRead(
    options.input,
    file,
    { start: shard.byteStart, end: shard.byteEnd },
    options.features,
    maxRecordBytes,
  ).catch((error) => {
    throw readFailure(error, file);
  });
  if (options.parser === 'csv-parse' || (options.parser === 'auto' && head.quoted))
    throw new DataError(file, 0, quotedShardProblem);
  options.onLayout?.(head.layout);
  const pieces = readPieces(options.input, new ChunkPool(), read.start);
  const first: IteratorResult<Piece, void> =
    read.endAt > 0
      ? await pieces.next().catch((error) => Promise.reject(readFailure(error, file)))
      : { done: true, value: undefined };
  const framing = { layout: head.layout, firstLine: read.firstLine, endAt: read.endAt };
  const name = shardInputName(file, shard, read.start);
  return framedSource(options, { file: name, lineMap: new LineMap([name]) }, first, pieces, null, framing);
}

/** `compressedRead`: a gzip input's compressed bytes read so far (its progress), else null. */
function framedSource(
  options: SourceOptions,
  { file, lineMap }: { file: string; lineMap: LineMap },
  first: IteratorResult<Piece, void>,
  pieces: AsyncGenerator<Piece>,
  compressedRead: (() => number) | null,
  shard?: FramerOptions['shard'],
): Source {
  const limited = options.onError === 'fail' && options.limit !== undefined;
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes(options.features);
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

/** Rows of several files (file-rows.ts) instead of csv-source's of the one input, and their line map. */
interface ManyFiles {
  rows: (options: CsvSourceOptions) => AsyncGenerator<Row, void, undefined>;
  lineMap: LineMap;
}

/**
 * `replay`: the input as a stream read from its start again (stdin, a pipe, gzip), else csv-parse opens the file;
 * or several files' rows.
 */
function csvParseSource(
  options: SourceOptions,
  file: string,
  replay: { stream: Readable; compressedRead: (() => number) | null } | ManyFiles | undefined,
): Source {
  const many = replay !== undefined && 'rows' in replay ? replay : null;
  const stream = replay !== undefined && 'stream' in replay ? replay : null;
  let layout: CsvLayout | null = null;
  let bytesRead = 0;
  async function* items(): AsyncGenerator<WorkItem, void, undefined> {
    // csv-parse is loaded only when this path is taken.
    const read = many?.rows ?? (await import('./csv-source.js')).csvRows;
    const rows = read({
      ...options,
      ...(stream ? { text: stream.stream } : {}),
      onLayout: (found) => {
        layout = found;
        options.onLayout?.(found);
      },
      onBytes: (bytes) => {
        bytesRead = bytes;
        options.onBytes?.(bytes);
      },
    });
    yield* groupBatches(batchRows(rows, options));
  }
  return {
    parser: 'csv-parse',
    file,
    lineMap: many?.lineMap ?? new LineMap([file]),
    get layout() {
      return layout;
    },
    get bytesRead() {
      return stream?.compressedRead?.() ?? bytesRead;
    },
    lines: null,
    maxRecordBytes: options.maxRecordBytes ?? defaultMaxRecordBytes(options.features),
    items: items(),
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
export async function* groupBatches(batches: AsyncIterable<PooledBatch>): AsyncGenerator<WorkItem, void, undefined> {
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
