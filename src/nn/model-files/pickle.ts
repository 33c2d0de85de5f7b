// Python pickles of a dict of numpy arrays (the book's sample_weight.pkl), read as data, never executed.
//
// The opcodes are interpreted by the `pickleparser` package, made strict enough for untrusted files:
//  - Globals: pickleparser asks a NameResolver for every GLOBAL / STACK_GLOBAL / INST. Only the handful of
//    callables numpy needs to rebuild arrays are allowed (ALLOWED_GLOBALS), and each is our own small
//    function that builds an inert description of the array. Anything else (os.system, builtins.eval,
//    subprocess.Popen, ...) is refused, naming the global.
//  - Refusal comes first: pass 1 runs the whole pickle with pickleparser's inert placeholders (they only
//    record their arguments) just to see every global it names; only if all are allowed does pass 2 run
//    with the real (still harmless) functions. So nothing of ours runs on a file that names a forbidden
//    global, even one hidden after valid arrays.
//  - Reading: pickleparser's own BufferReader accepts negative lengths (BINBYTES takes a signed int32), which
//    moves its position backwards: a 9-byte pickle makes it spin forever (see pickle-refusals.test.ts).
//    We hand it CheckedReader instead, which refuses negative and out-of-range lengths, so every opcode
//    consumes at least one byte and parsing ends.
//    Byte strings are views into the file, so nothing is allocated beyond what the file holds.
//  - Dicts are Maps (no `__proto__` keys landing on plain objects); persistent ids and the extension
//    registry are refused by pickleparser's defaults; out-of-band buffers are refused (none are given).
// Only protocols 2 to 5 are accepted (what numpy pickles with Python 3 use); protocol 0/1 text strings
// would need escape handling that pickleparser does not do.
import { endianness } from 'node:os';
import { NameRegistry, Parser } from 'pickleparser';
import { ModelError } from '../../errors.js';
import type { Tensor } from '../types.js';
import { decodeFloats, elementCount, fortranToRowMajor, type FloatDtype } from './float-data.js';

/**
 * The globals numpy pickles name: array reconstruction (`_reconstruct` + `ndarray`, protocols 2-4),
 * `_frombuffer` (numpy's path for protocol 5), `dtype`, and
 * `_codecs.encode`, which protocol-2 pickles use to carry bytes as latin-1 text.
 * `numpy._core` is numpy 2's name for `numpy.core`.
 */
export const ALLOWED_GLOBALS: readonly string[] = [
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.ndarray',
  'numpy.dtype',
  '_codecs.encode',
];
const ALLOWED = new Set(ALLOWED_GLOBALS);

type ParserReader = Parameters<Parser['read']>[0];
type NameResolver = NonNullable<NonNullable<ConstructorParameters<typeof Parser>[0]>['nameResolver']>;

/** A forbidden global met while scanning. */
class ForbiddenGlobal extends Error {
  constructor(readonly global: string) {
    super(`forbidden global ${global}`);
  }
}

/** The file is malformed in a way we detect ourselves (bad length, truncation, bad arguments). */
class MalformedPickle extends Error {}

/** pickleparser's IReader with bounds checks on every length (see the note at the top). */
class CheckedReader implements ParserReader {
  private position = 0;
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /** Consumes `length` bytes and returns where they start. */
  private take(length: number): number {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MalformedPickle(`invalid length ${length} at byte ${this.position}`);
    }
    if (length > this.buffer.length - this.position) {
      throw new MalformedPickle(
        `truncated: ${length} bytes needed at byte ${this.position}, only ${this.buffer.length - this.position} left`,
      );
    }
    const start = this.position;
    this.position += length;
    return start;
  }

  hasNext(): boolean {
    return this.position < this.buffer.length;
  }
  byte(): number {
    return this.buffer[this.take(1)];
  }
  bytes(length: number): Uint8Array {
    const start = this.take(length);
    return this.buffer.subarray(start, start + length);
  }
  uint16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  int32(): number {
    return this.view.getInt32(this.take(4), true);
  }
  uint32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  uint64(): number {
    const start = this.take(8);
    const value = this.view.getUint32(start, true) + 2 ** 32 * this.view.getUint32(start + 4, true);
    if (!Number.isSafeInteger(value)) throw new MalformedPickle(`64-bit length at byte ${start} is too large`);
    return value;
  }
  float64(): number {
    return this.view.getFloat64(this.take(8), false); // BINFLOAT is big-endian
  }
  skip(offset: number): void {
    this.take(offset);
  }
  string(size: number, encoding: 'ascii' | 'utf-8'): string {
    const bytes = this.bytes(size);
    // 'ascii' opcodes (GLOBAL lines, protocol-0/1 strings) are read as latin-1, byte for byte.
    return encoding === 'utf-8' ? this.utf8.decode(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  }
  line(): string {
    const end = this.buffer.indexOf(0x0a, this.position);
    if (end < 0) throw new MalformedPickle(`truncated: no end of line after byte ${this.position}`);
    const text = this.string(end - this.position, 'ascii');
    this.take(1);
    return text;
  }
}

