// numpy's `.npy` format (versions 1.0, 2.0, 3.0), the members of an `.npz`:
//   "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0), then a Python dict
//   literal {'descr': '<f4', 'fortran_order': False, 'shape': (784, 50), } padded with spaces and '\n',
//   then the raw data.
// The header is read with a tiny literal parser (strings, ints, True/False/None, tuples, lists, dicts),
// never evaluated.
import { endianness } from 'node:os';
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { decodeFloats, elementCount, fortranToRowMajor, type FloatDtype } from './float-data.js';
import { MAX_NPY_HEADER_BYTES } from './limits.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** What the header says about the array. */
export interface NpyHeader {
  descr: string;
  dtype: FloatDtype;
  fortranOrder: boolean;
  shape: number[];
  count: number;
  /** Offset of the data: magic + version + length field + header text. */
  dataStart: number;
  /** dataStart + count * itemBytes: the exact size of a well-formed file. */
  totalBytes: number;
}

/**
 * The bytes needed before parseNpyHeader can succeed: the fixed prefix, and once that is there the full
 * header. Lets a reader stream just enough of an archive member to check its header first.
 */
export function npyHeaderBytesNeeded(prefix: Uint8Array): number {
  if (prefix.length < 10) return 10;
  const major = prefix[6];
  if (major === 1) return 10 + (prefix[8] | (prefix[9] << 8));
  if (prefix.length < 12) return 12;
  return 12 + new DataView(prefix.buffer, prefix.byteOffset, 12).getUint32(8, true);
}

/** Parses and validates the header; `maxElements` bounds the shape (e.g. by the bytes available). */
export function parseNpyHeader(bytes: Uint8Array, file: string, tensor: string, maxElements: number): NpyHeader {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `tensor ${tensor}: .npy ${problem}`);
  };
  if (bytes.length < 10) fail(`data is ${bytes.length} bytes, too short for a header (truncated?)`);
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) fail('data does not start with the \\x93NUMPY magic');
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0)
    fail(`format version ${major}.${minor} is not supported (1.0, 2.0, 3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) fail('header is truncated');
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER_BYTES)
    fail(`header length ${headerLength} exceeds the ${MAX_NPY_HEADER_BYTES}-byte limit`);
  if (headerStart + headerLength > bytes.length) fail(`header of ${headerLength} bytes is truncated`);
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  let text: string;
  try {
    // 1.0 and 2.0 headers are latin-1, 3.0 headers UTF-8.
    text =
      major === 3
        ? new TextDecoder('utf-8', { fatal: true }).decode(headerBytes)
        : Buffer.from(headerBytes).toString('latin1');
  } catch {
    return fail('header is not valid UTF-8');
  }

  let literal: unknown;
  try {
    literal = parsePythonLiteral(text);
  } catch (error) {
    return fail(`header is not a Python dict literal (${(error as Error).message})`);
  }
  if (!(literal instanceof Map)) return fail('header is not a dict');
  const keys = [...literal.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    fail(`header keys are ${keys.join(', ')}; expected descr, fortran_order, shape`);
  }
  const descr = literal.get('descr');
  const fortranOrder = literal.get('fortran_order');
  const shape = literal.get('shape');
  if (typeof descr !== 'string')
    return fail('descr is not a simple dtype string (structured arrays are not supported)');
  const dtype = floatDtype(descr);
  if (!dtype) return fail(`dtype '${descr}' is not supported (float32 or float64: '<f4', '>f4', '<f8', '>f8')`);
  if (typeof fortranOrder !== 'boolean') return fail('fortran_order is not True or False');
  if (!Array.isArray(shape)) return fail('shape is not a tuple');
  const count = elementCount(shape, maxElements, file, tensor);
  const dataStart = headerStart + headerLength;
  return {
    descr,
    dtype,
    fortranOrder,
    shape: shape as number[],
    count,
    dataStart,
    totalBytes: dataStart + count * dtype.itemBytes,
  };
}

/** Decodes a whole `.npy` file into a row-major float32 tensor. */
export function decodeNpy(bytes: Uint8Array, file: string, tensor: string): Tensor {
  const header = parseNpyHeader(bytes, file, tensor, bytes.length);
  if (bytes.length !== header.totalBytes) {
    const have = bytes.length - header.dataStart;
    const need = header.totalBytes - header.dataStart;
    throw new ModelError(
      file,
      `tensor ${tensor}: .npy data is ${have} bytes but shape (${header.shape.join(', ')}) of '${header.descr}` +
        `' needs ${need}` +
        `${have < need ? ' (truncated?)' : ''}`,
    );
  }
  const floats = decodeFloats(bytes.subarray(header.dataStart), header.count, header.dtype);
  return { shape: header.shape, data: header.fortranOrder ? fortranToRowMajor(floats, header.shape) : floats };
}

