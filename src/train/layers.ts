// Backward passes of the layer types the pipeline runs (affine, sigmoid, relu), plus a sparse form of
// the first layer's affine forward. The forward maths otherwise is the inference code's
// (src/nn/matrix.ts `affine`, src/nn/activations.ts), so training optimises the function the pipeline
// evaluates.
//
// Precision: activations are float32 (as in inference); gradients and the deltas flowing backwards are
// float64, accumulated in a fixed order (rows ascending), so a gradient is deterministic and barely
// rounded before the optimiser sees it.
//
// Sparsity: MNIST pixels are about 81% zeros. The first layer is by far the largest (784 x 50), so its
// forward pass and dW1 = Xᵀ·dA both visit only the non-zero inputs of each row (CSR rows below).
import type { Activation, Matrix } from '../nn/types.js';

/** A block of input rows in compressed sparse row form: row r's entries are [rowStart[r], rowStart[r+1]). */
export interface SparseRows {
  rows: number;
  cols: number;
  rowStart: Int32Array;
  index: Int32Array;
  value: Float32Array;
}

export function createSparseRows(maxRows: number, cols: number): SparseRows {
  return {
    rows: 0,
    cols,
    rowStart: new Int32Array(maxRows + 1),
    index: new Int32Array(maxRows * cols),
    value: new Float32Array(maxRows * cols),
  };
}

/** Random translations of the training images (data augmentation), one code per position of the order. */
export interface ShiftAugmentation {
  /** Largest shift in pixels, in each direction (codes describe (2·max+1)² translations, centre = none). */
  max: number;
  width: number;
  height: number;
  /** codes[i] applies to the image at order position i; 0 .. (2·max+1)² - 1. */
  codes: Uint8Array;
}

/** The (dx, dy) translation of a shift code: code = (dy + max)·(2·max+1) + (dx + max). */
export function shiftOfCode(code: number, max: number): { dx: number; dy: number } {
  const side = 2 * max + 1;
  return { dx: (code % side) - max, dy: Math.floor(code / side) - max };
}

/**
 * Fills `out` with images order[start .. start+rows) of `pixels` (count x cols bytes), each byte mapped
 * through the 256-entry normalisation `table` (the inference pipeline's table, so values are identical).
 * With `shift`, image position i is translated by the shift of codes[i] (pixels moved in from outside
 * the image are 0), entries still in ascending index order.
 */
export function gatherSparseRows(
  pixels: Uint8Array,
  cols: number,
  order: Int32Array,
  start: number,
  rows: number,
  table: Float32Array,
  out: SparseRows,
  shift: ShiftAugmentation | null = null,
): void {
  if (out.cols !== cols || out.rowStart.length < rows + 1)
    throw new RangeError(`gatherSparseRows: scratch is too small for ${rows} rows of ${cols}`);
  const { rowStart, index, value } = out;
  let p = 0;
  for (let r = 0; r < rows; r++) {
    rowStart[r] = p;
    const base = order[start + r] * cols;
    const code = shift === null ? 0 : shift.codes[start + r];
    if (shift === null || code === shift.max * (2 * shift.max + 1) + shift.max) {
      for (let k = 0; k < cols; k++) {
        const byte = pixels[base + k];
        if (byte !== 0) {
          index[p] = k;
          value[p] = table[byte];
          p++;
        }
      }
    } else {
      const { width, height } = shift;
      const { dx, dy } = shiftOfCode(code, shift.max);
      // Output pixel (y, x) comes from input pixel (y - dy, x - dx); only rows and columns inside both.
      const y0 = Math.max(0, dy);
      const y1 = Math.min(height, height + dy);
      const x0 = Math.max(0, dx);
      const x1 = Math.min(width, width + dx);
      for (let y = y0; y < y1; y++) {
        const source = base + (y - dy) * width - dx;
        for (let x = x0; x < x1; x++) {
          const byte = pixels[source + x];
          if (byte !== 0) {
            index[p] = y * width + x;
            value[p] = table[byte];
            p++;
          }
        }
      }
    }
  }
  rowStart[rows] = p;
  out.rows = rows;
}

/** The same rows from a dense row-major block (tests; any float values, zeros dropped). */
export function sparseRowsFromDense(x: Float32Array, rows: number, cols: number): SparseRows {
  const out = createSparseRows(rows, cols);
  let p = 0;
  for (let r = 0; r < rows; r++) {
    out.rowStart[r] = p;
    for (let k = 0; k < cols; k++) {
      const v = x[r * cols + k];
      if (v !== 0) {
        out.index[p] = k;
        out.value[p] = v;
        p++;
      }
    }
  }
  out.rowStart[rows] = p;
  out.rows = rows;
  return out;
}

/**
 * out = x·W + b for sparse x. Bit-identical to `affine` on the dense rows (for finite weights): each
 * output is still a float64 sum over k ascending, then + b, rounded once to float32 - the skipped terms
 * are exact zeros. `acc` is float64 scratch of at least W.cols values.
 */
