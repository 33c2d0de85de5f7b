// Reference matrix kernels: correct and simple first. Every dot product is accumulated in a JS number
// (float64) and rounded to float32 once, when it is stored, so results do not depend on the loop order
// and stay as close as float32 storage allows to the exact value.
import type { Matrix } from './types.js';

/**
 * out[rows x W.cols] = x[rows x W.rows] · W + b (b broadcast over the rows).
 * `x` is row-major with W.rows columns; `out` must hold at least rows * W.cols values and must not
 * alias `x` (the rows of x are read while out is written).
 */
export function affine(x: Float32Array, rows: number, W: Matrix, b: Float32Array, out: Float32Array): void {
  const inputs = W.rows;
  const outputs = W.cols;
  checkCount('rows', rows);
  if (x.length < rows * inputs) {
    throw new RangeError(`affine: x holds ${x.length} values, ${rows} rows of ${inputs} need ${rows * inputs}`);
  }
  if (b.length !== outputs) throw new RangeError(`affine: bias has ${b.length} values, W has ${outputs} columns`);
  if (out.length < rows * outputs) {
    throw new RangeError(`affine: out holds ${out.length} values, ${rows} rows of ${outputs} need ${rows * outputs}`);
  }
  const w = W.data;
  for (let r = 0; r < rows; r++) {
    const xRow = r * inputs;
    const outRow = r * outputs;
    for (let c = 0; c < outputs; c++) {
      let sum = 0;
      for (let k = 0; k < inputs; k++) sum += x[xRow + k] * w[k * outputs + c];
      out[outRow + c] = sum + b[c];
    }
  }
}

/** a · b as a new matrix, or into `out` (which must be a.rows x b.cols and must not alias a or b). */
export function matmul(a: Matrix, b: Matrix, out?: Matrix): Matrix {
  if (a.cols !== b.rows) {
    throw new RangeError(`matmul: cannot multiply ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  }
  const result = out ?? { rows: a.rows, cols: b.cols, data: new Float32Array(a.rows * b.cols) };
  if (result.rows !== a.rows || result.cols !== b.cols || result.data.length < a.rows * b.cols) {
    throw new RangeError(`matmul: out is ${result.rows}x${result.cols}, expected ${a.rows}x${b.cols}`);
  }
  const n = a.cols;
  const m = b.cols;
  for (let r = 0; r < a.rows; r++) {
    for (let c = 0; c < m; c++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a.data[r * n + k] * b.data[k * m + c];
      result.data[r * m + c] = sum;
    }
  }
  return result;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}
