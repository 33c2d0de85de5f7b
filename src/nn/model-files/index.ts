// Reading and writing model files in every supported format. The format is chosen by the file's first
// bytes when they are recognisable (zip, pickle, safetensors header), otherwise by its extension.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ModelError } from '../../errors.js';
import type { ModelFile, ModelFormat, Tensor } from '../types.js';
import { MAX_MODEL_FILE_BYTES, MiB } from './limits.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
// The npz (zip) and pickle readers, and the atomic writer, are loaded only when used: the CLI starts
// faster with just the safetensors reader it needs for its own model files.

export const SUPPORTED_FORMATS_TEXT = 'safetensors (.safetensors), numpy npz (.npz), Python pickle of numpy arrays (.pkl, .pickle)';

const EXTENSIONS: Record<string, ModelFormat> = {
  '.safetensors': 'safetensors',
  '.npz': 'npz',
  '.pkl': 'pkl',
  '.pickle': 'pkl',
};

/** The format of a model file from its magic bytes, else from its extension; null when neither says. */
export function detectModelFormat(bytes: Uint8Array, path: string): ModelFormat | null {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))) {
    return 'npz'; // "PK\3\4": a zip's first local header ("PK\5\6": an empty zip)
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'pkl'; // PROTO 2..5
  if (bytes.length >= 9 && bytes[8] === 0x7b) return 'safetensors'; // u64 header length, then '{'
  return EXTENSIONS[extname(path).toLowerCase()] ?? null;
}

/** The format to write for an output path (by extension), or null when it is not one we write. */
export function outputFormatForPath(path: string): 'safetensors' | 'npz' | null {
  const ext = extname(path).toLowerCase();
  return ext === '.safetensors' ? 'safetensors' : ext === '.npz' ? 'npz' : null;
}

export async function readModelFile(path: string): Promise<ModelFile> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ModelError(path, 'is not a regular file');
    if (info.size > MAX_MODEL_FILE_BYTES) {
      throw new ModelError(path, `is ${info.size} bytes, larger than the ${MiB(MAX_MODEL_FILE_BYTES)} a model file may be`);
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(path, `cannot read the model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const format = detectModelFormat(bytes, path);
  if (!format) {
    throw new ModelError(path, `unrecognised model file (neither its first bytes nor its extension match a known format); supported formats: ${SUPPORTED_FORMATS_TEXT}`);
  }
  const decoded =
    format === 'safetensors'
      ? decodeSafetensors(bytes, path)
      : format === 'npz'
        ? await (await import('./npz.js')).decodeNpz(bytes, path)
        : { ...(await import('./pickle.js')).decodePickle(bytes, path), metadata: {} };
  return {
    path,
    format,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    tensors: decoded.tensors,
    metadata: decoded.metadata,
  };
}

/** Writes float32 tensors and string metadata as .safetensors or .npz (by extension), atomically. */
export async function writeModelFile(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string>): Promise<void> {
  const format = outputFormatForPath(path);
  if (!format) throw new ModelError(path, 'cannot write a model here: the file name must end in .safetensors or .npz');
  const bytes = format === 'safetensors' ? encodeSafetensors(tensors, metadata) : await (await import('./npz.js')).encodeNpz(tensors, metadata);
  const { default: writeFileAtomic } = await import('write-file-atomic');
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    throw new ModelError(path, `cannot write the model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
