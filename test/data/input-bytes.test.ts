// Gzip input is found by its magic bytes (not its name) and read as a stream of its text; plain text is
// left as it was (a regular file by its path, a stream with its first bytes put back).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { isGzip, isGzipFile, openInputBytes, type InputBytes } from '../../src/data/input-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-input-bytes-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const text = `${Array.from({ length: 2000 }, (_, i) => `${i % 10},${i},${i * 7}`).join('\n')}\n`;
const compressed = gzipSync(text);
const gzipNamedCsv = join(dir, 'looks-plain.csv');
const plainNamedGz = join(dir, 'looks-compressed.gz');
writeFileSync(gzipNamedCsv, compressed);
writeFileSync(plainNamedGz, text);

async function readAll(bytes: InputBytes): Promise<string> {
  if (typeof bytes.from === 'string') return readFileSync(bytes.from, 'utf8');
  const parts: Buffer[] = [];
  for await (const part of bytes.from) parts.push(typeof part === 'string' ? Buffer.from(part) : part);
  return Buffer.concat(parts).toString('utf8');
}

test('isGzip: the magic bytes 1f 8b, nothing else', (t) => {
  t.true(isGzip(compressed));
  t.true(isGzip(Uint8Array.of(0x1f, 0x8b)));
  t.false(isGzip(Uint8Array.of(0x1f)));
  t.false(isGzip(Uint8Array.of(0x8b, 0x1f)));
  t.false(isGzip(Buffer.from('label,pixel0\n')));
  t.false(isGzip(new Uint8Array(0)));
});

test('isGzipFile: by the contents, whatever the name', async (t) => {
  t.true(await isGzipFile(gzipNamedCsv));
  t.false(await isGzipFile(plainNamedGz));
  t.false(await isGzipFile(join(dir, 'missing')));
});

test('a gzip file is read as the stream of its text, and its compressed bytes are counted', async (t) => {
  const bytes = await openInputBytes(gzipNamedCsv);
  t.not(typeof bytes.from, 'string');
  t.is(await readAll(bytes), text);
  t.is(bytes.compressedRead?.(), statSync(gzipNamedCsv).size);
});

test('a plain file is read by its path', async (t) => {
  const bytes = await openInputBytes(plainNamedGz);
  t.deepEqual(bytes, { from: plainNamedGz, compressedRead: null });
});

test('gzip on stdin is decompressed, however its bytes arrive', async (t) => {
  // One byte at a time: the magic number is split across reads.
  const stdin = Readable.from(
    (function* () {
      for (const byte of compressed) yield Buffer.of(byte);
    })(),
  );
  const bytes = await openInputBytes('-', stdin);
  t.is(await readAll(bytes), text);
  t.is(bytes.compressedRead?.(), compressed.length);
});

test('plain stdin keeps its first bytes (peeked at, put back)', async (t) => {
  const stdin = Readable.from([Buffer.from('7'), Buffer.from(text)]);
  const bytes = await openInputBytes('-', stdin);
  t.is(bytes.compressedRead, null);
  t.is(await readAll(bytes), `7${text}`);
});

test('empty stdin is plain (and empty)', async (t) => {
  const bytes = await openInputBytes('-', Readable.from([]));
  t.is(bytes.compressedRead, null);
  t.is(await readAll(bytes), '');
});

test('a truncated gzip stream ends with zlib error', async (t) => {
  const bytes = await openInputBytes('-', Readable.from([compressed.subarray(0, compressed.length - 10)]));
  await t.throwsAsync(readAll(bytes), { code: 'Z_BUF_ERROR' });
});
