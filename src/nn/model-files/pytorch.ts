// PyTorch checkpoints (.pt / .pth) written by `torch.save(model.state_dict(), path)`, read as data.
//
// The format (torch >= 1.6, torch/serialization.py): a zip archive whose members all sit in one folder,
//   FOLDER/data.pkl      a pickle of the state_dict: an OrderedDict of name -> tensor, each tensor
//                        torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks),
//                        each storage a persistent id ('storage', torch.FloatStorage, KEY, 'cpu', numel)
//   FOLDER/data/KEY      the storage's raw bytes (little-endian unless FOLDER/byteorder says 'big')
//   FOLDER/version       the format version
// data.pkl is read by the safe unpickler (pickle.ts) with the profile below: the allowed globals build
// inert descriptions, persistent ids become references to storage members, and nothing else is allowed.
// A whole pickled module (torch.save(model)) names its classes (torch.nn.*, __main__.*) and is refused
// with a message saying to save the state_dict. Storages are read only after the pickle is understood,
// each checked against the size its reference claims; the zip's sizes and names are checked by
// zip-archive.ts before anything is inflated.
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { decodeFloats, elementCount, type FloatDtype } from './float-data.js';
import { describe, MalformedPickle, unpickleSafely, type PickleCallable, type PickleProfile } from './pickle.js';
import { readZipMember, type Fail, type ZipArchive } from './zip-archive.js';

/** Storage types by the name torch pickles; null: an integer or boolean type, allowed as data, refused as a weight. */
const STORAGE_TYPES: Record<string, { dtype: string; float: FloatDtype | null }> = {
  FloatStorage: { dtype: 'float32', float: { itemBytes: 4, littleEndian: true } },
  DoubleStorage: { dtype: 'float64', float: { itemBytes: 8, littleEndian: true } },
  HalfStorage: { dtype: 'float16', float: { itemBytes: 2, littleEndian: true } },
  BFloat16Storage: { dtype: 'bfloat16', float: { itemBytes: 2, littleEndian: true, bfloat16: true } },
  LongStorage: { dtype: 'int64', float: null },
  IntStorage: { dtype: 'int32', float: null },
  ShortStorage: { dtype: 'int16', float: null },
  CharStorage: { dtype: 'int8', float: null },
  ByteStorage: { dtype: 'uint8', float: null },
  BoolStorage: { dtype: 'bool', float: null },
};

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ORDERED_DICT = 'collections.OrderedDict';

/** What a state_dict's data.pkl may name. */
export const TORCH_ALLOWED_GLOBALS: readonly string[] = [
  ORDERED_DICT,
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  ...Object.keys(STORAGE_TYPES).map((name) => `torch.${name}`),
];

const SAVE_STATE_DICT = "nnpipe reads a state_dict: save it with torch.save(model.state_dict(), 'model.pt')";

