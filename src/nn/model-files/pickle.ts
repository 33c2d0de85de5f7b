// Python pickles read as data, never executed: a dict of numpy arrays (the book's sample_weight.pkl) here,
// and PyTorch's data.pkl through the same reader (pytorch.ts, with its own profile of allowed globals).
//
// The opcodes are interpreted by the `pickleparser` package, made strict enough for untrusted files:
//  - Globals: pickleparser asks a NameResolver for every GLOBAL / STACK_GLOBAL / INST. Only the handful of
//    callables a profile names are allowed (for numpy: ALLOWED_GLOBALS, what numpy needs to rebuild
//    arrays), and each is our own small frozen function that builds an inert description of the data.
//    Anything else (os.system, builtins.eval, subprocess.Popen, ...) is refused, naming the global.
//  - Refusal comes first: pass 1 runs the whole pickle with pickleparser's inert placeholders (they only
//    record their arguments) just to see every global it names; only if all are allowed does pass 2 run
//    with the real (still harmless) functions. So nothing of ours runs on a file that names a forbidden
//    global, even one hidden after valid arrays.
//  - Reading: pickleparser's own BufferReader accepts negative lengths (BINBYTES takes a signed int32), which
//    moves its position backwards: a 9-byte pickle makes it spin forever (see pickle-refusals.test.ts).
//    We hand it CheckedReader instead, which refuses negative and out-of-range lengths, so every opcode
//    consumes at least one byte and parsing ends.
//    Byte strings are views into the file, so nothing is allocated beyond what the file holds.
//  - Dicts are Maps (no `__proto__` keys landing on plain objects); persistent ids are refused unless a
//    profile resolves them (PyTorch's storages); the extension registry is refused by pickleparser's
//    default; out-of-band buffers are refused (none are given).
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

type ParserReader = Parameters<Parser['read']>[0];
type NameResolver = NonNullable<NonNullable<ConstructorParameters<typeof Parser>[0]>['nameResolver']>;
type Resolved = ReturnType<NameResolver['resolve']>;
/** A function an allowed global resolves to. */
export type PickleCallable = (...args: never[]) => unknown;

/** What one kind of pickle may name, and what its globals and persistent ids become. */
export interface PickleProfile {
  /** Prefix of every message: 'pickle', 'pytorch data.pkl'. */
  label: string;
  /** The globals allowed, module.name. */
  allowed: ReadonlySet<string>;
  /** Why only those, for the refusal: 'only the globals numpy uses to rebuild arrays are allowed'. */
  allowedText: string;
  /** Pass 1 stand-ins for allowed globals whose inert placeholder would not do (a dict type filled by SETITEMS). */
  scanStandIns?: ReadonlyMap<string, PickleCallable>;
  /** Pass 2: the allowed globals as our own small functions. */
  functions(): ReadonlyMap<string, PickleCallable>;
  /** Persistent ids: an inert value in pass 1, the real (still inert) reference in pass 2. Absent: refused. */
  persistent?: { scan(pid: unknown): unknown; load(pid: unknown): unknown };
  /** More words for the refusal of a forbidden global (how to fix the file), or ''. */
  refusalHint?(global: string): string;
}

/** A forbidden global met while scanning. */
class ForbiddenGlobal extends Error {
  constructor(readonly global: string) {
    super(`forbidden global ${global}`);
  }
}

/** The file is malformed in a way we detect ourselves (bad length, truncation, bad arguments). */
export class MalformedPickle extends Error {}

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
    return encoding === 'utf-8'
      ? this.utf8.decode(bytes)
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
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
  if (typeof module !== 'string' || typeof name !== 'string')
    throw new MalformedPickle('a global is named by something other than strings');
  return `${module}.${name}`;
}

/**
 * Pass 1: resolves every global to an inert placeholder (or the profile's stand-in), refusing the first one not
 * allowed.
 */
class ScanRegistry extends NameRegistry {
  constructor(private readonly profile: PickleProfile) {
    super();
  }
  override resolve(module: string, name: string) {
    const global = globalName(module, name);
    if (!this.profile.allowed.has(global)) throw new ForbiddenGlobal(global);
    const standIn = this.profile.scanStandIns?.get(global);
    // Without a stand-in: pickleparser's placeholder, which only records its arguments.
    return standIn ? (standIn as unknown as Resolved) : super.resolve(module, name);
  }
}

