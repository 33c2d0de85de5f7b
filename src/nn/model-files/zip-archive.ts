// Reading zip archives that hold model data (numpy's .npz, PyTorch's .pt) with yauzl, bounded in memory.
//
// Zip bombs: yauzl makes the uncompressed size recorded in the central directory trustworthy (its
// validateEntrySizes check fails the stream if the inflated data is longer or shorter). So we
//   1. refuse any member whose declared size, or the archive's declared total, is over the limit,
//      before inflating anything;
//   2. optionally inflate only the first bytes of a member and let the caller check them (a header that
//      implies the member's size) before the rest is inflated;
//   3. inflate into a buffer of exactly the declared size, and check its CRC-32.
// Names: yauzl refuses absolute paths, `..` components and backslashes (strictFileNames) while it lists
// the members; we report those as path traversal. Nothing is ever written to disk.
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ModelError } from '../../errors.js';
import { MiB } from './limits.js';

export type Fail = (problem: string) => never;

export interface ZipLimits {
  maxMembers: number;
  /** Largest uncompressed size one member may declare (by name). */
  maxMemberBytes: (name: string) => number;
  /** Largest total of the declared uncompressed sizes. */
  maxTotalBytes: number;
}

export interface ZipArchive {
  zip: yauzl.ZipFile;
  /** The members in directory order, each name checked to be unique and safe. */
  entries: yauzl.Entry[];
}

/** Opens `bytes` as a zip and checks every member's name and declared size, inflating nothing. */
export async function openZipArchive(bytes: Buffer, fail: Fail, limits: ZipLimits): Promise<ZipArchive> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true });
  } catch (error) {
    return fail(`not a readable zip archive, truncated or corrupt (${(error as Error).message})`);
  }
  if (zip.entryCount > limits.maxMembers)
    fail(`the archive lists ${zip.entryCount} members, more than the limit of ${limits.maxMembers}`);

  const entries: yauzl.Entry[] = [];
  try {
    for await (const entry of zip.eachEntry()) entries.push(entry);
  } catch (error) {
    const message = (error as Error).message;
    if (/^(absolute path|invalid relative path|invalid characters in fileName): /.test(message)) {
      return fail(
        `refusing a member name that points outside the archive (path traversal): ${message.replace(/^[^:]*: /, '')}`,
      );
    }
    return fail(`the zip directory is corrupt (${message})`);
  }

  let declaredTotal = 0;
  const seen = new Set<string>();
  for (const entry of entries) {
    const name = entry.fileName;
    if (seen.has(name)) fail(`member ${name} appears twice`);
    seen.add(name);
    if (entry.isEncrypted()) fail(`member ${name} is encrypted`);
    if (!entry.canDecodeFileData())
      fail(`member ${name} uses unsupported compression method ${entry.compressionMethod}`);
    const limit = limits.maxMemberBytes(name);
    if (entry.uncompressedSize > limit) {
      fail(
        `member ${name} declares ${entry.uncompressedSize} bytes uncompressed, more than the ${MiB(limit)} limit ` +
          `(zip bomb?)`,
      );
    }
    declaredTotal += entry.uncompressedSize;
    if (declaredTotal > limits.maxTotalBytes) {
      fail(`the members declare more than ${MiB(limits.maxTotalBytes)} uncompressed in total (zip bomb?)`);
    }
  }
  return { zip, entries };
}

/** A check of a member's first bytes before the rest is inflated (and its buffer allocated). */
export interface PrefixCheck {
  /** How many bytes the check needs, given what has arrived so far. */
  bytesNeeded(prefix: Buffer): number;
  /** Throws to stop reading. Called once, with at least bytesNeeded bytes (or the whole, shorter member). */
  check(prefix: Buffer): void;
}

/**
 * Inflates one member into a buffer of its declared size. With `prefixCheck`, the first chunks are kept
 * aside until the check has seen them; only then is the buffer allocated, so a lying size costs nothing.
 */
export async function readZipMember(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  fail: Fail,
  prefixCheck?: PrefixCheck,
): Promise<Buffer> {
  const declared = entry.uncompressedSize;
  const failMember: Fail = (problem) => fail(`member ${entry.fileName} ${problem}`);
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    return failMember(`cannot be opened (${(error as Error).message})`);
  }
  let prefix: Buffer | null = prefixCheck ? Buffer.alloc(0) : null; // until the prefix is checked
  let out: Buffer | null = prefixCheck ? null : Buffer.alloc(declared); // after
  let filled = 0;
  const startBody = () => {
    prefixCheck!.check(prefix!);
    out = Buffer.alloc(declared);
    prefix!.copy(out);
    filled = prefix!.length;
    prefix = null;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (prefix) {
        prefix = Buffer.concat([prefix, chunk]);
        if (prefix.length > declared) failMember(`inflates to more than its declared ${declared} bytes`);
        if (prefix.length >= Math.min(prefixCheck!.bytesNeeded(prefix), declared)) startBody();
        continue;
      }
      if (filled + chunk.length > declared) failMember(`inflates to more than its declared ${declared} bytes`);
      chunk.copy(out!, filled);
      filled += chunk.length;
    }
  } catch (error) {
    stream.destroy();
    if (error instanceof ModelError) throw error;
    return failMember(`cannot be inflated, truncated or corrupt (${(error as Error).message})`);
  }
  if (prefix) startBody(); // a member shorter than what the check needs: the check reports it
  if (filled !== declared) failMember(`holds ${filled} bytes, not the declared ${declared} (truncated?)`);
  // yauzl checks sizes but not checksums; a flipped bit in a stored member would otherwise load silently.
  if (crc32(out!) !== entry.crc32) failMember('fails its CRC-32 check (corrupt file)');
  return out!;
}
