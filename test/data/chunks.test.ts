// Reading into shared chunks: a file in positional reads (a few in flight), a FIFO in order, a stream
// copied in; the pieces cover the input exactly, and chunks are reused once released.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChunkPool, readPieces } from '../../src/data/chunks.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-chunks-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

const bytesOf = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 251));

async function collect(input: string | NodeJS.ReadableStream, pool: ChunkPool): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const { chunk, start, end } of readPieces(input, pool)) {
    t0check(chunk.buffer);
    parts.push(Buffer.from(chunk.bytes.subarray(start, end)));
  }
  return Buffer.concat(parts);
}

function t0check(buffer: unknown): void {
  if (!(buffer instanceof SharedArrayBuffer)) throw new Error('a chunk is not shared memory');
}

for (const size of [0, 1, 999, 1000, 1001, 10_500]) {
  test(`a file of ${size} bytes: the pieces are its bytes in order; chunks are reused`, async (t) => {
    const data = bytesOf(size);
    const path = join(dir, `file-${size}`);
    await writeFile(path, data);
    const pool = new ChunkPool(1000);
    t.true((await collect(path, pool)).equals(data));
    // Two reads in flight, each piece released when the next is asked for: a handful of chunks.
    t.true(pool.allocated <= 4, `${pool.allocated} chunks`);
  });
}

test('a stream is copied into chunks as it arrives, however it is cut', async (t) => {
  const data = bytesOf(5000);
  const parts: Buffer[] = [];
  let from = 0;
  for (const n of [7, 993, 1, 1999, 2000]) {
    parts.push(data.subarray(from, from + n));
    from += n;
  }
  const pool = new ChunkPool(1000);
  t.true((await collect(Readable.from(parts, { objectMode: false }), pool)).equals(data));
  t.true(pool.allocated <= 2);
});

test('a named pipe is read in order', async (t) => {
  const fifo = join(dir, 'pipe');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.pass('mkfifo is not available here');
    return;
  }
  const data = bytesOf(300_000);
  createWriteStream(fifo).end(data);
  t.true((await collect(fifo, new ChunkPool(4096))).equals(data));
});

test('a read error (a directory, a missing file) is thrown, naming the syscall', async (t) => {
  const missing = await t.throwsAsync(collect(join(dir, 'nope'), new ChunkPool()));
  t.is((missing as NodeJS.ErrnoException).code, 'ENOENT');
  const folder = await t.throwsAsync(collect(dir, new ChunkPool()));
  t.is((folder as NodeJS.ErrnoException).code, 'EISDIR');
});

test('release(): a chunk goes back once every holder has released it, and not sooner', (t) => {
  const pool = new ChunkPool(16);
  const chunk = pool.acquire();
  chunk.retain();
  chunk.release();
  t.not(pool.acquire(), chunk, 'still held once');
  chunk.release();
  t.is(pool.acquire(), chunk);
  t.throws(() => {
    const other = pool.acquire();
    other.release();
    other.release();
  });
});
