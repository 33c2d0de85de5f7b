// Shared shapes of the neural-network code. Row-major everywhere, float32 data.
import type { Normalization } from '../data/normalize.js';

/** A row-major matrix view: element (r, c) is data[r * cols + c]. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export const ACTIVATIONS = ['sigmoid', 'relu', 'step', 'identity'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const OUTPUT_FUNCTIONS = ['softmax', 'sigmoid', 'identity'] as const;
export type OutputFunction = (typeof OUTPUT_FUNCTIONS)[number];

/** One dense layer: A = X·W + b, W of shape (inputs, outputs). */
export interface DenseLayer {
  W: Matrix;
  b: Float32Array;
}

/** A fully connected network: hidden layers use `activation`, the last layer uses `output`. */
export interface Network {
  layers: DenseLayer[];
  activation: Activation;
  output: OutputFunction;
}

/** A named tensor as read from a model file (float32, row-major, shape as stored). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export type ModelFormat = 'safetensors' | 'npz' | 'pkl' | 'pt' | 'onnx';

/** One dense layer as a graph (ONNX) wires it: Y = alpha * X * W + beta * bias. */
export interface GraphLayer {
  /** The node that multiplies, for messages: '/fc1/Gemm'. */
  node: string;
  op: 'Gemm' | 'MatMul';
  /** Names of the weight and bias in the file's tensors; bias null: none (zeros). */
  weight: string;
  bias: string | null;
  /** The stored weight is (out, in) (Gemm transB=1), not (in, out). */
  weightOutIn: boolean;
  alpha: number;
  beta: number;
}

/** A network as a graph describes it: the layers in order and the functions between and after them. */
export interface ModelGraph {
  layers: GraphLayer[];
  activation: Activation;
  output: OutputFunction;
  /** Features per input row that the graph's input declares (after any Flatten/Reshape), when it says. */
  inputFeatures: number | null;
  /** What else the graph does that a reader should know ('input (batch, 1, 28, 28) flattened by /0/Flatten'). */
  notes: string[];
}

/** What a model loader returns before the tensors are turned into a Network. */
export interface ModelFile {
  path: string;
  format: ModelFormat;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  sizeBytes: number;
  tensors: Map<string, Tensor>;
  /** String metadata (safetensors `__metadata__`, ONNX metadata_props); empty for formats without metadata. */
  metadata: Record<string, string>;
  /** The file's own wiring of the layers (ONNX); absent: the layers come from the tensors' names and shapes. */
  graph?: ModelGraph;
}

/** Where one layer of a loaded network came from in its file. */
export interface LayerSource {
  /** The weight's and bias's names in the file; bias null when the file has none (zeros). */
  weight: string;
  bias: string | null;
  /** The weight's shape as stored. */
  storedShape: number[];
  /** The weight was stored (out, in) and transposed to the network's (in, out). */
  transposed: boolean;
}

/** Where a setting of the loaded network came from. */
export type SettingSource = 'option' | 'graph' | 'metadata' | 'default';

/** A network ready to run, with where it came from. */
export interface LoadedModel {
  path: string;
  format: ModelFormat;
  sha256: string;
  network: Network;
  /** Layer sizes, input first: [784, 50, 100, 10]. */
  layerSizes: number[];
  /** Normalisation recorded in the model's metadata, if any. */
  normalize: Normalization | null;
  metadata: Record<string, string>;
  /** Each layer's tensors in the file, in network order. */
  layerSources: LayerSource[];
  /** Where the activation and the output function came from. */
  settingSources: { activation: SettingSource; output: SettingSource };
  /** How the file was read, for people: the order of the layers, transpositions, the graph's input handling. */
  notes: string[];
}
