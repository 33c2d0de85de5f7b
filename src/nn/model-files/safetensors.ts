// The safetensors format (the project's own model format):
//   8 bytes   little-endian u64 N, the length of the JSON header
//   N bytes   JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
//             padded with spaces to a multiple of 8 by the reference writer
//   the rest  the data section; offsets are relative to its start
//
// Hand-written on purpose: no npm package reads local safetensors files and is kept up (the `safetensors`
// package is a single 0.0.1 release; @huggingface/hub only parses the headers of files on the Hub over
// HTTP). The format is small, and every check below mirrors one the reference (Rust) implementation makes.
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { decodeFloats, elementCount, type FloatDtype } from './float-data.js';
import { MAX_SAFETENSORS_HEADER_BYTES } from './limits.js';

/** The dtypes we read. F64 is narrowed to float32 as it is read, F16 and BF16 widened exactly. */
const READABLE_DTYPES: Record<string, FloatDtype> = {
  F32: { itemBytes: 4, littleEndian: true },
  F64: { itemBytes: 8, littleEndian: true },
  F16: { itemBytes: 2, littleEndian: true },
  BF16: { itemBytes: 2, littleEndian: true, bfloat16: true },
};

const METADATA_KEY = '__metadata__';

interface TensorEntry {
  name: string;
  dtype: FloatDtype;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

type Fail = (problem: string) => never;

export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `safetensors: ${problem}`);
  };
  const { header, dataStart } = readHeader(bytes, fail);
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(info, fail);
    else entries.push(readEntry(name, info, dataLength, file, fail));
  }
  checkTiling(entries, dataLength, fail);
  const tensors = new Map<string, Tensor>();
  for (const entry of entries) {
    const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors.set(entry.name, { shape: [...entry.shape], data: decodeFloats(raw, entry.count, entry.dtype) });
  }
  return { tensors, metadata };
}

/** The 8-byte length, then the JSON header it measures; sizes checked before anything is decoded. */
function readHeader(bytes: Uint8Array, fail: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes, too few for the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `the header length ${declared} is larger than the ${bytes.length - 8} bytes that follow it (truncated or not a ` +
        `safetensors file)`,
    );
  }
  if (declared > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    fail(`the header length ${declared} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  }
  const headerLength = Number(declared);
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b /* { */) fail('the header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    return fail(`the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(header)) return fail('the header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLength };
}

/** One tensor's header entry: a known dtype, a shape, and offsets that hold exactly its bytes. */
function readEntry(name: string, info: unknown, dataLength: number, file: string, fail: Fail): TensorEntry {
  if (!isPlainObject(info)) fail(`tensor ${name}: its header entry is not an object`);
  const { dtype: dtypeName, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtypeName !== 'string') return fail(`tensor ${name}: dtype is missing or not a string`);
  const dtype = READABLE_DTYPES[dtypeName];
  if (!Object.hasOwn(READABLE_DTYPES, dtypeName)) {
    fail(`tensor ${name} has dtype ${dtypeName}; only F32, F64, F16 and BF16 are supported`);
  }
  if (!Array.isArray(shape)) return fail(`tensor ${name}: shape is missing or not an array`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    return fail(`tensor ${name}: data_offsets must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor ${name}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    fail(
      `tensor ${name}: data_offsets [${begin}, ${end}] run past the end of the ${dataLength}-byte data section ` +
        `(truncated file?)`,
    );
  }
  const count = elementCount(shape, dataLength / dtype.itemBytes, file, name);
  if (end - begin !== count * dtype.itemBytes) {
    fail(
      `tensor ${name}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(', ')}` +
        `] of ${dtypeName}` +
        ` needs ${count * dtype.itemBytes}`,
    );
  }
  return { name, dtype, shape: shape as number[], count, begin, end };
}

/** Like the reference implementation: the tensors tile the data section exactly, no overlap, no gap, nothing after. */
function checkTiling(entries: TensorEntry[], dataLength: number, fail: Fail): void {
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const entry of byOffset) {
    if (entry.begin < covered && previous) {
      fail(
        `tensors ${previous.name} and ${entry.name} overlap (data_offsets [${previous.begin}, ${previous.end}` +
          `] and [${entry.begin}` +
          `, ${entry.end}])`,
      );
    }
    if (entry.begin > covered)
      fail(`bytes ${covered}..${entry.begin} of the data section belong to no tensor (before tensor ${entry.name})`);
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) {
    fail(
      `the data section has ${dataLength} bytes but the tensors cover only ${covered} (${dataLength - covered} ` +
        `trailing bytes)`,
    );
  }
}

/** F32 little-endian tensors sorted by name, header padded with spaces to a multiple of 8. */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string>): Buffer {
  // Built from entry lists (Object.fromEntries defines own properties), so that no name, not even
  // "__proto__", is treated specially.
  const metadataEntries = Object.entries(metadata).sort(([a], [b]) => compareNames(a, b));
  for (const [key, value] of metadataEntries) {
    if (typeof value !== 'string') throw new TypeError(`safetensors metadata value for '${key}' must be a string`);
  }
  const headerEntries: [string, unknown][] =
    metadataEntries.length > 0 ? [[METADATA_KEY, Object.fromEntries(metadataEntries)]] : [];

  const names = [...tensors.keys()].sort(compareNames);
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new TypeError(`a tensor cannot be named ${METADATA_KEY}`);
    const { shape, data } = tensors.get(name)!;
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length)
      throw new RangeError(
        `tensor ${name}: shape [${shape.join(', ')}] needs ${count} values, data has ${data.length}`,
      );
    headerEntries.push([name, { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.length * 4] }]);
    offset += data.length * 4;
  }
  const header = Object.fromEntries(headerEntries);

  let headerText = JSON.stringify(header);
  const unpadded = Buffer.byteLength(headerText, 'utf8');
  headerText += ' '.repeat((8 - (unpadded % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');

  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    for (const value of tensors.get(name)!.data) {
      out.writeFloatLE(value, position);
      position += 4;
    }
  }
  return out;
}

function readMetadata(value: unknown, fail: (problem: string) => never): Record<string, string> {
  if (value === null) return {};
  if (!isPlainObject(value)) return fail(`${METADATA_KEY} is not an object`);
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') fail(`${METADATA_KEY} value for '${key}' is not a string`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Byte-wise (code unit) order, the same on every machine, unlike localeCompare. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
