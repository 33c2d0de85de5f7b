// Walking an ONNX graph as the chain of a multilayer perceptron, from its one input to its one output:
//   [Flatten | Reshape to (batch, features)]  then per layer  Gemm | MatMul [+ Add]  then  [Relu | Sigmoid]
//   and after the last layer  [Softmax | Sigmoid]; Identity anywhere; Constant only to give a Reshape its shape.
// Both shapes torch.onnx.export writes load: Gemm with transB=1 (nn.Linear), and MatMul + Add. Nodes are
// in topological order (the ONNX spec requires it), so each must take the previous one's output. Any other
// op, a branch, an attribute we do not know or a weight that is not stored in the file is refused, naming
// the node; nothing in the graph is ever run.
import type { Activation, GraphLayer, ModelGraph, OutputFunction } from '../types.js';

/** The decoded protobuf messages, as far as the walk reads them (snake_case, as in onnx.proto). */
export interface OnnxTensor {
  name: string;
  dims: unknown[];
  data_type: number;
  raw_data: Uint8Array;
  float_data: number[];
  double_data: number[];
  int32_data: number[];
  int64_data: unknown[];
  data_location: number;
  external_data: { key: string; value: string }[];
  segment: unknown;
}
interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: unknown;
  t: OnnxTensor | null;
}
export interface OnnxNode {
  name: string;
  op_type: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
export interface OnnxValueInfo {
  name: string;
  type: {
    tensor_type?: { elem_type: number; shape?: { dim: { dim_value: unknown; dim_param: string }[] } | null } | null;
  } | null;
}

export interface ChainHelpers {
  fail: (problem: string) => never;
  int64: (value: unknown) => number | null;
  int64Tensor: (tensor: OnnxTensor) => number[];
}

const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_TENSOR = 4;
const FLOAT_ELEMENT_TYPES = new Set([0, 1, 10, 11, 16]); // unset, FLOAT, FLOAT16, DOUBLE, BFLOAT16

/** The ops the walk knows, with the attributes each may carry. */
const KNOWN_ATTRIBUTES: Record<string, readonly string[]> = {
  Gemm: ['alpha', 'beta', 'transA', 'transB'],
  MatMul: [],
  Add: [],
  Relu: [],
  Sigmoid: [],
  Softmax: ['axis'],
  Flatten: ['axis'],
  Reshape: ['allowzero'],
  Identity: [],
  Constant: ['value'],
};
export const SUPPORTED_ONNX_TEXT =
  'a chain of Gemm or MatMul + Add layers, Relu or Sigmoid between them, Softmax or Sigmoid after the last, Flatten ' +
  'or Reshape of the input, and Identity';

const ACTIVATION_OF: Record<string, Activation> = { Relu: 'relu', Sigmoid: 'sigmoid' };

type Dims = (number | null)[] | null;

export function walkChain(
  graph: { node: OnnxNode[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] },
  initializers: Map<string, OnnxTensor>,
  opset: number,
  helpers: ChainHelpers,
): { graph: ModelGraph; tensors: Map<string, OnnxTensor> } {
  const { fail } = helpers;
  const inputs = graph.input.filter((input) => !initializers.has(input.name));
  if (inputs.length !== 1)
    fail(
      `the graph has ${inputs.length} data inputs (${inputs.map((i) => i.name).join(', ')}); nnpipe feeds exactly one`,
    );
  if (graph.output.length !== 1) fail(`the graph has ${graph.output.length} outputs; nnpipe reads exactly one`);
  const walk = new ChainWalk(inputs[0], initializers, opset, helpers);
  graph.node.forEach((node, index) => walk.step(node, index));
  return walk.finish(graph.output[0].name);
}

class ChainWalk {
  private current: string;
  private dims: Dims;
  private readonly constants: Map<string, OnnxTensor>;
  private readonly layers: GraphLayer[] = [];
  /** The functions after each layer: [layer][op]. */
  private readonly after: { op: string; label: string }[][] = [];
  /** The MatMul just before, whose bias an Add may give. */
  private pending: GraphLayer | null = null;
  private inputFeatures: number | null = null;
  private readonly notes: string[] = [];
  private readonly used = new Map<string, OnnxTensor>();

