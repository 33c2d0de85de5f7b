// numpy's `.npz` (np.savez / np.savez_compressed): a zip archive of `NAME.npy` members, read with yauzl
// and written with yazl.
//
// Zip bombs and member names are handled by zip-archive.ts; each member's .npy header is checked against
// its declared size before the rest of it is inflated.
//
// Metadata: safetensors has a place for string metadata, npz has none, so we add one member,
// `__metadata__.json` (a JSON object of strings). numpy's np.load lists it as a raw (non-.npy) member and
// returns its bytes, so the archive stays an ordinary npz for numpy users.
import yazl from 'yazl';
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { MAX_NPY_HEADER_BYTES, MAX_NPZ_MEMBERS, MAX_NPZ_METADATA_BYTES, MAX_NPZ_UNCOMPRESSED_BYTES } from './limits.js';
import { decodeNpy, encodeNpy, npyHeaderBytesNeeded, parseNpyHeader } from './npy.js';
import { openZipArchive, readZipMember, type Fail, type ZipArchive } from './zip-archive.js';

export const NPZ_METADATA_MEMBER = '__metadata__.json';

/** A fixed timestamp so that writing the same tensors twice gives the same bytes. */
const FIXED_MTIME = new Date(2000, 0, 1);

/** The limits of a zip model file (npz or PyTorch), checked before its kind is known. */
export const MODEL_ZIP_LIMITS = {
  maxMembers: MAX_NPZ_MEMBERS,
  maxMemberBytes: (name: string) =>
    name === NPZ_METADATA_MEMBER ? MAX_NPZ_METADATA_BYTES : MAX_NPZ_UNCOMPRESSED_BYTES,
  maxTotalBytes: MAX_NPZ_UNCOMPRESSED_BYTES,
};

export async function decodeNpz(
  bytes: Buffer,
  file: string,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  return decodeNpzArchive(await openZipArchive(bytes, npzFail(file), MODEL_ZIP_LIMITS), file);
}

export const npzFail =
  (file: string): Fail =>
  (problem) => {
    throw new ModelError(file, `npz: ${problem}`);
  };

/** The tensors and metadata of an npz already opened (and its sizes checked) by openZipArchive. */
export async function decodeNpzArchive(
  { zip, entries }: ZipArchive,
  file: string,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const fail = npzFail(file);
  for (const { fileName: name } of entries) {
    if (name !== NPZ_METADATA_MEMBER && (!name.endsWith('.npy') || name.includes('/') || name.length === 4)) {
      fail(`unexpected member '${name}' (an npz holds NAME.npy arrays only)`);
    }
  }

  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const entry of entries) {
    if (entry.fileName === NPZ_METADATA_MEMBER) {
      metadata = parseMetadata(await readZipMember(zip, entry, fail), fail);
      continue;
    }
    const tensor = entry.fileName.slice(0, -'.npy'.length);
    // The .npy header first (it must imply the declared size), then the rest.
    const data = await readZipMember(zip, entry, fail, {
      bytesNeeded: (prefix) => Math.min(npyHeaderBytesNeeded(prefix), 12 + MAX_NPY_HEADER_BYTES + 1),
      check: (prefix) => {
        const header = parseNpyHeader(prefix, file, tensor, entry.uncompressedSize);
        if (header.totalBytes !== entry.uncompressedSize) {
          fail(
            `member ${entry.fileName} declares ${entry.uncompressedSize}` +
              ` bytes uncompressed, but its .npy header (shape (${header.shape.join(', ')}` +
              `), '${header.descr}` +
              `') implies ${header.totalBytes}`,
          );
        }
      },
    });
    tensors.set(tensor, decodeNpy(data, file, tensor));
  }
  return { tensors, metadata };
}

function parseMetadata(bytes: Buffer, fail: (problem: string) => never): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return fail(`${NPZ_METADATA_MEMBER} is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail(`${NPZ_METADATA_MEMBER} is not a JSON object`);
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
    if (`${name}.npy` === NPZ_METADATA_MEMBER || name.includes('/') || name === '')
      throw new RangeError(`cannot store a tensor named '${name}' in an npz`);
    zip.addBuffer(encodeNpy(tensors.get(name)!), `${name}.npy`, options);
  }
  const entries = Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length > 0) {
    for (const [key, value] of entries)
      if (typeof value !== 'string') throw new TypeError(`npz metadata value for '${key}' must be a string`);
    zip.addBuffer(Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8'), NPZ_METADATA_MEMBER, options);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
