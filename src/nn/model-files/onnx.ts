// ONNX models (.onnx) of multilayer perceptrons, read in TypeScript: the protobuf is decoded by protobufjs
// with ONNX's own schema (onnx-schema.ts), and the graph is walked as one chain of ops from its input to
// its output (onnx-chain.ts). Only the initialisers the chain uses as weights and biases are decoded.
// Tensor data is read from raw_data (little-endian, as the spec says) or from float_data / double_data /
// int32_data; data kept in external files is refused, as is anything the walk does not know.
import protobuf from 'protobufjs';
import { ModelError } from '../../errors.js';
import type { ModelGraph, Tensor } from '../types.js';
import { decodeFloats, elementCount, type FloatDtype } from './float-data.js';
import { walkChain, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-chain.js';
import { ONNX_PROTO } from './onnx-schema.js';

type Fail = (problem: string) => never;

/** TensorProto.DataType numbers, for reading and for messages. */
const DATA_TYPES: Record<number, string> = {
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};
const FLOAT_TYPES: Record<number, FloatDtype> = {
  1: { itemBytes: 4, littleEndian: true },
  11: { itemBytes: 8, littleEndian: true },
  10: { itemBytes: 2, littleEndian: true },
  16: { itemBytes: 2, littleEndian: true, bfloat16: true },
};
const INT64 = 7;
const EXTERNAL = 1;

let modelProto: protobuf.Type | null = null;

/** The decoded ModelProto fields nnpipe reads (protobufjs messages, snake_case as in the schema). */
interface OnnxModel {
  ir_version: unknown;
  opset_import: { domain: string; version: unknown }[];
  metadata_props: { key: string; value: string }[];
  graph: {
    node: OnnxNode[];
    initializer: OnnxTensor[];
    input: OnnxValueInfo[];
    output: OnnxValueInfo[];
    sparse_initializer: unknown[];
  } | null;
}

export function decodeOnnx(
  bytes: Uint8Array,
  file: string,
): { tensors: Map<string, Tensor>; metadata: Record<string, string>; graph: ModelGraph } {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `onnx: ${problem}`);
  };
  modelProto ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  let model: OnnxModel;
  try {
    model = modelProto.decode(bytes) as unknown as OnnxModel;
  } catch (error) {
    return fail(`not a readable ONNX model, truncated or corrupt (protobuf: ${(error as Error).message})`);
  }
  const { graph } = model;
  if (!graph || graph.node.length === 0) return fail('the file holds no graph with nodes (is it an ONNX model?)');
  if (graph.sparse_initializer.length > 0) fail('sparse initialisers are not supported');
  const opset = model.opset_import.find((entry) => entry.domain === '' || entry.domain === 'ai.onnx');
  if (!opset) fail('the model imports no opset of the standard ONNX domain');
  const opsetVersion = int64(opset!.version);
  if (opsetVersion === null || opsetVersion < 1) return fail('the model opset version is not a positive integer');

  const initializers = new Map<string, OnnxTensor>();
  for (const tensor of graph.initializer) {
    if (initializers.has(tensor.name)) fail(`initialiser ${tensor.name} appears twice`);
    if (tensor.data_location === EXTERNAL) {
      const location = tensor.external_data.find((entry) => entry.key === 'location')?.value ?? 'another file';
      fail(
        `initialiser ${tensor.name} keeps its data in an external file (${location}); nnpipe reads self-contained ` +
          `.onnx files: ` +
          'save with onnx.save_model(model, path, save_as_external_data=False)',
      );
    }
    initializers.set(tensor.name, tensor);
  }

  const chain = walkChain(graph, initializers, opsetVersion, {
    fail,
    int64,
    int64Tensor: (tensor) => int64Tensor(tensor, bytes.length, file),
  });
  const tensors = new Map<string, Tensor>();
  for (const [name, proto] of chain.tensors) tensors.set(name, floatTensor(proto, bytes.length, file));

  const metadata: Record<string, string> = {};
  for (const { key, value } of model.metadata_props) {
    if (Object.hasOwn(metadata, key)) fail(`metadata_props has the key ${key} twice`);
    Object.defineProperty(metadata, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata, graph: chain.graph };
}

