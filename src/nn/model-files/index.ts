// Reading and writing model files in every supported format. The format is chosen by the file's first
// bytes when they are recognisable (zip, pickle, safetensors header), otherwise by its extension; a zip
// is a PyTorch checkpoint when it holds FOLDER/data.pkl, else an npz.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { ModelError } from '../../errors.js';
import type { ModelFile, ModelFormat, Tensor } from '../types.js';
import { MAX_MODEL_FILE_BYTES, MiB } from './limits.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
// The zip, pickle, PyTorch and ONNX (protobufjs) readers, and the atomic writer, are loaded only when
// used: the CLI starts faster with just the safetensors reader it needs for its own model files.

export const SUPPORTED_FORMATS_TEXT =
  'safetensors (.safetensors), numpy npz (.npz), Python pickle of numpy arrays (.pkl, .pickle), PyTorch state_dict ' +
  '(.pt, .pth), ONNX (.onnx)';

const EXTENSIONS: Record<string, ModelFormat> = {
  '.safetensors': 'safetensors',
  '.npz': 'npz',
  '.pkl': 'pkl',
  '.pickle': 'pkl',
  '.pt': 'pt',
  '.pth': 'pt',
  '.onnx': 'onnx',
};

/** The model files read, by extension, for help texts: ".safetensors, .npz, .pkl/.pickle, .pt/.pth, .onnx". */
export const MODEL_EXTENSIONS_TEXT = [...new Set(Object.values(EXTENSIONS))]
  .map((format) =>
    Object.keys(EXTENSIONS)
      .filter((extension) => EXTENSIONS[extension] === format)
      .join('/'),
  )
  .join(', ');

/**
 * The format of a model file from its magic bytes, else from its extension; null when neither says.
 * A zip is reported as 'npz' or, by its extension, 'pt'; readModelFile looks inside to be sure.
 */
export function detectModelFormat(bytes: Uint8Array, path: string): ModelFormat | null {
  if (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  ) {
    // "PK\3\4": a zip's first local header ("PK\5\6": an empty zip)
    return EXTENSIONS[extname(path).toLowerCase()] === 'pt' ? 'pt' : 'npz';
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
      throw new ModelError(
        path,
        `is ${info.size} bytes, larger than the ${MiB(MAX_MODEL_FILE_BYTES)} a model file may be`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(
      path,
      `cannot read the model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const format = detectModelFormat(bytes, path);
  if (!format) {
    throw new ModelError(
      path,
      `unrecognised model file (neither its first bytes nor its extension match a known format); supported formats: ` +
        `${SUPPORTED_FORMATS_TEXT}`,
    );
  }
  const decoded = await decode(format, bytes, path);
  return {
    path,
    format: decoded.format,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    tensors: decoded.tensors,
    metadata: decoded.metadata,
    ...(decoded.graph ? { graph: decoded.graph } : {}),
  };
}

type Decoded = Pick<ModelFile, 'format' | 'tensors' | 'metadata' | 'graph'>;

async function decode(format: ModelFormat, bytes: Buffer, path: string): Promise<Decoded> {
  switch (format) {
    case 'safetensors':
      return { format, ...decodeSafetensors(bytes, path) };
    case 'onnx':
      return { format, ...(await import('./onnx.js')).decodeOnnx(bytes, path) };
    case 'npz':
    case 'pt':
      return decodeZip(format, bytes, path);
    case 'pkl':
      if (EXTENSIONS[extname(path).toLowerCase()] === 'pt') {
        throw new ModelError(
          path,
          'pytorch: this is the legacy (non-zip) PyTorch format of torch < 1.6 or ' +
            '_use_new_zipfile_serialization=False, ' +
            'which nnpipe does not read; ' +
            "save the state_dict again with a current torch: torch.save(model.state_dict(), 'model.pt')",
        );
      }
      return { format, ...(await import('./pickle.js')).decodePickle(bytes, path), metadata: {} };
  }
}

/** A zip is a PyTorch checkpoint when it holds FOLDER/data.pkl, else an npz; its sizes and names are checked first. */
async function decodeZip(byExtension: 'npz' | 'pt', bytes: Buffer, path: string): Promise<Decoded> {
  const [{ openZipArchive }, npz] = await Promise.all([import('./zip-archive.js'), import('./npz.js')]);
  const fail = (problem: string): never => {
    throw new ModelError(path, `${byExtension === 'pt' ? 'pytorch' : 'npz'}: ${problem}`);
  };
  const archive = await openZipArchive(bytes, fail, npz.MODEL_ZIP_LIMITS);
  const pytorch = await import('./pytorch.js');
  if (pytorch.isTorchArchive(archive)) return { format: 'pt', ...(await pytorch.decodeTorchArchive(archive, path)) };
  if (byExtension === 'pt')
    fail('the zip holds no FOLDER/data.pkl member, so it is not a checkpoint written by torch.save');
  return { format: 'npz', ...(await npz.decodeNpzArchive(archive, path)) };
}

/** Writes float32 tensors and string metadata as .safetensors or .npz (by extension), atomically. */
export async function writeModelFile(
  path: string,
  tensors: Map<string, Tensor>,
  metadata: Record<string, string>,
): Promise<void> {
  const format = outputFormatForPath(path);
  if (!format) throw new ModelError(path, 'cannot write a model here: the file name must end in .safetensors or .npz');
  const bytes =
    format === 'safetensors'
      ? encodeSafetensors(tensors, metadata)
      : await (await import('./npz.js')).encodeNpz(tensors, metadata);
  const { default: writeFileAtomic } = await import('write-file-atomic');
  try {
    await writeFileAtomic(path, bytes);
  } catch (error) {
    throw new ModelError(
      path,
      `cannot write the model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}
