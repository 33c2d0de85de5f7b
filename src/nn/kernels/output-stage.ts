// The last step shared by both engines: output function, argmax and the optional probability rows.
// The output function computes exactly what the reference's does (src/nn/activations.ts: float64
// arithmetic, max-subtracted softmax), so given the same logits both engines give the reference's
// probabilities bit for bit. Softmax is written out here only to call exp once per value instead of
// twice (Math.exp is deterministic, so keeping each exp in a float64 scratch changes no result).
import { applyOutput_ } from '../activations.js';
import type { OutputFunction } from '../types.js';

/** softmaxRows_ of src/nn/activations.ts with one exp per value; `exps` holds at least `cols` values. */
export function softmaxRowsOnce_(v: Float32Array, rows: number, cols: number, exps: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let max = -Infinity;
    for (let i = 0; i < cols; i++) if (v[start + i] > max) max = v[start + i];
    let sum = 0;
    for (let i = 0; i < cols; i++) {
      const e = Math.exp(v[start + i] - max);
      exps[i] = e;
      sum += e;
    }
    for (let i = 0; i < cols; i++) v[start + i] = exps[i] / sum;
  }
}

/**
 * Turns `rows` rows of logits (rows x outputs at the start of `logits`, overwritten) into probabilities,
 * then writes row r's argmax to predicted[first + r], its probability to confidence[first + r] and, when
 * `probabilities` is given, the whole row to probabilities[(first + r) * outputs ..].
 * Argmax as argmaxRows in src/nn/forward.ts: the first index wins ties, a NaN counts as the largest.
 * `exps`: float64 scratch of at least `outputs` values.
 */
export function finishRows(
  output: OutputFunction,
  logits: Float32Array,
  rows: number,
  outputs: number,
  predicted: Int32Array,
  confidence: Float32Array,
  probabilities: Float32Array | undefined,
  first: number,
  exps: Float64Array,
): void {
  if (output === 'softmax') softmaxRowsOnce_(logits, rows, outputs, exps);
  else applyOutput_(output, logits, rows, outputs);
  for (let r = 0; r < rows; r++) {
    const start = r * outputs;
    let best = 0;
    let bestValue = logits[start];
    for (let c = 1; c < outputs && !Number.isNaN(bestValue); c++) {
      const value = logits[start + c];
      if (value > bestValue || Number.isNaN(value)) {
        best = c;
        bestValue = value;
      }
    }
    predicted[first + r] = best;
    confidence[first + r] = bestValue;
  }
  if (probabilities) {
    const base = first * outputs;
    const count = rows * outputs;
    for (let i = 0; i < count; i++) probabilities[base + i] = logits[i];
  }
}
