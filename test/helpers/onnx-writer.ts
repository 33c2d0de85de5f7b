// The tests' own writer of ONNX models, with protobufjs and ONNX's schema, in the two shapes
// torch.onnx.export gives an MLP: Gemm (transB=1, weights (out, in), like nn.Linear) and MatMul + Add
// (weights (in, out)). `mutate` edits the plain ModelProto object before encoding, for hostile or odd
// graphs; the real exports in test/fixtures/models check the format.
import protobuf from 'protobufjs';
import { ONNX_PROTO } from '../../src/nn/model-files/onnx-schema.js';
import type { Tensor } from '../../src/nn/types.js';
import { transposed } from './torch-writer.js';

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

export const FLOAT = 1;
export const INT64 = 7;
const ATTRIBUTE = { FLOAT: 1, INT: 2, TENSOR: 4 } as const;

/** A plain object in the shape of onnx.TensorProto. */
export type TensorObject = Record<string, unknown>;
export type NodeObject = {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute?: Record<string, unknown>[];
  domain?: string;
};
export type ModelObject = {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  graph: {
    name: string;
    node: NodeObject[];
    initializer: TensorObject[];
    input: Record<string, unknown>[];
    output: Record<string, unknown>[];
  };
  metadata_props: { key: string; value: string }[];
  producer_name: string;
};

export interface OnnxWriterOptions {
  shape: 'gemm' | 'matmul';
  /** File names of layer k's (1-based) weight and bias. */
  names?: (k: number) => [string, string];
  activation?: 'Relu' | 'Sigmoid' | null;
  output?: 'Softmax' | 'Sigmoid' | null;
  opset?: number;
  /** Store weights in float_data instead of raw_data. */
  floatData?: boolean;
  /** The input's non-batch dims when a Flatten comes first (e.g. [1, 28, 28]). */
  flattenFrom?: number[];
  metadata?: Record<string, string>;
  mutate?: (model: ModelObject) => void;
}

export const intAttribute = (name: string, i: number) => ({ name, type: ATTRIBUTE.INT, i });
export const floatAttribute = (name: string, f: number) => ({ name, type: ATTRIBUTE.FLOAT, f });
export const tensorAttribute = (name: string, t: TensorObject) => ({ name, type: ATTRIBUTE.TENSOR, t });

export function floatTensor(name: string, tensor: Tensor, floatData = false): TensorObject {
  const base = { name, dims: tensor.shape, data_type: FLOAT };
  if (floatData) return { ...base, float_data: [...tensor.data] };
  const raw = Buffer.alloc(tensor.data.length * 4);
  tensor.data.forEach((value, i) => raw.writeFloatLE(value, i * 4));
  return { ...base, raw_data: raw };
}

export function int64Tensor(name: string, values: number[]): TensorObject {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => raw.writeBigInt64LE(BigInt(value), i * 8));
  return { name, dims: [values.length], data_type: INT64, raw_data: raw };
}

const valueInfo = (name: string, dims: (number | string)[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: FLOAT,
      shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) },
    },
  },
});

/** A model of the layers given as W (in, out) and b (out), the network's own layout. */
export function onnxModelObject(layers: { W: Tensor; b: Tensor }[], options: OnnxWriterOptions): ModelObject {
  const names = options.names ?? ((k: number) => [`fc${k}.weight`, `fc${k}.bias`]);
  const activation = options.activation === undefined ? 'Sigmoid' : options.activation;
  const output = options.output === undefined ? 'Softmax' : options.output;
  const nodes: NodeObject[] = [];
  const initializer: TensorObject[] = [];
  let current = 'input';
  const next = (name: string, op: string, inputs: string[], attribute: Record<string, unknown>[] = []) => {
    const out = `${name}_output`;
    nodes.push({ name, op_type: op, input: inputs, output: [out], attribute });
    current = out;
  };
  if (options.flattenFrom) next('/flatten/Flatten', 'Flatten', [current], [intAttribute('axis', 1)]);
  layers.forEach(({ W, b }, index) => {
    const k = index + 1;
    const [weightName, biasName] = names(k);
    if (options.shape === 'gemm') {
      initializer.push(
        floatTensor(weightName, transposed(W), options.floatData),
        floatTensor(biasName, b, options.floatData),
      );
      next(
        `/fc${k}/Gemm`,
        'Gemm',
        [current, weightName, biasName],
        [floatAttribute('alpha', 1), floatAttribute('beta', 1), intAttribute('transB', 1)],
      );
    } else {
      initializer.push(floatTensor(weightName, W, options.floatData), floatTensor(biasName, b, options.floatData));
      next(`/fc${k}/MatMul`, 'MatMul', [current, weightName]);
      next(`/fc${k}/Add`, 'Add', [current, biasName]);
    }
    const fn = k < layers.length ? activation : output;
    if (fn) next(`/${fn}_${k}`, fn, [current]);
  });
  nodes[nodes.length - 1].output = ['output'];
  const inputFeatures = layers[0].W.shape[0];
  return {
    ir_version: 7,
    producer_name: 'nnpipe tests',
    opset_import: [{ domain: '', version: options.opset ?? 13 }],
    graph: {
      name: 'mlp',
      node: nodes,
      initializer,
      input: [valueInfo('input', ['batch', ...(options.flattenFrom ?? [inputFeatures])])],
      output: [valueInfo('output', ['batch', layers[layers.length - 1].W.shape[1]])],
    },
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

export function encodeOnnx(model: ModelObject): Buffer {
  const message = ModelProto.fromObject(model);
  return Buffer.from(ModelProto.encode(message).finish());
}

export function onnxModel(layers: { W: Tensor; b: Tensor }[], options: OnnxWriterOptions): Buffer {
  const model = onnxModelObject(layers, options);
  options.mutate?.(model);
  return encodeOnnx(model);
}

/** The layers of a W1, b1, ... tensor map, in order. */
export function layersOf(tensors: Map<string, Tensor>): { W: Tensor; b: Tensor }[] {
  const layers: { W: Tensor; b: Tensor }[] = [];
  for (let k = 1; tensors.has(`W${k}`); k++) layers.push({ W: tensors.get(`W${k}`)!, b: tensors.get(`b${k}`)! });
  return layers;
}
