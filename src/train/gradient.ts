// The gradient of the mean cross-entropy loss of a mini-batch with respect to every parameter, for one
// shard (a contiguous block of the batch's rows). Forward with the inference maths (sparse first layer,
// `affine`, activations, softmax), backward with layers.ts. The same function runs in the gradient
// workers and in-process (tests), so both give the same bits.
import { applyActivation_ } from '../nn/activations.js';
import { affine } from '../nn/matrix.js';
import type { Network } from '../nn/types.js';
import {
  activationBackward_,
  affineBackward,
  createSparseRows,
  sparseAffine,
  sparseAffineBackward,
  type SparseRows,
} from './layers.js';
import { softmaxCrossEntropy, type LossStats } from './loss.js';
import { paramLayout, type ParamLayout } from './params.js';

/** Buffers for one shard's forward and backward pass, allocated once per worker. */
export interface GradientScratch {
  maxRows: number;
  layout: ParamLayout;
  /** The shard's inputs (filled by the caller, e.g. gatherSparseRows). */
  input: SparseRows;
  /** Per layer: its float32 output (after the activation; the last holds probabilities). */
  outputs: Float32Array[];
  /** Two float64 buffers for the delta flowing backwards (maxRows x widest layer). */
  deltas: [Float64Array, Float64Array];
  /** float64 accumulator for sparseAffine. */
  acc: Float64Array;
  /** Labels of the shard's rows. */
  labels: Int32Array;
}

export function createGradientScratch(layerSizes: readonly number[], maxRows: number): GradientScratch {
  const layout = paramLayout(layerSizes);
  const widest = Math.max(...layerSizes.slice(1));
  return {
    maxRows,
    layout,
    input: createSparseRows(maxRows, layerSizes[0]),
    outputs: layerSizes.slice(1).map((n) => new Float32Array(maxRows * n)),
    deltas: [new Float64Array(maxRows * widest), new Float64Array(maxRows * widest)],
    acc: new Float64Array(widest),
    labels: new Int32Array(maxRows),
  };
}

/**
 * Writes into `grad` (float64, the parameter layout) the gradient of
 *   (1 / batchRows) · Σ over the shard's rows of cross-entropy(softmax(network(x_r)), label_r)
 * and returns the shard's summed loss and correct count. `grad` is overwritten, not accumulated.
 * The shard's inputs are scratch.input (scratch.input.rows rows) and its labels scratch.labels.
 */
export function shardGradient(
  network: Network,
  scratch: GradientScratch,
  batchRows: number,
  grad: Float64Array,
): LossStats {
  const { layout, input, outputs, acc, labels } = scratch;
  const rows = input.rows;
  const layers = network.layers;
  const last = layers.length - 1;
  if (network.output !== 'softmax')
    throw new RangeError(`training supports the softmax output with cross-entropy, not '${network.output}'`);
  if (layers.length !== layout.offsets.length)
    throw new RangeError('shardGradient: the network does not match the scratch layout');
  if (rows > scratch.maxRows)
    throw new RangeError(`shardGradient: ${rows} rows exceed the scratch's ${scratch.maxRows}`);
  if (grad.length !== layout.size)
    throw new RangeError(`shardGradient: grad holds ${grad.length} values, the network has ${layout.size}`);

  // Forward.
  for (let k = 0; k <= last; k++) {
    const { W, b } = layers[k];
    if (k === 0) sparseAffine(input, W, b, outputs[0], acc);
    else affine(outputs[k - 1], rows, W, b, outputs[k]);
    if (k < last) applyActivation_(network.activation, outputs[k], rows * W.cols);
  }
  const classes = layers[last].W.cols;
  let [delta, spare] = scratch.deltas;
  const stats = softmaxCrossEntropy(outputs[last], rows, classes, labels, 1 / batchRows, delta);

  // Backward: delta holds dL/dA of layer k (before its activation) on entry to iteration k.
  grad.fill(0);
  for (let k = last; k >= 0; k--) {
    const { W } = layers[k];
    const { W: wOffset, b: bOffset, inputs, outputs: width } = layout.offsets[k];
    const dW = grad.subarray(wOffset, wOffset + inputs * width);
    const db = grad.subarray(bOffset, bOffset + width);
    if (k === 0) {
      sparseAffineBackward(input, delta, width, dW, db);
    } else {
      affineBackward(outputs[k - 1], rows, W, delta, dW, db, spare);
      activationBackward_(network.activation, outputs[k - 1], spare, rows * inputs);
      [delta, spare] = [spare, delta];
    }
  }
  return stats;
}