/** Pass 2: the profile's own functions, frozen so that a BUILD opcode cannot set properties on them. */
function functionResolver(profile: PickleProfile): NameResolver {
  const table = new Map([...profile.functions()].map(([global, fn]) => [global, Object.freeze(fn)] as const));
  return {
    resolve(module: string, name: string) {
      const global = globalName(module, name);
      const found = table.get(global);
      // unreachable after pass 1; a second lock
      if (!found || !profile.allowed.has(global)) throw new ForbiddenGlobal(global);
      return found as unknown as Resolved;
    },
  };
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
    if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4))
      throw new MalformedPickle('numpy.ndarray state is not a 4- or 5-tuple');
    const [shape, dtype, fortranOrder, raw] = state.length === 5 ? state.slice(1) : state;
    Object.assign(this, { shape, dtype, fortranOrder, raw });
  }
}

/** The allowed numpy globals as small functions that build PickledArray / PickledDtype / bytes. */
function numpyFunctions(): ReadonlyMap<string, PickleCallable> {
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
    if (order !== 'C' && order !== 'F')
      throw new MalformedPickle(`_frombuffer order ${String(order)} is not 'C' or 'F'`);
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
  return new Map<string, PickleCallable>([
    ['numpy.core.multiarray._reconstruct', reconstruct],
    ['numpy._core.multiarray._reconstruct', reconstruct],
    ['numpy.core.numeric._frombuffer', frombuffer],
    ['numpy._core.numeric._frombuffer', frombuffer],
    ['numpy.ndarray', ndarray],
    ['numpy.dtype', dtype],
    ['_codecs.encode', encode],
  ]);
}

const NUMPY_PROFILE: PickleProfile = {
  label: 'pickle',
  allowed: new Set(ALLOWED_GLOBALS),
  allowedText: 'only the globals numpy uses to rebuild arrays are allowed',
  functions: numpyFunctions,
};

export function decodePickle(bytes: Uint8Array, file: string): { tensors: Map<string, Tensor> } {
  const top = unpickleSafely(bytes, file, NUMPY_PROFILE);
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `pickle: ${problem}`);
  };
  if (!(top instanceof Map)) fail(`the top level is ${describe(top)}, expected a dict of name -> numpy array`);
  const tensors = new Map<string, Tensor>();
  for (const [key, value] of top as Map<unknown, unknown>) {
    if (typeof key !== 'string') fail(`the top-level dict has a key that is ${describe(key)}, expected names (str)`);
    tensors.set(key as string, toTensor(value, file, key as string));
  }
  return { tensors };
}

/**
 * The value a protocol 2-5 pickle holds, built by the profile's functions only after a first pass has
 * seen that every global it names is allowed. Every problem is a ModelError naming the file.
 */
export function unpickleSafely(bytes: Uint8Array, file: string, profile: PickleProfile): unknown {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file, `${profile.label}: ${problem}`);
  };
  if (bytes.length < 2 || bytes[0] !== 0x80 || bytes[1] < 2 || bytes[1] > 5) {
    fail('not a protocol 2-5 pickle (it should start with 0x80 and a protocol number 2..5)');
  }
  const refusePersistentIds = (): never => {
    throw new MalformedPickle('it refers to a persistent id, which this kind of file never holds');
  };
  const run = (nameResolver: NameResolver, persistent: (pid: unknown) => unknown): unknown => {
    const parser = new Parser({
      nameResolver,
      persistentResolver: { resolve: persistent },
      unpicklingTypeOfDictionary: 'Map',
      unpicklingTypeOfSet: 'Set',
    });
    try {
      return parser.read(new CheckedReader(bytes));
    } catch (error) {
      if (error instanceof ModelError) throw error;
      if (error instanceof ForbiddenGlobal) {
        const hint = profile.refusalHint?.(error.global) ?? '';
        return fail(
          `refusing to load: the pickle references the forbidden global ${error.global} (${profile.allowedText}` +
            `)${hint ? `. ${hint}` : ''}`,
        );
      }
      if (error instanceof MalformedPickle)
        return fail(/^truncated/.test(error.message) ? error.message : `malformed: ${error.message}`);
      const message = (error as Error)?.message ?? String(error);
      if (/^Unexpected end of file/.test(message))
        return fail('truncated: the file ends before the pickle STOP opcode');
      return fail(`malformed pickle (${message})`);
    }
  };
  run(new ScanRegistry(profile), profile.persistent ? (pid) => profile.persistent!.scan(pid) : refusePersistentIds);
  return run(
    functionResolver(profile),
    profile.persistent ? (pid) => profile.persistent!.load(pid) : refusePersistentIds,
  );
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
    fail(
      `holds ${raw.length} bytes of data, shape (${shape.join(', ')}) of '${dtype.spec}' needs ` +
        `${count * floatType.itemBytes}`,
    );
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

export function describe(value: unknown): string {
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