/** A storage as data.pkl refers to it: which member holds it and what it claims to hold. */
class StorageRef {
  constructor(
    readonly type: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}

/** A tensor as _rebuild_tensor_v2 describes it; checked and decoded once the storages are read. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** True when the archive's members look like torch.save's: one FOLDER/data.pkl. */
export function isTorchArchive(archive: ZipArchive): boolean {
  return archive.entries.some((entry) => /^[^/]+\/data\.pkl$/.test(entry.fileName));
}

export async function decodeTorchArchive(
  { zip, entries }: ZipArchive,
  file: string,
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `pytorch: ${problem}`);
  };
  const pickles = entries.filter((entry) => /^[^/]+\/data\.pkl$/.test(entry.fileName));
  if (pickles.length !== 1) fail(`expected one FOLDER/data.pkl member, found ${pickles.length}`);
  const folder = pickles[0].fileName.slice(0, -'/data.pkl'.length);
  const byName = new Map(entries.map((entry) => [entry.fileName, entry]));
  if (byName.has(`${folder}/constants.pkl`) || entries.some((entry) => entry.fileName.startsWith(`${folder}/code/`))) {
    fail(`this is a TorchScript archive (torch.jit.save), which holds code; ${SAVE_STATE_DICT}`);
  }
  const outside = entries.find((entry) => !entry.fileName.startsWith(`${folder}/`));
  if (outside) fail(`member ${outside.fileName} is outside the archive's folder ${folder}/`);

  const top = unpickleSafely(await readZipMember(zip, pickles[0], fail), file, torchProfile());
  const stateDict = checkStateDict(top, fail);

  const byteorder = byName.get(`${folder}/byteorder`);
  const order = byteorder ? (await readZipMember(zip, byteorder, fail)).toString('latin1').trim() : 'little';
  if (order !== 'little' && order !== 'big')
    fail(`member ${folder}/byteorder says '${order}', expected 'little' or 'big'`);

  // Each storage once (tensors may share one), checked against what its references claim.
  const storages = new Map<string, { ref: StorageRef; values: Float32Array }>();
  const tensors = new Map<string, Tensor>();
  for (const [name, ref] of stateDict) {
    const { storage } = ref;
    const type = STORAGE_TYPES[storage.type];
    if (!type.float)
      fail(`tensor ${name} has dtype ${type.dtype}; only float32, float64, float16 and bfloat16 weights are supported`);
    let read = storages.get(storage.key);
    if (!read) {
      read = {
        ref: storage,
        values: await readStorage(
          zip,
          byName,
          folder,
          storage,
          { ...type.float, littleEndian: order === 'little' },
          fail,
        ),
      };
      storages.set(storage.key, read);
    } else if (read.ref.type !== storage.type || read.ref.numel !== storage.numel) {
      fail(
        `storage ${storage.key} is referred to as ${read.ref.numel} values of ${STORAGE_TYPES[read.ref.type].dtype}` +
          ` and as ${storage.numel}` +
          ` of ${type.dtype}`,
      );
    }
    tensors.set(name, gather(read.values, ref, name, file));
  }
  return { tensors, metadata: {} };
}

/** The top level must be a dict of name -> tensor (an OrderedDict, as state_dict() returns). */
function checkStateDict(top: unknown, fail: Fail): Map<string, TensorRef> {
  if (top instanceof TensorRef) fail(`the file holds a single tensor, not a state_dict; ${SAVE_STATE_DICT}`);
  if (!(top instanceof Map))
    return fail(
      `the top level is ${describe(top)}, expected a state_dict (a dict of name -> tensor); ${SAVE_STATE_DICT}`,
    );
  const nested = [...top.entries()].filter(([, value]) => value instanceof Map).map(([key]) => String(key));
  if (nested.length > 0) {
    fail(
      `this looks like a training checkpoint (the key${nested.length > 1 ? 's' : ''} ${nested.join(', ')}` +
        ` hold${nested.length > 1 ? '' : 's'}` +
        ` a dict); ${SAVE_STATE_DICT}`,
    );
  }
  for (const [key, value] of top) {
    if (typeof key !== 'string') fail(`the state_dict has a key that is ${describe(key)}, expected names (str)`);
    if (!(value instanceof TensorRef)) fail(`state_dict entry ${String(key)} is ${describe(value)}, expected a tensor`);
  }
  return top as Map<string, TensorRef>;
}

async function readStorage(
  zip: ZipArchive['zip'],
  byName: Map<string, ZipArchive['entries'][number]>,
  folder: string,
  storage: StorageRef,
  dtype: FloatDtype,
  fail: Fail,
): Promise<Float32Array> {
  const member = `${folder}/data/${storage.key}`;
  const entry = byName.get(member);
  if (!entry) return fail(`storage ${storage.key} has no member ${member} in the archive`);
  const claimed = storage.numel * dtype.itemBytes;
  if (entry.uncompressedSize !== claimed) {
    fail(
      `storage ${storage.key} claims ${storage.numel} values of ${STORAGE_TYPES[storage.type].dtype} (${claimed}` +
        ` bytes), but member ${member}` +
        ` holds ${entry.uncompressedSize} bytes`,
    );
  }
  return decodeFloats(await readZipMember(zip, entry, fail), storage.numel, dtype);
}

/** The tensor's values in row-major order, read through its offset and strides with every index checked. */
function gather(values: Float32Array, ref: TensorRef, name: string, file: string): Tensor {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `pytorch: tensor ${name}: ${problem}`);
  };
  const { size, stride, offset } = ref;
  const count = elementCount(size, values.length, file, name);
  if (count === 0) return { shape: [...size], data: new Float32Array(0) };
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (last >= values.length) {
    fail(
      `offset ${offset}, size (${size.join(', ')}) and stride (${stride.join(', ')}) reach element ${last}` +
        ` of a storage of ${values.length}`,
    );
  }
  const contiguous = size.every((_, d) => stride[d] === size.slice(d + 1).reduce((a, b) => a * b, 1) || size[d] === 1);
  if (contiguous) return { shape: [...size], data: values.slice(offset, offset + count) };
  const out = new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  let source = offset;
  for (let i = 0; i < count; i++) {
    out[i] = values[source];
    // Advance the row-major index (the last dimension fastest), moving `source` by the strides.
    for (let d = size.length - 1; d >= 0; d--) {
      source += stride[d];
      if (++index[d] < size[d]) break;
      source -= stride[d] * size[d];
      index[d] = 0;
    }
  }
  return { shape: [...size], data: out };
}