/** A version 1.0 `.npy` of little-endian float32, C order, header padded to a multiple of 64 bytes as numpy does. */
export function encodeNpy(tensor: Tensor): Buffer {
  const { shape, data } = tensor;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`shape (${shape.join(', ')}) needs ${count} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1; // + the final '\n'
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  if (header.length > 0xffff) throw new RangeError('npy header too long for format 1.0');
  const out = Buffer.alloc(10 + header.length + count * 4);
  Buffer.from(MAGIC).copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  let position = 10 + header.length;
  for (const value of data) {
    out.writeFloatLE(value, position);
    position += 4;
  }
  return out;
}

/**
 * '<f4', '>f8', ... -> item size and byte order. '=' (native) and '|' (not applicable) mean the byte order
 * of the machine that wrote the file; numpy itself writes '<' or '>' for floats, so we take them as ours.
 */
function floatDtype(descr: string): FloatDtype | null {
  const match = /^([<>=|]?)f([48])$/.exec(descr);
  if (!match) return null;
  const order = match[1];
  const littleEndian = order === '<' || (order !== '>' && endianness() === 'LE');
  return { itemBytes: match[2] === '4' ? 4 : 8, littleEndian };
}

type PyValue = string | number | boolean | null | PyValue[] | Map<PyValue, PyValue>;

/** Parses the Python literals numpy writes in headers: dicts, tuples, lists, strings, ints, True/False/None. */
export function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[i] !== char) throw new Error(`expected '${char}' at ${i}`);
    i++;
  };
  // Items of a bracketed sequence, allowing a trailing comma, as Python does.
  const items = <T>(close: string, item: () => T): T[] => {
    const result: T[] = [];
    for (;;) {
      skipSpace();
      if (text[i] === close) {
        i++;
        return result;
      }
      result.push(item());
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
    }
  };
  const value = (depth: number): PyValue => {
    if (depth > 16) throw new Error('nested too deeply');
    skipSpace();
    const char = text[i];
    if (char === '{') {
      i++;
      const map = new Map<PyValue, PyValue>();
      items('}', () => {
        const key = value(depth + 1);
        expect(':');
        map.set(key, value(depth + 1));
      });
      return map;
    }
    if (char === '(' || char === '[') {
      i++;
      return items(char === '(' ? ')' : ']', () => value(depth + 1));
    }
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, i + 1);
      if (end < 0) throw new Error(`unterminated string at ${i}`);
      const content = text.slice(i + 1, end);
      if (content.includes('\\')) throw new Error('escapes in strings are not supported');
      i = end + 1;
      return content;
    }
    const word = /^(-?[0-9]+L?|True|False|None)/.exec(text.slice(i, i + 32));
    if (!word) throw new Error(`unexpected '${char ?? 'end of text'}' at ${i}`);
    i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    const number = Number(word[0].replace(/L$/, '')); // 'L': Python 2 longs in old headers
    if (!Number.isSafeInteger(number)) throw new Error(`integer ${word[0]} is too large`);
    return number;
  };
  const result = value(0);
  skipSpace();
  if (i !== text.length) throw new Error(`unexpected text after the literal at ${i}`);
  return result;
}
