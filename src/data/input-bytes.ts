// The input's bytes before any CSV reading. A plain regular file is read by its path (positional reads:
// chunks.ts, shards.ts); gzip, found by its magic bytes (not by its name), is decompressed as a stream
// (node:zlib), from a file, a pipe or stdin alike, so memory stays flat whatever its size.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** What a reader reads: a regular file's path, or a stream of the text. */
export interface InputBytes {
  from: string | Readable;
  /** Gzip input: the compressed bytes read so far (progress against the file's size); null: plain text. */
  compressedRead: (() => number) | null;
}

/** Whether bytes start with gzip's magic 1f 8b (RFC 1952); no UTF-8 text does (8b is a continuation byte). */
export const isGzip = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Whether the regular file at `path` is gzip (false for anything else, or a file that cannot be read). */
export const isGzipFile = async (path: string): Promise<boolean> =>
  (await regularFileHead(path).catch(() => null))?.gzip === true;

/**
 * Whether `path` is a regular file, and if so whether it is gzip. A pipe is only stat'ed: opening and
 * closing it would end its writer's stream. What cannot be stat'ed counts as a plain file: its reader
 * reports why it cannot be read, as for any file.
 */
async function regularFileHead(path: string): Promise<{ regular: boolean; gzip: boolean }> {
  const info = await stat(path).catch(() => null);
  if (info === null) return { regular: true, gzip: false };
  if (!info.isFile()) return { regular: false, gzip: false };
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await file.read(head, 0, 2, 0);
    return { regular: true, gzip: isGzip(head.subarray(0, bytesRead)) };
  } finally {
    await file.close();
  }
}

/** Bytes per read of a gzip file, and per piece of its text. */
const READ_CHUNK = 64 * 1024;

/**
 * `input` ('-': `stdin`) as its readers take it. A pipe or stdin is peeked at (its first bytes are put
 * back), so nothing is read twice. Errors opening a file reject (errno errors: readFailure names the file).
 */
export async function openInputBytes(input: string, stdin?: NodeJS.ReadableStream): Promise<InputBytes> {
  if (input === '-') return streamBytes((stdin ?? process.stdin) as Readable);
  const { regular, gzip } = await regularFileHead(input);
  if (regular && !gzip) return { from: input, compressedRead: null };
  const stream = createReadStream(input, { highWaterMark: READ_CHUNK });
  return regular ? gunzip(stream) : streamBytes(stream);
}

async function streamBytes(stream: Readable): Promise<InputBytes> {
  return isGzip(await peek(stream, 2)) ? gunzip(stream) : { from: stream, compressedRead: null };
}

/**
 * The text of a gzip stream. Its errors (a truncated or corrupt file: zlib's Z_* codes) come out of the
 * text stream; destroying the text stream (an early stop) destroys the source too (pipeline).
 */
function gunzip(source: Readable): InputBytes {
  let read = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      read += chunk.length;
      done(null, chunk);
    },
  });
  const text = createGunzip({ chunkSize: READ_CHUNK });
  pipeline(source, count, text, () => undefined);
  return { from: text, compressedRead: () => read };
}

/** The stream's first `bytes` bytes (fewer at its end), put back at its front. */
async function peek(stream: Readable, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const data = stream.read() as Buffer | string | null;
    if (data !== null) {
      const part = typeof data === 'string' ? Buffer.from(data) : data;
      parts.push(part);
      length += part.length;
    } else if (stream.errored) throw stream.errored;
    else if (stream.readableEnded || stream.destroyed) break;
    else await readableOrEnd(stream);
  }
  const head = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (head.length > 0) stream.unshift(head);
  return head;
}

function readableOrEnd(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('readable', ready).off('end', ready).off('close', ready).off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const ready = () => settle();
    stream.once('readable', ready).once('end', ready).once('close', ready).once('error', settle);
  });
}
