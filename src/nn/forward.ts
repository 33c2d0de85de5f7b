// The forward pass as the formula reads: affine -> activation for each hidden layer, affine -> output
// function for the last. The reference the kernels (src/nn/kernels/) are tested against, and the forward
// pass of training's evaluation. With a scratch object it allocates nothing per call.
import { applyActivation_, applyOutput_ } from './activations.js';
import { affine } from './matrix.js';
import type { Network } from './types.js';

/** Per-layer output buffers, each sized for `maxRows` rows; reused across calls. */
export interface ForwardScratch {
  /** How many rows the buffers currently hold; forward() grows them when a batch is larger. */
  maxRows: number;
  /** Output width of each layer (the buffers' column counts). */
  readonly layerOutputs: readonly number[];
  /** One buffer per layer, maxRows x layerOutputs[k]. */
  buffers: Float32Array[];
  /** The last view handed out (rows x outputs of the last buffer), reused while the row count repeats. */
  lastView?: Float32Array;
}

export function createForwardScratch(network: Network, maxRows: number): ForwardScratch {
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
  const layerOutputs = network.layers.map((layer) => layer.W.cols);
  return { maxRows, layerOutputs, buffers: layerOutputs.map((cols) => new Float32Array(maxRows * cols)) };
}

/**
 * Output probabilities (rows x outputs) for `rows` input rows in `x` (row-major, inputs wide).
 * Returns a view into scratch (valid until the next call) when scratch is given, otherwise a fresh array.
 * No allocation per call when scratch is big enough (grown in place when rows > scratch.maxRows).
 */
export function forward(network: Network, x: Float32Array, rows: number, scratch?: ForwardScratch): Float32Array {
  const { layers } = network;
  if (layers.length === 0) throw new Error('forward: the network has no layers');
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new RangeError(`forward: rows must be a non-negative integer, got ${rows}`);
  const inputs = layers[0].W.rows;
  if (x.length < rows * inputs) {
    throw new RangeError(`forward: x holds ${x.length} values, ${rows} rows of ${inputs} inputs need ${rows * inputs}`);
  }
  if (scratch) {
    checkScratchFits(network, scratch);
    if (rows > scratch.maxRows) growScratch(scratch, rows);
  }
  let input = x;
  const last = layers.length - 1;
  for (let k = 0; k <= last; k++) {
    const { W, b } = layers[k];
    const out = scratch ? scratch.buffers[k] : new Float32Array(rows * W.cols);
    affine(input, rows, W, b, out);
    if (k < last) applyActivation_(network.activation, out, rows * W.cols);
    else applyOutput_(network.output, out, rows, W.cols);
    input = out;
  }
  if (!scratch) return input;
  const length = rows * layers[last].W.cols;
  if (scratch.lastView?.buffer !== input.buffer || scratch.lastView.length !== length)
    scratch.lastView = input.subarray(0, length);
  return scratch.lastView;
}

/**
 * For each row of a rows x cols block: the index of its largest value (first index wins ties, and a NaN
 * counts as the largest, as numpy.argmax) and that value.
 */
export function argmaxRows(
  out: Float32Array,
  rows: number,
  cols: number,
  predicted: Int32Array,
  confidence: Float32Array,
): void {
  if (cols < 1) throw new RangeError('argmaxRows: cols must be at least 1');
  if (out.length < rows * cols) throw new RangeError(`argmaxRows: out holds ${out.length} values, need ${rows * cols}`);
  if (predicted.length < rows || confidence.length < rows)
    throw new RangeError(`argmaxRows: result arrays hold fewer than ${rows} rows`);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let best = 0;
    let bestValue = out[start];
    for (let c = 1; c < cols && !Number.isNaN(bestValue); c++) {
      const value = out[start + c];
      if (value > bestValue || Number.isNaN(value)) {
        best = c;
        bestValue = value;
      }
    }
    predicted[r] = best;
    confidence[r] = bestValue;
  }
}

function checkScratchFits(network: Network, scratch: ForwardScratch): void {
  const { layers } = network;
  const fits =
    scratch.layerOutputs.length === layers.length &&
    layers.every((layer, k) => layer.W.cols === scratch.layerOutputs[k]);
  if (!fits) {
    throw new Error(
      `forward: scratch was made for layers of ${scratch.layerOutputs.join('-')} outputs, the network has ` +
        `${layers.map((l) => l.W.cols).join('-')}`,
    );
  }
}

function growScratch(scratch: ForwardScratch, rows: number): void {
  scratch.maxRows = rows;
  scratch.buffers = scratch.layerOutputs.map((cols) => new Float32Array(rows * cols));
  scratch.lastView = undefined;
}