  constructor(
    private readonly input: OnnxValueInfo,
    initializers: Map<string, OnnxTensor>,
    private readonly opset: number,
    private readonly helpers: ChainHelpers,
  ) {
    this.current = input.name;
    this.constants = new Map(initializers);
    const tensorType = input.type?.tensor_type;
    if (tensorType && !FLOAT_ELEMENT_TYPES.has(tensorType.elem_type)) {
      helpers.fail(
        `the input ${input.name} has element type ${tensorType.elem_type}, not a float type; nnpipe feeds float rows`,
      );
    }
    this.dims = tensorType?.shape
      ? tensorType.shape.dim.map((dim) => (dim.dim_param ? null : helpers.int64(dim.dim_value) || null))
      : null;
  }

  step(node: OnnxNode, index: number): void {
    const { fail } = this.helpers;
    const label = `node ${node.name ? JSON.stringify(node.name) : `#${index + 1}`} (${node.op_type})`;
    const known = KNOWN_ATTRIBUTES[node.op_type];
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      fail(
        `unsupported op ${node.op_type} from the domain ${node.domain} at ${label}; nnpipe reads ` +
          `${SUPPORTED_ONNX_TEXT}`,
      );
    if (!Object.hasOwn(KNOWN_ATTRIBUTES, node.op_type))
      fail(`unsupported op ${node.op_type} at ${label}; nnpipe reads ${SUPPORTED_ONNX_TEXT}`);
    for (const attribute of node.attribute) {
      if (!known.includes(attribute.name))
        fail(`${label} has the attribute ${attribute.name}, which nnpipe does not support`);
    }
    if (node.op_type === 'Constant') return this.constant(node, label);
    if (node.output.length !== 1) fail(`${label} has ${node.output.length} outputs; nnpipe reads ops with one`);
    const pending = this.pending;
    this.pending = null;
    switch (node.op_type) {
      case 'Gemm':
        this.gemm(node, label);
        break;
      case 'MatMul':
        this.matMul(node, label);
        break;
      case 'Add':
        this.add(node, label, pending);
        break;
      case 'Flatten':
        this.flatten(node, label);
        break;
      case 'Reshape':
        this.reshape(node, label);
        break;
      default:
        this.takes(node, label, 1);
        if (node.op_type !== 'Identity') this.function(node, label);
    }
    this.current = node.output[0];
  }

  finish(output: string): { graph: ModelGraph; tensors: Map<string, OnnxTensor> } {
    const { fail } = this.helpers;
    if (this.current !== output)
      fail(
        `the graph's output ${output} is not the end of the chain (${this.current}); nnpipe reads ` +
          `${SUPPORTED_ONNX_TEXT}`,
      );
    const count = this.layers.length;
    if (count === 0) fail('the graph has no Gemm or MatMul layer');
    const hidden = new Set<Activation>();
    this.after.slice(0, -1).forEach((ops, k) => {
      if (ops.length > 1)
        fail(
          `${ops[1].label} follows ${ops[0].label} between layers ${k + 1} and ${k + 2}; nnpipe runs one function ` +
            `there`,
        );
      if (ops[0]?.op === 'Softmax')
        fail(
          `${ops[0].label} between layers ${k + 1} and ${k + 2} is not supported; Softmax may only follow the last ` +
            `layer`,
        );
      hidden.add(ops.length === 0 ? 'identity' : ACTIVATION_OF[ops[0].op]);
    });
    if (hidden.size > 1)
      fail(
        `the hidden layers use different functions (${[...hidden].join(', ')}); nnpipe runs one activation for every ` +
          `hidden layer`,
      );
    const last = this.after[count - 1];
    if (last.length > 1)
      fail(`${last[1].label} follows ${last[0].label} after the last layer; nnpipe runs one output function`);
    if (last[0]?.op === 'Relu')
      fail(
        `${last[0].label} after the last layer is not supported; the output function may be Softmax, Sigmoid or none`,
      );
    const output_: OutputFunction = last.length === 0 ? 'identity' : last[0].op === 'Softmax' ? 'softmax' : 'sigmoid';
    if (output_ === 'identity')
      this.notes.push(
        'no Softmax after the last layer: the outputs are logits (output identity); the predicted class is the same',
      );
    return {
      graph: {
        layers: this.layers,
        activation: [...hidden][0] ?? 'identity',
        output: output_,
        inputFeatures: this.inputFeatures,
        notes: this.notes,
      },
      tensors: this.used,
    };
  }

