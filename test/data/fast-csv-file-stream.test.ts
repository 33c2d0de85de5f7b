// PrefetchingFileStream: the chunks and errors of fs.createReadStream (same highWaterMark), with reads
// in flight ahead; the end of the file only after the last chunk; early destroy is clean.
import test from 'ava';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrefetchingFileStream } from '../../src/data/fast-csv/file-stream.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-fastcsv-stream-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** The chunks as 'data' events give them (an async iterator would merge whatever is buffered). */
function chunks(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

const CHUNK = 64 * 1024;

test('the same chunks as fs.createReadStream, for sizes around the chunk size', async (t) => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 17]) {
    const path = join(dir, `size-${size}.bin`);
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31) & 0xff;
    await writeFile(path, bytes);
    const expected = await chunks(createReadStream(path, { highWaterMark: CHUNK }));
    for (const depth of [1, 2, 4]) {
      const got = await chunks(new PrefetchingFileStream(path, { chunkSize: CHUNK, depth }));
      t.deepEqual(
        got.map((c) => c.length),
        expected.map((c) => c.length),
        `size ${size}, depth ${depth}`,
      );
      t.true(Buffer.concat(got).equals(bytes));
    }
  }
});

test('errors: open (ENOENT) and read (EISDIR), like fs.createReadStream', async (t) => {
  const missing = await t.throwsAsync(chunks(new PrefetchingFileStream(join(dir, 'nope'), { chunkSize: CHUNK, depth: 4 })));
  t.like(missing, { code: 'ENOENT', syscall: 'open' });
  const directory = await t.throwsAsync(chunks(new PrefetchingFileStream(dir, { chunkSize: CHUNK, depth: 4 })));
  t.like(directory, { code: 'EISDIR', syscall: 'read' });
});

test('destroyed while reads are in flight: closes cleanly', async (t) => {
  const path = join(dir, 'big.bin');
  await writeFile(path, Buffer.alloc(20 * CHUNK, 7));
  const stream = new PrefetchingFileStream(path, { chunkSize: CHUNK, depth: 4 });
  let seen = 0;
  for await (const chunk of stream) {
    seen += (chunk as Buffer).length;
    if (seen >= 2 * CHUNK) break;
  }
  // (The async iterator destroys the stream with an AbortError, which it then emits: only wait for 'close'.)
  if (!stream.closed) await new Promise<void>((resolve) => stream.on('close', () => resolve()));
  t.true(stream.destroyed);
  t.is(seen, 2 * CHUNK);
});
