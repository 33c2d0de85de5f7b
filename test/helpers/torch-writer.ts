// The tests' own writer of PyTorch checkpoints, following torch/serialization.py (torch >= 1.6): a zip
// (members stored, as torch.save writes them) of FOLDER/data.pkl, FOLDER/data/KEY per storage and
// FOLDER/version. data.pkl is a protocol-2 pickle of an OrderedDict of name -> tensor, each tensor
// torch._utils._rebuild_tensor_v2(persistent storage id, offset, size, stride, False, OrderedDict()),
// the same opcodes torch 1.13 writes (minus the memo, which readers do not need). Hooks let a test add
// hostile opcodes, members or lies; the real torch.save files in test/fixtures/models check the format.
import yazl from 'yazl';
import type { Tensor } from '../../src/nn/types.js';

/** A protocol-2 pickle, opcode by opcode. */
export class PickleWriter {
  private readonly parts: Buffer[] = [Buffer.from([0x80, 0x02])];

  private op(...bytes: (number | Buffer)[]): this {
    for (const part of bytes) this.parts.push(typeof part === 'number' ? Buffer.from([part]) : part);
    return this;
  }
  global(module: string, name: string): this {
    return this.op(Buffer.from(`c${module}\n${name}\n`, 'utf8'));
  }
  str(text: string): this {
    const utf8 = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(utf8.length);
    return this.op(0x58, length, utf8); // BINUNICODE
  }
  int(value: number): this {
    if (value >= -(2 ** 31) && value < 2 ** 31) {
      const bytes = Buffer.alloc(4);
      bytes.writeInt32LE(value);
      return this.op(0x4a, bytes); // BININT
    }
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt(value));
    return this.op(0x8a, 8, bytes); // LONG1, as pickle writes ints beyond 32 bits
  }
  bool(value: boolean): this {
    return this.op(value ? 0x88 : 0x89);
  }
  /** A tuple of ints: MARK, BININT..., TUPLE. */
  intTuple(values: number[]): this {
    this.mark();
    for (const value of values) this.int(value);
    return this.tuple();
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  reduce(): this {
    return this.op(0x52);
  }
  binPersId(): this {
    return this.op(0x51);
  }
  setItems(): this {
    return this.op(0x75);
  }
  pop(): this {
    return this.op(0x30);
  }
  stop(): Buffer {
    this.op(0x2e);
    return Buffer.concat(this.parts);
  }
}

export interface TorchTensorSpec {
  name: string;
  tensor: Tensor;
  dtype?: 'float32' | 'float64';
  /** Store the matrix column-major and give strides (1, rows), as a transposed view would. */
  columnMajor?: boolean;
}

export interface TorchWriterOptions {
  folder?: string;
  /** Opcodes written after the state_dict items and before STOP (the dict is on the stack). */
  beforeStop?: (pickle: PickleWriter) => void;
  /** Opcodes written inside the dict's MARK, before the first item. */
  firstItem?: (pickle: PickleWriter) => void;
  /** The numel each storage claims, by storage index, instead of its real size. */
  claimedNumel?: Map<number, number>;
  /** More members, [name, bytes]. */
  extraMembers?: [string, Buffer][];
  /** Write the storages big-endian and say so in FOLDER/byteorder (as newer torch versions record it). */
  bigEndian?: boolean;
  /**
   * Replace a member name everywhere in the finished zip by another of the same length (names yazl refuses to write).
   */
  renameMember?: [string, string];
}

const STORAGE = { float32: ['FloatStorage', 4], float64: ['DoubleStorage', 8] } as const;

/** The bytes of a .pt file holding the tensors as a state_dict. */
export async function torchStateDict(specs: TorchTensorSpec[], options: TorchWriterOptions = {}): Promise<Buffer> {
  const folder = options.folder ?? 'archive';
  const pickle = new PickleWriter().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  options.firstItem?.(pickle);
  const storages: Buffer[] = [];
  specs.forEach((spec, key) => {
    const { shape, data } = spec.tensor;
    const [storageType, itemBytes] = STORAGE[spec.dtype ?? 'float32'];
    const values = spec.columnMajor ? columnMajor(data, shape) : data;
    const bytes = Buffer.alloc(values.length * itemBytes);
    values.forEach((value, i) => {
      if (itemBytes === 4) options.bigEndian ? bytes.writeFloatBE(value, i * 4) : bytes.writeFloatLE(value, i * 4);
      else options.bigEndian ? bytes.writeDoubleBE(value, i * 8) : bytes.writeDoubleLE(value, i * 8);
    });
    storages.push(bytes);
    const stride = spec.columnMajor
      ? [1, shape[0]]
      : shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    pickle.str(spec.name).global('torch._utils', '_rebuild_tensor_v2').mark();
    pickle
      .mark()
      .str('storage')
      .global('torch', storageType)
      .str(String(key))
      .str('cpu')
      .int(options.claimedNumel?.get(key) ?? values.length)
      .tuple()
      .binPersId();
    pickle
      .int(0)
      .intTuple(shape)
      .intTuple(stride)
      .bool(false)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .tuple()
      .reduce();
  });
  pickle.setItems();
  options.beforeStop?.(pickle);

  const zip = new yazl.ZipFile();
  const stored = { compress: false, mtime: new Date(2000, 0, 1), forceDosTimestamp: true };
  zip.addBuffer(pickle.stop(), `${folder}/data.pkl`, stored);
  storages.forEach((bytes, key) => zip.addBuffer(bytes, `${folder}/data/${key}`, stored));
  zip.addBuffer(Buffer.from('3\n'), `${folder}/version`, stored);
  if (options.bigEndian) zip.addBuffer(Buffer.from('big'), `${folder}/byteorder`, stored);
  for (const [name, bytes] of options.extraMembers ?? []) zip.addBuffer(bytes, name, stored);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  const out = Buffer.concat(chunks);
  if (options.renameMember) {
    const [from, to] = options.renameMember.map((name) => Buffer.from(name, 'utf8'));
    if (from.length !== to.length) throw new RangeError('renameMember needs names of the same length');
    for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) to.copy(out, at);
  }
  return out;
}

function columnMajor(data: Float32Array, shape: number[]): Float32Array {
  const [rows, cols] = shape;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A (rows, cols) matrix transposed to (cols, rows): how PyTorch stores an (in, out) weight. */
export function transposed(tensor: Tensor): Tensor {
  const [rows, cols] = tensor.shape;
  return { shape: [cols, rows], data: columnMajor(tensor.data, tensor.shape) };
}