function globalName(module: unknown, name: unknown): string {
  if (typeof module !== 'string' || typeof name !== 'string') throw new MalformedPickle('a global is named by something other than strings');
  return `${module}.${name}`;
}

/** Pass 1: resolves every global to pickleparser's inert placeholder, refusing the first one not allowed. */
class ScanRegistry extends NameRegistry {
  override resolve(module: string, name: string) {
    const global = globalName(module, name);
    if (!ALLOWED.has(global)) throw new ForbiddenGlobal(global);
    return super.resolve(module, name); // nothing registered: an inert placeholder that records its arguments
  }
}

/** numpy.dtype(spec, align, copy) with its BUILD state (version, byte order, ...). */
class PickledDtype {
  byteOrder: unknown = null;
  constructor(readonly spec: unknown) {}
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || state.length < 2) throw new MalformedPickle('numpy.dtype state is not a tuple');
    this.byteOrder = state[1];
  }
}

/** An array as numpy's reconstruction describes it; checked and decoded only once we know its name. */
class PickledArray {
  shape: unknown = null;
  dtype: unknown = null;
  fortranOrder: unknown = false;
  raw: unknown = null;
  __setstate__(state: unknown): void {
    // (version, shape, dtype, is_fortran, rawdata), or the older form without the version.
    if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) throw new MalformedPickle('numpy.ndarray state is not a 4- or 5-tuple');
    const [shape, dtype, fortranOrder, raw] = state.length === 5 ? state.slice(1) : state;
    Object.assign(this, { shape, dtype, fortranOrder, raw });
  }
}

/** Pass 2: the allowed globals as small functions that build PickledArray / PickledDtype / bytes. */
function numpyResolver(): NameResolver {
  const ndarray = function ndarray(): never {
    throw new MalformedPickle('numpy.ndarray is called directly; only numpy reconstruction is supported');
  };
  const reconstruct = (subtype: unknown) => {
    if (subtype !== ndarray) throw new MalformedPickle('_reconstruct is asked for something other than numpy.ndarray');
    return new PickledArray();
  };
  const frombuffer = (buffer: unknown, dtype: unknown, shape: unknown, order: unknown) => {
    const array = new PickledArray();
    Object.assign(array, { raw: buffer, dtype, shape, fortranOrder: order === 'F' });
    if (order !== 'C' && order !== 'F') throw new MalformedPickle(`_frombuffer order ${String(order)} is not 'C' or 'F'`);
    return array;
  };
  const dtype = (spec: unknown) => new PickledDtype(spec);
  const encode = (text: unknown, encoding: unknown) => {
    if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
      throw new MalformedPickle('_codecs.encode is used for something other than latin-1 bytes');
    }
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0xff) throw new MalformedPickle('_codecs.encode text is not latin-1');
      bytes[i] = code;
    }
    return bytes;
  };
  const table = new Map<string, (...args: never[]) => unknown>([
    ['numpy.core.multiarray._reconstruct', reconstruct],
    ['numpy._core.multiarray._reconstruct', reconstruct],
    ['numpy.core.numeric._frombuffer', frombuffer],
    ['numpy._core.numeric._frombuffer', frombuffer],
    ['numpy.ndarray', ndarray],
    ['numpy.dtype', dtype],
    ['_codecs.encode', encode],
  ]);
  return {
    resolve(module: string, name: string) {
      const global = globalName(module, name);
      const found = table.get(global);
      if (!found) throw new ForbiddenGlobal(global); // unreachable after pass 1; kept as a second lock
      return found as (...args: unknown[]) => unknown as ReturnType<NameResolver['resolve']>;
    },
  };
}