  /** Checks that the node has `inputs` inputs (Gemm: 2 or 3) and that its first is the chain's current value. */
  private takes(node: OnnxNode, label: string, inputs: number): void {
    if (node.input.length !== inputs && !(node.op_type === 'Gemm' && node.input.length === 2)) {
      this.helpers.fail(`${label} has ${node.input.length} inputs; expected ${inputs}`);
    }
    if (node.input[0] !== this.current) {
      this.helpers.fail(
        `${label} does not continue the chain: its input ${JSON.stringify(node.input[0])} is not ` +
          `${JSON.stringify(this.current)}, the output before it`,
      );
    }
  }

  /** A tensor stored in the file (an initialiser or a Constant's value), for a weight, a bias or a shape. */
  private stored(name: string, label: string, what: string): OnnxTensor {
    const tensor = this.constants.get(name);
    if (!tensor)
      this.helpers.fail(
        `${label}: its ${what} ${JSON.stringify(name)}` +
          ` is not stored in the file (an initialiser or a Constant); nnpipe reads ${SUPPORTED_ONNX_TEXT}`,
      );
    return tensor!;
  }

  private weight(name: string, label: string, what: string): string {
    this.used.set(name, this.stored(name, label, what));
    return name;
  }

  private constant(node: OnnxNode, label: string): void {
    const value = node.attribute.find((attribute) => attribute.name === 'value');
    if (node.input.length !== 0 || node.output.length !== 1 || !value || value.type !== ATTRIBUTE_TENSOR || !value.t) {
      this.helpers.fail(`${label} is not a Constant with one tensor value`);
    }
    this.constants.set(node.output[0], { ...value!.t!, name: node.output[0] });
  }

  private addLayer(layer: GraphLayer, label: string): void {
    if (this.layers.length === 0) {
      if (this.dims && this.dims.length !== 2) {
        this.helpers.fail(
          `the input ${this.input.name} has shape (${describeDims(this.dims)}) and reaches ${label} without a ` +
            `Flatten or Reshape to (batch, features)`,
        );
      }
      this.inputFeatures = this.dims?.[1] ?? null;
    }
    this.layers.push(layer);
    this.after.push([]);
  }

  private gemm(node: OnnxNode, label: string): void {
    this.takes(node, label, 3);
    if (this.intAttribute(node, 'transA', 0, label) !== 0)
      this.helpers.fail(`${label} has transA=1 (its data input would be (features, batch)); nnpipe supports transA=0`);
    const transB = this.intAttribute(node, 'transB', 0, label);
    if (transB !== 0 && transB !== 1) this.helpers.fail(`${label} has transB=${transB}; expected 0 or 1`);
    const bias = node.input[2] ? this.weight(node.input[2], label, 'input C (bias)') : null;
    this.addLayer(
      {
        node: node.name,
        op: 'Gemm',
        weight: this.weight(node.input[1], label, 'input B (weight)'),
        bias,
        weightOutIn: transB === 1,
        alpha: this.floatAttribute(node, 'alpha', 1, label),
        beta: this.floatAttribute(node, 'beta', 1, label),
      },
      label,
    );
  }

  private matMul(node: OnnxNode, label: string): void {
    this.takes(node, label, 2);
    const layer: GraphLayer = {
      node: node.name,
      op: 'MatMul',
      weight: this.weight(node.input[1], label, 'second input (weight)'),
      bias: null,
      weightOutIn: false,
      alpha: 1,
      beta: 1,
    };
    this.addLayer(layer, label);
    this.pending = layer;
  }

  private add(node: OnnxNode, label: string, pending: GraphLayer | null): void {
    if (!pending)
      this.helpers.fail(`${label} does not follow a MatMul; nnpipe supports Add only as the bias of a MatMul`);
    if (node.input.length !== 2 || !node.input.includes(this.current)) {
      this.helpers.fail(
        `${label} does not continue the chain: neither input is ${JSON.stringify(this.current)}, the MatMul's output`,
      );
    }
    const other = node.input[0] === this.current ? node.input[1] : node.input[0];
    pending!.bias = this.weight(other, label, 'bias input');
  }

