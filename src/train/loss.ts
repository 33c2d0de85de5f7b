// Softmax with cross-entropy loss, the output layer the pipeline runs (softmax) plus its loss.
// The loss of a row is logsumexp(z) - z[label], computed in float64 straight from the logits, so it
// is finite even when softmax rounds the true class's probability to 0. The probabilities are the
// inference softmax (src/nn/activations.ts), and the gradient with respect to the logits is the
// classic (p - onehot(label)) · scale, where scale = 1 / (rows of the whole mini-batch): shards of a
// batch then add up to the batch-mean gradient.
import { softmaxRows_ } from '../nn/activations.js';

export interface LossStats {
  /** Sum of the rows' losses (not the mean). */
  lossSum: number;
  /** Rows whose largest probability is the label (first index wins ties, as argmaxRows). */
  correct: number;
}

/** Loss of one row of logits, float64. */
export function crossEntropyFromLogits(z: ArrayLike<number>, start: number, cols: number, label: number): number {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) if (z[start + c] > max) max = z[start + c];
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += Math.exp(z[start + c] - max);
  return max + Math.log(sum) - z[start + label];
}

/**
 * Turns the logits `z` (rows x cols) into probabilities in place, writes dL/dz · scale into `dZ` and
 * returns the summed loss and the number of correct rows.
 */
export function softmaxCrossEntropy(
  z: Float32Array,
  rows: number,
  cols: number,
  labels: ArrayLike<number>,
  scale: number,
  dZ: Float64Array,
): LossStats {
  let lossSum = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!(label >= 0 && label < cols)) throw new RangeError(`label ${label} of row ${r} is not a class 0..${cols - 1}`);
    lossSum += crossEntropyFromLogits(z, r * cols, cols, label);
  }
  softmaxRows_(z, rows, cols);
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    const label = labels[r];
    let best = 0;
    for (let c = 0; c < cols; c++) {
      const p = z[start + c];
      if (p > z[start + best]) best = c;
      dZ[start + c] = (c === label ? p - 1 : p) * scale;
    }
    if (best === label) correct++;
  }
  return { lossSum, correct };
}