export function decodePickle(bytes: Uint8Array, file: string): { tensors: Map<string, Tensor> } {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `pickle: ${problem}`);
  };
  if (bytes.length < 2 || bytes[0] !== 0x80 || bytes[1] < 2 || bytes[1] > 5) {
    fail('not a protocol 2-5 pickle (it should start with 0x80 and a protocol number 2..5)');
  }
  const run = (nameResolver: NameResolver): unknown => {
    const parser = new Parser({ nameResolver, unpicklingTypeOfDictionary: 'Map', unpicklingTypeOfSet: 'Set' });
    try {
      return parser.read(new CheckedReader(bytes));
    } catch (error) {
      if (error instanceof ModelError) throw error;
      if (error instanceof ForbiddenGlobal) {
        return fail(
          `refusing to load: the pickle references the forbidden global ${error.global} (only the globals numpy uses to rebuild arrays are allowed)`,
        );
      }
      if (error instanceof MalformedPickle) return fail(/^truncated/.test(error.message) ? error.message : `malformed: ${error.message}`);
      const message = (error as Error)?.message ?? String(error);
      if (/^Unexpected end of file/.test(message)) return fail('truncated: the file ends before the pickle STOP opcode');
      return fail(`malformed pickle (${message})`);
    }
  };
  run(new ScanRegistry());
  const top = run(numpyResolver());

  if (!(top instanceof Map)) fail(`the top level is ${describe(top)}, expected a dict of name -> numpy array`);
  const tensors = new Map<string, Tensor>();
  for (const [key, value] of top as Map<unknown, unknown>) {
    if (typeof key !== 'string') fail(`the top-level dict has a key that is ${describe(key)}, expected names (str)`);
    tensors.set(key as string, toTensor(value, file, key as string));
  }
  return { tensors };
}

function toTensor(value: unknown, file: string, name: string): Tensor {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `pickle: tensor ${name}: ${problem}`);
  };
  if (!(value instanceof PickledArray) || Object.getPrototypeOf(value) !== PickledArray.prototype) {
    return fail(`is ${describe(value)}, expected a numpy array`);
  }
  const { shape, dtype, fortranOrder, raw } = value;
  if (!(dtype instanceof PickledDtype) || typeof dtype.spec !== 'string') return fail('has no numpy dtype');
  const floatType = floatDtype(dtype.spec, dtype.byteOrder);
  if (!floatType) return fail(`has dtype '${dtype.spec}', only float32 ('f4') and float64 ('f8') are supported`);
  if (!Array.isArray(shape)) return fail('has no shape tuple');
  if (!(raw instanceof Uint8Array)) return fail(`its data is ${describe(raw)}, expected bytes`);
  if (typeof fortranOrder !== 'boolean') return fail('its fortran-order flag is not a boolean');
  const count = elementCount(shape, raw.length / floatType.itemBytes, file, name);
  if (raw.length !== count * floatType.itemBytes) {
    fail(`holds ${raw.length} bytes of data, shape (${shape.join(', ')}) of '${dtype.spec}' needs ${count * floatType.itemBytes}`);
  }
  const data = decodeFloats(raw, count, floatType);
  return { shape: [...(shape as number[])], data: fortranOrder ? fortranToRowMajor(data, shape as number[]) : data };
}

/** 'f4' / 'f8' (optionally with an order character) plus the byte order from the dtype's state. */
function floatDtype(spec: string, stateOrder: unknown): FloatDtype | null {
  const match = /^([<>=|]?)f([48])$/.exec(spec) ?? /^()float(32|64)$/.exec(spec);
  if (!match) return null;
  const order = typeof stateOrder === 'string' && stateOrder !== '' ? stateOrder : match[1];
  const littleEndian = order === '<' || (order !== '>' && endianness() === 'LE');
  return { itemBytes: match[2] === '4' || match[2] === '32' ? 4 : 8, littleEndian };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value instanceof PickledArray) return 'a numpy array';
  if (value instanceof Map) return 'a dict';
  if (value instanceof Set) return 'a set';
  if (Array.isArray(value)) return 'a list or tuple';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'string') return 'a str';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a bool';
  return 'an object that is not a numpy array';
}