  /** Relu, Sigmoid or Softmax after a layer. */
  private function(node: OnnxNode, label: string): void {
    if (this.layers.length === 0)
      this.helpers.fail(`${label} comes before the first layer; nnpipe reads ${SUPPORTED_ONNX_TEXT}`);
    if (node.op_type === 'Softmax') {
      // The default axis changed at opset 13 (1 -> -1); after a layer the data is (batch, classes), so both mean the
      // classes.
      const fallback = this.opset < 13 ? 1 : -1;
      const axis = this.intAttribute(node, 'axis', fallback, label);
      if (axis !== 1 && axis !== -1) {
        this.helpers.fail(
          `${label} normalises over axis ${axis}` +
            `; after a layer the data is (batch, classes), so nnpipe supports axis 1 or -1 (opset ${this.opset}` +
            `'s default is ${fallback})`,
        );
      }
    }
    this.after[this.layers.length - 1].push({ op: node.op_type, label });
  }

  private beforeLayers(label: string): void {
    if (this.layers.length > 0)
      this.helpers.fail(`${label} reshapes data between layers; nnpipe supports Flatten or Reshape of the input only`);
  }

  private flatten(node: OnnxNode, label: string): void {
    this.takes(node, label, 1);
    this.beforeLayers(label);
    let axis = this.intAttribute(node, 'axis', 1, label);
    if (axis < 0 && this.dims) axis += this.dims.length;
    if (axis !== 1)
      this.helpers.fail(`${label} flattens at axis ${axis}; nnpipe supports axis 1 (one row per batch item)`);
    this.setRows(`flattened by ${label}`, this.dims ? product(this.dims.slice(1)) : null);
  }

  private reshape(node: OnnxNode, label: string): void {
    this.takes(node, label, 2);
    this.beforeLayers(label);
    const target = this.helpers.int64Tensor(this.stored(node.input[1], label, 'shape'));
    const allowZero = this.intAttribute(node, 'allowzero', 0, label) === 1;
    const batch = this.dims?.[0] ?? null;
    const features = this.dims ? product(this.dims.slice(1)) : null;
    const [rows, columns] = target;
    const keepsBatch = rows === -1 || (rows === 0 && !allowZero) || (batch !== null && rows === batch);
    const width =
      columns > 0
        ? columns
        : columns === -1 && rows !== -1
          ? features
          : columns === 0 && !allowZero
            ? (this.dims?.[1] ?? null)
            : null;
    if (target.length !== 2 || !keepsBatch || width === null || (features !== null && width !== features)) {
      this.helpers.fail(
        `${label} reshapes the input (${describeDims(this.dims)}) to (${target.join(', ')}); nnpipe supports only a ` +
          `reshape to (batch, features), one row per batch item`,
      );
    }
    this.setRows(`reshaped to (${target.join(', ')}) by ${label}`, width);
  }

  private setRows(how: string, features: number | null): void {
    this.notes.push(
      `the input ${JSON.stringify(this.input.name)} (${describeDims(this.dims)}) is ` +
        `${how}${features === null ? '' : `: ${features} features per row`}`,
    );
    this.dims = [this.dims?.[0] ?? null, features];
  }

  private attribute(node: OnnxNode, name: string, type: number, label: string): OnnxAttribute | null {
    const found = node.attribute.find((attribute) => attribute.name === name) ?? null;
    if (found && found.type !== type)
      this.helpers.fail(
        `${label}: attribute ${name} has type ${found.type}, expected ${type === ATTRIBUTE_INT ? 'INT' : 'FLOAT'}`,
      );
    return found;
  }

  private intAttribute(node: OnnxNode, name: string, fallback: number, label: string): number {
    const found = this.attribute(node, name, ATTRIBUTE_INT, label);
    if (!found) return fallback;
    const value = this.helpers.int64(found.i);
    if (value === null) this.helpers.fail(`${label}: attribute ${name} is not a safe integer`);
    return value!;
  }

  private floatAttribute(node: OnnxNode, name: string, fallback: number, label: string): number {
    const found = this.attribute(node, name, ATTRIBUTE_FLOAT, label);
    if (found && !Number.isFinite(found.f)) this.helpers.fail(`${label}: attribute ${name} is not finite`);
    return found ? found.f : fallback;
  }
}

function product(dims: (number | null)[]): number | null {
  return dims.every((dim): dim is number => dim !== null) ? dims.reduce((a, b) => a * b, 1) : null;
}

function describeDims(dims: Dims): string {
  return dims ? dims.map((dim, i) => dim ?? (i === 0 ? 'batch' : '?')).join(', ') : 'shape unknown';
}
