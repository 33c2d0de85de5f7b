// numpy's `.npz` (np.savez / np.savez_compressed): a zip archive of `NAME.npy` members, read with yauzl
// and written with yazl.
//
// Zip bombs: yauzl makes the uncompressed size recorded in the central directory trustworthy (its
// validateEntrySizes check fails the stream if the inflated data is longer or shorter). So we
//   1. refuse any member whose declared size, or the archive's declared total, is over the limit,
//      before inflating anything;
//   2. inflate only the first bytes of each member, parse its .npy header and refuse the member when the
//      declared size differs from what the header implies;
//   3. only then inflate the rest, into a buffer of exactly the declared size, and check its CRC-32.
//
// Metadata: safetensors has a place for string metadata, npz has none, so we add one member,
// `__metadata__.json` (a JSON object of strings). numpy's np.load lists it as a raw (non-.npy) member and
// returns its bytes, so the archive stays an ordinary npz for numpy users.
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { MAX_NPY_HEADER_BYTES, MAX_NPZ_MEMBERS, MAX_NPZ_METADATA_BYTES, MAX_NPZ_UNCOMPRESSED_BYTES, MiB } from './limits.js';
import { decodeNpy, encodeNpy, npyHeaderBytesNeeded, parseNpyHeader } from './npy.js';

export const NPZ_METADATA_MEMBER = '__metadata__.json';

/** A fixed timestamp so that writing the same tensors twice gives the same bytes. */
const FIXED_MTIME = new Date(2000, 0, 1);

export async function decodeNpz(bytes: Buffer, file: string): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `npz: ${problem}`);
  };
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true });
  } catch (error) {
    return fail(`not a readable zip archive, truncated or corrupt (${(error as Error).message})`);
  }
  if (zip.entryCount > MAX_NPZ_MEMBERS) fail(`the archive lists ${zip.entryCount} members, more than the limit of ${MAX_NPZ_MEMBERS}`);

  const entries: yauzl.Entry[] = [];
  try {
    for await (const entry of zip.eachEntry()) entries.push(entry);
  } catch (error) {
    return fail(`the zip directory is corrupt (${(error as Error).message})`);
  }

  // Step 1: every declared size, before any member is inflated.
  let declaredTotal = 0;
  const seen = new Set<string>();
  for (const entry of entries) {
    const name = entry.fileName;
    if (seen.has(name)) fail(`member ${name} appears twice`);
    seen.add(name);
    if (name !== NPZ_METADATA_MEMBER && (!name.endsWith('.npy') || name.includes('/') || name.length === 4)) {
      fail(`unexpected member '${name}' (an npz holds NAME.npy arrays only)`);
    }
    if (entry.isEncrypted()) fail(`member ${name} is encrypted`);
    if (!entry.canDecodeFileData()) fail(`member ${name} uses unsupported compression method ${entry.compressionMethod}`);
    const limit = name === NPZ_METADATA_MEMBER ? MAX_NPZ_METADATA_BYTES : MAX_NPZ_UNCOMPRESSED_BYTES;
    if (entry.uncompressedSize > limit) {
      fail(`member ${name} declares ${entry.uncompressedSize} bytes uncompressed, more than the ${MiB(limit)} limit (zip bomb?)`);
    }
    declaredTotal += entry.uncompressedSize;
    if (declaredTotal > MAX_NPZ_UNCOMPRESSED_BYTES) {
      fail(`the members declare more than ${MiB(MAX_NPZ_UNCOMPRESSED_BYTES)} uncompressed in total (zip bomb?)`);
    }
  }

  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const entry of entries) {
    if (entry.fileName === NPZ_METADATA_MEMBER) {
      metadata = parseMetadata(await readMember(zip, entry, file, () => {}), fail);
      continue;
    }
    const tensor = entry.fileName.slice(0, -'.npy'.length);
    // Steps 2 and 3: the header first, then the rest.
    const data = await readMember(zip, entry, file, (prefix) => {
      const header = parseNpyHeader(prefix, file, tensor, entry.uncompressedSize);
      if (header.totalBytes !== entry.uncompressedSize) {
        fail(
          `member ${entry.fileName} declares ${entry.uncompressedSize} bytes uncompressed, but its .npy header (shape (${header.shape.join(', ')}), '${header.descr}') implies ${header.totalBytes}`,
        );
      }
    });
    tensors.set(tensor, decodeNpy(data, file, tensor));
  }
  return { tensors, metadata };
}

/**
 * Inflates one member. The first chunks are kept aside until they hold the .npy header (or the whole
 * member, if shorter) and `checkHeader` has seen them; it may throw to stop. Only then is the buffer of
 * the declared size allocated, so a lying size costs nothing.
 */
async function readMember(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string, checkHeader: (prefix: Buffer) => void): Promise<Buffer> {
  const declared = entry.uncompressedSize;
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `npz: member ${entry.fileName} ${problem}`);
  };
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    return fail(`cannot be opened (${(error as Error).message})`);
  }
  let prefix: Buffer | null = Buffer.alloc(0); // until the header is checked
  let out: Buffer | null = null; // after
  let filled = 0;
  const startBody = () => {
    checkHeader(prefix!);
    out = Buffer.alloc(declared);
    prefix!.copy(out);
    filled = prefix!.length;
    prefix = null;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (prefix) {
        prefix = Buffer.concat([prefix, chunk]);
        if (prefix.length > declared) fail(`inflates to more than its declared ${declared} bytes`);
        const needed = Math.min(npyHeaderBytesNeeded(prefix), 12 + MAX_NPY_HEADER_BYTES + 1, declared);
        if (prefix.length >= needed) startBody();
        continue;
      }
      if (filled + chunk.length > declared) fail(`inflates to more than its declared ${declared} bytes`);
      chunk.copy(out!, filled);
      filled += chunk.length;
    }
  } catch (error) {
    stream.destroy();
    if (error instanceof ModelError) throw error;
    return fail(`cannot be inflated, truncated or corrupt (${(error as Error).message})`);
  }
  if (prefix) startBody(); // a member shorter than its header: checkHeader reports it
  if (filled !== declared) fail(`holds ${filled} bytes, not the declared ${declared} (truncated?)`);
  // yauzl checks sizes but not checksums; a flipped bit in a stored member would otherwise load silently.
  if (crc32(out!) !== entry.crc32) fail('fails its CRC-32 check (corrupt file)');
  return out!;
}

function parseMetadata(bytes: Buffer, fail: (problem: string) => never): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return fail(`${NPZ_METADATA_MEMBER} is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${NPZ_METADATA_MEMBER} is not a JSON object`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(`${NPZ_METADATA_MEMBER} value for '${key}' is not a string`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/** An uncompressed npz (like np.savez) of float32 `.npy` members sorted by name, plus the metadata member. */
export async function encodeNpz(tensors: Map<string, Tensor>, metadata: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const options = { compress: false, mtime: FIXED_MTIME, forceDosTimestamp: true };
  for (const name of [...tensors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (`${name}.npy` === NPZ_METADATA_MEMBER || name.includes('/') || name === '') throw new RangeError(`cannot store a tensor named '${name}' in an npz`);
    zip.addBuffer(encodeNpy(tensors.get(name)!), `${name}.npy`, options);
  }
  const entries = Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length > 0) {
    for (const [key, value] of entries) if (typeof value !== 'string') throw new TypeError(`npz metadata value for '${key}' must be a string`);
    zip.addBuffer(Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8'), NPZ_METADATA_MEMBER, options);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
