// Activation and output functions, applied in place (trailing underscore) to the first n values of a
// float32 buffer. Each value is computed in float64 and rounded once when stored.
import type { Activation, OutputFunction } from './types.js';

/** 1 / (1 + e^-x), written so that exp never sees a large positive argument (no overflow for any |x|). */
export function sigmoid_(v: Float32Array, n: number = v.length): void {
  checkLength(v, n);
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x >= 0) {
      v[i] = 1 / (1 + Math.exp(-x));
    } else {
      const e = Math.exp(x);
      v[i] = e / (1 + e);
    }
  }
}

export function relu_(v: Float32Array, n: number = v.length): void {
  checkLength(v, n);
  for (let i = 0; i < n; i++) if (v[i] <= 0) v[i] = 0; // NaN stays NaN, as in numpy
}

/** The book's step function: x > 0 ? 1 : 0. */
export function step_(v: Float32Array, n: number = v.length): void {
  checkLength(v, n);
  for (let i = 0; i < n; i++) v[i] = v[i] > 0 ? 1 : 0;
}

/**
 * Softmax of each row of a rows x cols row-major buffer. The row maximum is subtracted before exp, so
 * large inputs ([1010, 1000, 990]) do not overflow and very negative ones do not all underflow to 0/0.
 */
export function softmaxRows_(v: Float32Array, rows: number, cols: number): void {
  checkLength(v, rows * cols);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    const end = start + cols;
    let max = -Infinity;
    for (let i = start; i < end; i++) if (v[i] > max) max = v[i];
    let sum = 0;
    for (let i = start; i < end; i++) sum += Math.exp(v[i] - max);
    for (let i = start; i < end; i++) v[i] = Math.exp(v[i] - max) / sum;
  }
}

/** The activation of a hidden layer. */
export function applyActivation_(kind: Activation, v: Float32Array, n: number): void {
  switch (kind) {
    case 'sigmoid':
      return sigmoid_(v, n);
    case 'relu':
      return relu_(v, n);
    case 'step':
      return step_(v, n);
    case 'identity':
      return checkLength(v, n);
    default:
      throw new Error(`unknown activation '${String(kind satisfies never)}'`);
  }
}

/** The output function of the last layer, on a rows x cols block. */
export function applyOutput_(kind: OutputFunction, v: Float32Array, rows: number, cols: number): void {
  switch (kind) {
    case 'softmax':
      return softmaxRows_(v, rows, cols);
    case 'sigmoid':
      return sigmoid_(v, rows * cols);
    case 'identity':
      return checkLength(v, rows * cols);
    default:
      throw new Error(`unknown output function '${String(kind satisfies never)}'`);
  }
}

function checkLength(v: Float32Array, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > v.length) {
    throw new RangeError(`cannot apply to ${n} values of a buffer of ${v.length}`);
  }
}
