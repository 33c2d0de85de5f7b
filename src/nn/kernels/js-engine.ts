// The JavaScript forward engine: the reference's arithmetic in a cache-friendly order.
//
// Exactness: like the reference (src/nn/matrix.ts) every output column is the float64 sum of
// x[k] * W[k, c] for k ascending, plus the bias, rounded to float32 once; products of two float32 are
// exact in float64, the additions happen in the same order, and a zero input is skipped only because
// adding its product (±0, weights being finite) cannot change the sum. Activations and the output
// function are the reference functions. So the results are the reference's, bit for bit, for finite
// weights (the model loaders refuse any other).
//
// Speed: rows are scored one at a time through all layers, so a row's activations stay in L1.
// Per layer: the row's nonzero inputs are listed first (MNIST pixels are ~80% zero), then for each
// listed input the contiguous W row slice is accumulated into a float64 row of sums (W is inputs x
// outputs row-major, so the inner loop walks memory in order). Four inputs per pass over the sums:
// one load and one store of each sum per four inputs, the additions still in k order.
import { applyActivation_ } from '../activations.js';
import { normalizationTable } from '../../data/normalize.js';
import type { Activation, Network, OutputFunction } from '../types.js';
import type { Normalization } from '../../data/normalize.js';
import {
  checkInputRows,
  checkMaxRows,
  checkPredictArgs,
  InputRows,
  networkSizes,
  type ForwardEngine,
} from './engine-types.js';
import { finishRows } from './output-stage.js';

interface JsLayer {
  inputs: number;
  outputs: number;
  w: Float32Array;
  b: Float32Array;
}

export class JsForwardEngine implements ForwardEngine {
  readonly kind = 'js';
  readonly detail = 'js';
  readonly maxRows: number;
  readonly inputs: number;
  readonly outputs: number;
  private readonly layers: JsLayer[];
  private readonly activation: Activation;
  private readonly output: OutputFunction;
  /** One float32 row per hidden layer (the reference stores activations as float32 too). */
  private readonly hidden: Float32Array[];
  /** Float64 sums of one output row, the nonzero inputs' W offsets and values. */
  private readonly sums: Float64Array;
  private readonly offsets: Int32Array;
  private readonly values: Float64Array;
  /** maxRows x outputs logits, turned into probabilities in place by the output stage. */
  private readonly logits: Float32Array;
  /** predictPixels: one row of normalised inputs, and the normalisation tables in use. */
  private readonly pixelRow: Float32Array;
  private readonly tables: Partial<Record<Normalization, Float32Array>> = {};
  private readonly exps: Float64Array;
  /** input(): maxRows x inputs floats the caller fills (allocated on first use). */
  private readonly inputRows: InputRows;

  constructor(network: Network, maxRows: number) {
    checkMaxRows(maxRows);
    const sizes = networkSizes(network);
    this.maxRows = maxRows;
    this.inputs = sizes[0];
    this.outputs = sizes[sizes.length - 1];
    this.layers = network.layers.map(({ W, b }) => ({ inputs: W.rows, outputs: W.cols, w: W.data, b }));
    this.activation = network.activation;
    this.output = network.output;
    this.hidden = this.layers.slice(0, -1).map((layer) => new Float32Array(layer.outputs));
    this.sums = new Float64Array(Math.max(...sizes.slice(1)));
    const widestInput = Math.max(...sizes.slice(0, -1));
    this.offsets = new Int32Array(widestInput);
    this.values = new Float64Array(widestInput);
    this.logits = new Float32Array(maxRows * this.outputs);
    this.exps = new Float64Array(this.outputs);
    this.pixelRow = new Float32Array(this.inputs);
    this.inputRows = new InputRows(this, () => new Float32Array(maxRows * this.inputs));
  }

  predict(
    x: Float32Array,
    rows: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void {
    checkPredictArgs(this, x, rows, predicted, confidence, probabilities);
    for (let first = 0; first < rows; first += this.maxRows) {
      const chunk = Math.min(this.maxRows, rows - first);
      for (let r = 0; r < chunk; r++) this.scoreRow(x, (first + r) * this.inputs, r);
      finishRows(this.output, this.logits, chunk, this.outputs, predicted, confidence, probabilities, first, this.exps);
    }
  }

  predictPixels(
    pixels: Uint8Array,
    rows: number,
    normalization: Normalization,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void {
    checkPredictArgs(this, pixels, rows, predicted, confidence, probabilities);
    const table = (this.tables[normalization] ??= normalizationTable(normalization));
    const { inputs, pixelRow } = this;
    for (let first = 0; first < rows; first += this.maxRows) {
      const chunk = Math.min(this.maxRows, rows - first);
      for (let r = 0; r < chunk; r++) {
        const start = (first + r) * inputs;
        for (let k = 0; k < inputs; k++) pixelRow[k] = table[pixels[start + k]];
        this.scoreRow(pixelRow, 0, r);
      }
      finishRows(this.output, this.logits, chunk, this.outputs, predicted, confidence, probabilities, first, this.exps);
    }
  }

  input(rows: number): Float32Array {
    return this.inputRows.rows(rows);
  }

  predictInput(rows: number, predicted: Int32Array, confidence: Float32Array, probabilities?: Float32Array): void {
    checkInputRows(this, rows);
    this.predict(this.inputRows.all, rows, predicted, confidence, probabilities);
  }

  /** One row (x[start ..]) through every layer; its logits go to row r of this.logits. */
  private scoreRow(x: Float32Array, start: number, r: number): void {
    const { layers, hidden } = this;
    const last = layers.length - 1;
    let input = x;
    let inputStart = start;
    for (let k = 0; k < last; k++) {
      denseRow(input, inputStart, layers[k], hidden[k], 0, this.sums, this.offsets, this.values);
      applyActivation_(this.activation, hidden[k], layers[k].outputs);
      input = hidden[k];
      inputStart = 0;
    }
    denseRow(input, inputStart, layers[last], this.logits, r * this.outputs, this.sums, this.offsets, this.values);
  }
}

/** out[outStart + c] = float32(sum over k of x[xStart + k] * W[k, c], k ascending, + b[c]). */
function denseRow(
  x: Float32Array,
  xStart: number,
  layer: JsLayer,
  out: Float32Array,
  outStart: number,
  sums: Float64Array,
  offsets: Int32Array,
  values: Float64Array,
): void {
  const { inputs, outputs, w, b } = layer;
  let count = 0;
  for (let k = 0; k < inputs; k++) {
    const v = x[xStart + k];
    if (v !== 0) {
      offsets[count] = k * outputs;
      values[count] = v;
      count++;
    }
  }
  for (let c = 0; c < outputs; c++) sums[c] = 0;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const v0 = values[i];
    const v1 = values[i + 1];
    const v2 = values[i + 2];
    const v3 = values[i + 3];
    const o0 = offsets[i];
    const o1 = offsets[i + 1];
    const o2 = offsets[i + 2];
    const o3 = offsets[i + 3];
    // Left to right: ((((s + p0) + p1) + p2) + p3), the reference's order of additions.
    for (let c = 0; c < outputs; c++)
      sums[c] = sums[c] + v0 * w[o0 + c] + v1 * w[o1 + c] + v2 * w[o2 + c] + v3 * w[o3 + c];
  }
  for (; i < count; i++) {
    const v = values[i];
    const o = offsets[i];
    for (let c = 0; c < outputs; c++) sums[c] += v * w[o + c];
  }
  for (let c = 0; c < outputs; c++) out[outStart + c] = sums[c] + b[c];
}