export function sparseAffine(x: SparseRows, W: Matrix, b: Float32Array, out: Float32Array, acc: Float64Array): void {
  const outputs = W.cols;
  if (x.cols !== W.rows) throw new RangeError(`sparseAffine: rows have ${x.cols} columns, W has ${W.rows} rows`);
  if (out.length < x.rows * outputs || acc.length < outputs || b.length !== outputs)
    throw new RangeError('sparseAffine: buffer sizes do not fit');
  const w = W.data;
  const { rowStart, index, value } = x;
  for (let r = 0; r < x.rows; r++) {
    acc.fill(0, 0, outputs);
    for (let p = rowStart[r]; p < rowStart[r + 1]; p++) {
      const v = value[p];
      const base = index[p] * outputs;
      // Unrolled by 4 (V8 does not unroll or vectorise; this measured ~1.4x). Each acc[c] still sees
      // the same additions in the same order, so the result is unchanged.
      let c = 0;
      for (; c + 3 < outputs; c += 4) {
        acc[c] += v * w[base + c];
        acc[c + 1] += v * w[base + c + 1];
        acc[c + 2] += v * w[base + c + 2];
        acc[c + 3] += v * w[base + c + 3];
      }
      for (; c < outputs; c++) acc[c] += v * w[base + c];
    }
    const o = r * outputs;
    for (let c = 0; c < outputs; c++) out[o + c] = acc[c] + b[c];
  }
}

/**
 * Backward pass of A = X·W + b for dense float32 inputs X (rows x in) and upstream gradient dA
 * (rows x out, float64): dW += Xᵀ·dA, db += column sums of dA, and, unless dX is null, dX = dA·Wᵀ.
 * Inputs that are exactly zero (relu outputs) are skipped in dW.
 */
export function affineBackward(
  x: Float32Array,
  rows: number,
  W: Matrix,
  dA: Float64Array,
  dW: Float64Array,
  db: Float64Array,
  dX: Float64Array | null,
): void {
  const inputs = W.rows;
  const outputs = W.cols;
  const w = W.data;
  for (let r = 0; r < rows; r++) {
    const xRow = r * inputs;
    const aRow = r * outputs;
    for (let c = 0; c < outputs; c++) db[c] += dA[aRow + c];
    for (let k = 0; k < inputs; k++) {
      const xv = x[xRow + k];
      if (xv === 0) continue;
      addScaledRow(dW, k * outputs, xv, dA, aRow, outputs);
    }
    if (dX !== null) {
      for (let k = 0; k < inputs; k++) {
        const base = k * outputs;
        let sum = 0;
        let c = 0;
        for (; c + 3 < outputs; c += 4) {
          sum += dA[aRow + c] * w[base + c];
          sum += dA[aRow + c + 1] * w[base + c + 1];
          sum += dA[aRow + c + 2] * w[base + c + 2];
          sum += dA[aRow + c + 3] * w[base + c + 3];
        }
        for (; c < outputs; c++) sum += dA[aRow + c] * w[base + c];
        dX[xRow + k] = sum;
      }
    }
  }
}

/** Backward pass of the first layer for sparse inputs: dW += Xᵀ·dA over non-zero inputs only, db += Σ dA. */
export function sparseAffineBackward(
  x: SparseRows,
  dA: Float64Array,
  outputs: number,
  dW: Float64Array,
  db: Float64Array,
): void {
  const { rowStart, index, value } = x;
  for (let r = 0; r < x.rows; r++) {
    const aRow = r * outputs;
    for (let c = 0; c < outputs; c++) db[c] += dA[aRow + c];
    for (let p = rowStart[r]; p < rowStart[r + 1]; p++)
      addScaledRow(dW, index[p] * outputs, value[p], dA, aRow, outputs);
  }
}

/** target[t .. t+n) += v · source[s .. s+n), unrolled by 4 (same additions per element, same result). */
function addScaledRow(target: Float64Array, t: number, v: number, source: Float64Array, s: number, n: number): void {
  let c = 0;
  for (; c + 3 < n; c += 4) {
    target[t + c] += v * source[s + c];
    target[t + c + 1] += v * source[s + c + 1];
    target[t + c + 2] += v * source[s + c + 2];
    target[t + c + 3] += v * source[s + c + 3];
  }
  for (; c < n; c++) target[t + c] += v * source[s + c];
}

/** d ← d ⊙ σ'(z), with σ'(z) = y(1 - y) computed from the sigmoid's output y. */
export function sigmoidBackward_(y: Float32Array, d: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = y[i];
    d[i] *= v * (1 - v);
  }
}

/** d ← d ⊙ [y > 0] (relu' from the output; 0 at the kink, as most frameworks). */
export function reluBackward_(y: Float32Array, d: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) if (!(y[i] > 0)) d[i] = 0;
}

/** The backward pass of a hidden activation, from its output. */
export function activationBackward_(kind: Activation, y: Float32Array, d: Float64Array, n: number): void {
  switch (kind) {
    case 'sigmoid':
      return sigmoidBackward_(y, d, n);
    case 'relu':
      return reluBackward_(y, d, n);
    case 'identity':
      return;
    case 'step':
      throw new RangeError('the step activation has no useful gradient; train with sigmoid or relu');
    default:
      throw new Error(`unknown activation '${String(kind satisfies never)}'`);
  }
}

/** Activations training can backpropagate through. */
export const TRAINABLE_ACTIVATIONS = ['sigmoid', 'relu'] as const;
export type TrainableActivation = (typeof TRAINABLE_ACTIVATIONS)[number];
