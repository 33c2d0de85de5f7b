// Shared shapes of the neural-network code. Row-major everywhere, float32 data.

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

export const NORMALIZATIONS = ['unit', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

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

export type ModelFormat = 'safetensors' | 'npz' | 'pkl';

/** What a model loader returns before the tensors are turned into a Network. */
export interface ModelFile {
  path: string;
  format: ModelFormat;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  sizeBytes: number;
  tensors: Map<string, Tensor>;
  /** String metadata (safetensors `__metadata__`); empty for formats without metadata. */
  metadata: Record<string, string>;
}

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
}