/** An int64 protobuf value (number or Long) as a number, or null when it is not a safe integer. */
function int64(value: unknown): number | null {
  const text =
    typeof value === 'number' || typeof value === 'bigint' || (typeof value === 'object' && value !== null)
      ? String(value)
      : '';
  if (!/^-?[0-9]+$/.test(text)) return null;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : null;
}

function shapeOf(tensor: OnnxTensor, fail: Fail): number[] {
  return tensor.dims.map((dim) => {
    const value = int64(dim);
    if (value === null || value < 0) fail(`tensor ${tensor.name} has a dimension that is not a non-negative integer`);
    return value!;
  });
}

/** A float initialiser (FLOAT, DOUBLE, FLOAT16, BFLOAT16) as float32. `maxElements` bounds its declared shape. */
function floatTensor(tensor: OnnxTensor, maxElements: number, file: string): Tensor {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `onnx: ${problem}`);
  };
  const dtype = FLOAT_TYPES[tensor.data_type];
  if (!dtype)
    fail(
      `tensor ${tensor.name} has data type ${DATA_TYPES[tensor.data_type] ?? tensor.data_type}; only FLOAT, DOUBLE, ` +
        `FLOAT16 and BFLOAT16 weights are supported`,
    );
  if (tensor.segment) fail(`tensor ${tensor.name} is stored in segments, which are not supported`);
  const shape = shapeOf(tensor, fail);
  const count = elementCount(shape, maxElements, file, tensor.name);
  const raw = tensor.raw_data;
  if (raw.length > 0) {
    if (raw.length !== count * dtype.itemBytes)
      fail(
        `tensor ${tensor.name}: raw_data holds ${raw.length} bytes, shape (${shape.join(', ')}) needs ` +
          `${count * dtype.itemBytes}`,
      );
    return { shape, data: decodeFloats(raw, count, dtype) };
  }
  // Typed fields: FLOAT in float_data, DOUBLE in double_data, FLOAT16/BFLOAT16 as their bits in int32_data.
  const field = dtype.itemBytes === 4 ? 'float_data' : dtype.itemBytes === 8 ? 'double_data' : 'int32_data';
  const values = tensor[field];
  if (values.length !== count)
    fail(`tensor ${tensor.name}: ${field} holds ${values.length} values, shape (${shape.join(', ')}) needs ${count}`);
  if (dtype.itemBytes !== 2) return { shape, data: Float32Array.from(values) };
  const bits = new Uint8Array(count * 2);
  const view = new DataView(bits.buffer);
  values.forEach((value, i) => view.setUint16(i * 2, value & 0xffff, true));
  return { shape, data: decodeFloats(bits, count, dtype) };
}

/** An INT64 tensor (a Reshape's target shape) as numbers. */
function int64Tensor(tensor: OnnxTensor, maxElements: number, file: string): number[] {
  const fail: Fail = (problem) => {
    throw new ModelError(file, `onnx: ${problem}`);
  };
  if (tensor.data_type !== INT64)
    fail(`tensor ${tensor.name} has data type ${DATA_TYPES[tensor.data_type] ?? tensor.data_type}, expected INT64`);
  const count = elementCount(shapeOf(tensor, fail), maxElements, file, tensor.name);
  const raw = tensor.raw_data;
  const values: unknown[] = [];
  if (raw.length > 0) {
    if (raw.length !== count * 8)
      fail(`tensor ${tensor.name}: raw_data holds ${raw.length} bytes, ${count} INT64 values need ${count * 8}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) values.push(view.getBigInt64(i * 8, true));
  } else {
    if (tensor.int64_data.length !== count)
      fail(`tensor ${tensor.name}: int64_data holds ${tensor.int64_data.length} values, ${count} needed`);
    values.push(...tensor.int64_data);
  }
  return values.map((value) => {
    const number = int64(value);
    if (number === null) fail(`tensor ${tensor.name} holds a value outside the safe integer range`);
    return number!;
  });
}