/** The globals and persistent ids of a state_dict, as inert data. A fresh profile per file. */
function torchProfile(): PickleProfile {
  const storageTypes = new Map<unknown, string>();
  const functions = new Map<string, PickleCallable>();
  for (const name of Object.keys(STORAGE_TYPES)) {
    const type = function storageType(): never {
      throw new MalformedPickle(`torch.${name} is called; storage types only name the type of a persistent id`);
    };
    storageTypes.set(type, name);
    functions.set(`torch.${name}`, type);
  }
  const orderedDict = (...args: unknown[]) => {
    if (args.length !== 0) throw new MalformedPickle('collections.OrderedDict is called with arguments');
    return new Map();
  };
  functions.set(ORDERED_DICT, orderedDict);
  functions.set(REBUILD_TENSOR, (...args: unknown[]) => rebuildTensor(args));
  functions.set(REBUILD_PARAMETER, (data: unknown) => {
    if (!(data instanceof TensorRef))
      throw new MalformedPickle(`${REBUILD_PARAMETER} is given ${describe(data)}, not a tensor`);
    return data;
  });
  return {
    label: 'pytorch data.pkl',
    allowed: new Set(TORCH_ALLOWED_GLOBALS),
    allowedText: 'only the globals a state_dict of tensors needs are allowed, as data',
    // SETITEMS fills the OrderedDict in pass 1 too: an empty Map, not the inert placeholder.
    scanStandIns: new Map([[ORDERED_DICT, () => new Map()]]),
    functions: () => functions,
    persistent: { scan: () => null, load: (pid) => storageRef(pid, storageTypes) },
    refusalHint: (global) =>
      /^(torch\.nn\.|__main__\.|__torch__\.)/.test(global)
        ? `It looks like a whole model saved with torch.save(model); ${SAVE_STATE_DICT}`
        : '',
  };
}

/** ('storage', torch.FloatStorage, KEY, LOCATION, NUMEL) -> StorageRef. */
function storageRef(pid: unknown, storageTypes: Map<unknown, string>): StorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage')
    throw new MalformedPickle('a persistent id is not a (storage, type, key, location, numel) tuple');
  const [, typeToken, key, location, numel] = pid;
  const type = storageTypes.get(typeToken);
  if (!type) throw new MalformedPickle('a storage persistent id does not name a torch storage type');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key))
    throw new MalformedPickle('a storage key is not a plain name');
  if (typeof location !== 'string') throw new MalformedPickle(`storage ${key}: its location is not a str`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
    throw new MalformedPickle(`storage ${key}: its size is not a non-negative integer`);
  return new StorageRef(type, key, numel);
}

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
function rebuildTensor(args: unknown[]): TensorRef {
  if (args.length !== 6 && args.length !== 7)
    throw new MalformedPickle(`${REBUILD_TENSOR} is called with ${args.length} arguments, expected 6 or 7`);
  const [storage, offset, size, stride] = args;
  const isIndex = (value: unknown): value is number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (!(storage instanceof StorageRef))
    throw new MalformedPickle(`${REBUILD_TENSOR} is given ${describe(storage)} as its storage`);
  if (!isIndex(offset))
    throw new MalformedPickle(`${REBUILD_TENSOR}: the storage offset is not a non-negative integer`);
  if (!Array.isArray(size) || !size.every(isIndex))
    throw new MalformedPickle(`${REBUILD_TENSOR}: the size is not a tuple of non-negative integers`);
  if (!Array.isArray(stride) || stride.length !== size.length || !stride.every(isIndex)) {
    throw new MalformedPickle(
      `${REBUILD_TENSOR}: the stride is not a tuple of non-negative integers as long as the size`,
    );
  }
  return new TensorRef(storage, offset, [...size], [...stride]);
}
