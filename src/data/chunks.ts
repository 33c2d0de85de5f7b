// Reading the input into shared memory, so a block goes to a worker as (buffer, start, end) uncopied.
// Chunks are reused: a SharedArrayBuffer that crossed to a worker is freed only when that worker's heap
// is collected too (measured: 3,000 fresh 1 MiB buffers grew the process to 1.6 GB; reusing 8 stayed
// flat). A chunk is reference-counted (reader, framer, each block on it); the last release() recycles it.
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Bytes per read. Big: per-read and per-wake-up costs are what the main thread would spend its time on. */
export const CHUNK_BYTES = 1 << 20;
/** File reads under way at once, so that the next chunk is usually there when the framer wants it. */
const READS_IN_FLIGHT = 2;
/** Free chunks kept for reuse; more than this are dropped (after a burst, e.g. a huge batch). */
const MAX_FREE = 16;

export class Chunk {
  readonly buffer: SharedArrayBuffer;
  /** A Buffer view of the whole chunk (its indexOf is memchr). */
  readonly bytes: Buffer;
  private refs = 1;

  constructor(
    private readonly pool: ChunkPool,
    size: number,
  ) {
    this.buffer = new SharedArrayBuffer(size);
    this.bytes = Buffer.from(this.buffer);
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) this.pool.recycle(this);
    else if (this.refs < 0) throw new Error('Chunk.release: released more often than retained');
  }

  /** For the pool only: a recycled chunk starts again with one reference. */
  revive(): void {
    this.refs = 1;
  }
}

export class ChunkPool {
  private readonly free: Chunk[] = [];
  /** Chunks made so far (for tests and memory figures). */
  allocated = 0;

  constructor(readonly chunkBytes = CHUNK_BYTES) {}

  /** A chunk holding one reference (the caller's). */
  acquire(): Chunk {
    const chunk = this.free.pop();
    if (chunk) {
      chunk.revive();
      return chunk;
    }
    this.allocated++;
    return new Chunk(this, this.chunkBytes);
  }

  recycle(chunk: Chunk): void {
    if (this.free.length < MAX_FREE) this.free.push(chunk);
  }
}

/** Bytes [start, end) of a chunk that have just been read. */
export interface Piece {
  chunk: Chunk;
  start: number;
  end: number;
  /** Set on the first piece of input file 2..n (file-sequence.ts): that file's data starts here. */
  fileStart?: FileStart;
}

/** Where the next of several input files starts: its index, its first data line's number, its header's line (or 0). */
export interface FileStart {
  index: number;
  firstLine: number;
  headerLine: number;
}

/**
 * The input's bytes as pieces of chunks, in order; a piece's chunk is released at the consumer's next
 * next() (retain it to keep it). A path is read positionally, a few reads in flight, from `start`; a
 * stream's buffers are copied into chunks.
 */
export async function* readPieces(
  input: string | NodeJS.ReadableStream,
  pool: ChunkPool,
  start = 0,
): AsyncGenerator<Piece, void, undefined> {
  if (typeof input === 'string') yield* readFile(input, pool, start);
  else if (start !== 0) throw new RangeError('readPieces: a stream is read from its start');
  else yield* readStream(input as Readable, pool);
}

async function* readFile(path: string, pool: ChunkPool, start: number): AsyncGenerator<Piece, void, undefined> {
  const file = await open(path, 'r');
  const reads: Array<Promise<{ chunk: Chunk; bytes: number }>> = [];
  try {
    // A FIFO or a device has no positions: read it one chunk at a time, in order.
    const positional = (await file.stat()).isFile();
    if (start !== 0 && !positional)
      throw new RangeError(`${path} has no byte positions (a pipe or device): a shard is read from a regular file`);
    let position = start;
    let ended = false;
    const issue = () => {
      const chunk = pool.acquire();
      const at = position;
      position += pool.chunkBytes;
      reads.push(readInto(file, chunk, positional ? at : null));
    };
    for (;;) {
      while (!ended && reads.length < (positional ? READS_IN_FLIGHT : 1)) issue();
      const next = reads.shift();
      if (next === undefined) return;
      const { chunk, bytes } = await next;
      // A short read of a regular file is its end; a pipe may return less at any time, only 0 ends it.
      if (bytes === 0 || (positional && bytes < pool.chunkBytes)) ended = true;
      try {
        if (bytes > 0) yield { chunk, start: 0, end: bytes };
      } finally {
        chunk.release();
      }
      if (ended && reads.length === 0) return;
    }
  } finally {
    // Reads still under way use the file: let them finish (their chunks go back) before closing it.
    await Promise.allSettled(reads.map((read) => read.then(({ chunk }) => chunk.release())));
    await file.close();
  }
}

async function readInto(
  file: FileHandle,
  chunk: Chunk,
  position: number | null,
): Promise<{ chunk: Chunk; bytes: number }> {
  try {
    const { bytesRead } = await file.read(chunk.bytes, 0, chunk.bytes.length, position);
    return { chunk, bytes: bytesRead };
  } catch (error) {
    chunk.release();
    throw error;
  }
}

async function* readStream(stream: Readable, pool: ChunkPool): AsyncGenerator<Piece, void, undefined> {
  let chunk = pool.acquire();
  let filled = 0;
  try {
    for await (const data of stream) {
      const bytes: Uint8Array = typeof data === 'string' ? Buffer.from(data) : data;
      for (let from = 0; from < bytes.length; ) {
        if (filled === pool.chunkBytes) {
          chunk.release();
          chunk = pool.acquire();
          filled = 0;
        }
        const take = Math.min(bytes.length - from, pool.chunkBytes - filled);
        chunk.bytes.set(bytes.subarray(from, from + take), filled);
        from += take;
        filled += take;
        yield { chunk, start: filled - take, end: filled };
      }
    }
  } finally {
    chunk.release();
    if (!stream.destroyed) stream.destroy();
  }
}
