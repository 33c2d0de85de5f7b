// The native forward engine: the optional C++ addon (native/*.cc) runs the layers, in the widest
// instruction set this CPU runs (AVX-512, AVX2 or SSE2), and the output stage (softmax, argmax). Its
// results are the WebAssembly engine's bit for bit: the same float32 operations in the same order for
// the layers, the reference's float64 output stage with an exp that is Math.exp's (kernels-native.test.ts).
// Should the addon's exp ever differ from Math.exp here (checked once per thread when the addon loads),
// the output stage runs in JavaScript instead (output-stage.ts), with the same results.
//
// The addon keeps the weights (padded to its vector width) and its scratch; this engine owns one
// ArrayBuffer for the rows that cross between JavaScript and the addon, laid out from its first 64-byte
// aligned byte: the input rows (maxRows x inputs, what input() hands out), then the logits rows
// (maxRows x outputs, used only when the output stage runs here). predict() reads x where it is (no copy).
import type { Network, OutputFunction } from '../types.js';
import type { Normalization } from '../../data/normalize.js';
import {
  ACTIVATION_CODES,
  checkInputRows,
  checkMaxRows,
  checkPredictArgs,
  InputRows,
  networkSizes,
  pixelDivisor,
  type ForwardEngine,
} from './engine-types.js';
import type { NativeAddon, NativeIsa } from './native-loader.js';
import { finishRows } from './output-stage.js';

const ALIGN = 64;
/** Keep the buffer well inside what the addon accepts (int32 byte offsets). */
const MAX_MEMORY_BYTES = 1 << 30;
const OUTPUT_CODES: Record<OutputFunction, number> = { identity: 0, sigmoid: 1, softmax: 2 };

export interface NativeEngineOptions {
  /** One of the loaded addon's instruction sets; @default the first (the widest). */
  isa?: string;
  /** Run the output stage in the addon (its exp matched Math.exp); @default true */
  nativeOutput?: boolean;
}

export class NativeForwardEngine implements ForwardEngine {
  readonly kind = 'native';
  readonly detail: string;
  readonly maxRows: number;
  readonly inputs: number;
  readonly outputs: number;
  private readonly addon: NativeAddon;
  private readonly handle: object;
  private readonly memory: ArrayBuffer;
  private readonly output: OutputFunction;
  private readonly nativeOutput: boolean;
  private readonly inputRows: InputRows;
  private readonly logits: Float32Array;
  private readonly exps: Float64Array;

  constructor(
    addon: NativeAddon,
    isas: readonly NativeIsa[],
    network: Network,
    maxRows: number,
    options: NativeEngineOptions = {},
  ) {
    checkMaxRows(maxRows);
    const chosen = options.isa === undefined ? isas[0] : isas.find((candidate) => candidate.name === options.isa);
    if (!chosen)
      throw new RangeError(
        `options.nativeIsa '${options.isa}' is not one of this machine's: ${isas.map((i) => i.name).join(', ')}`,
      );
    const sizes = networkSizes(network);
    const activation = ACTIVATION_CODES[network.activation];
    if (activation === undefined) throw new Error(`forward engine: unknown activation '${network.activation}'`);
    const output = OUTPUT_CODES[network.output];
    if (output === undefined) throw new Error(`forward engine: unknown output function '${network.output}'`);
    this.addon = addon;
    this.nativeOutput = options.nativeOutput ?? true;
    this.detail = `native ${chosen.name}${this.nativeOutput ? '' : ' (output stage in js)'}`;
    this.maxRows = maxRows;
    this.inputs = sizes[0];
    this.outputs = sizes[sizes.length - 1];
    this.output = network.output;

    const inputBytes = Math.ceil((maxRows * this.inputs * 4) / ALIGN) * ALIGN;
    const end = inputBytes + maxRows * this.outputs * 4;
    if (end > MAX_MEMORY_BYTES)
      throw new RangeError(
        `options.maxRows ${maxRows} needs ${end} bytes of kernel memory; keep it under ${MAX_MEMORY_BYTES}`,
      );
    this.memory = new ArrayBuffer(end + ALIGN);
    const base = addon.alignment(this.memory);
    this.inputRows = new InputRows(this, () => new Float32Array(this.memory, base, maxRows * this.inputs));
    this.logits = new Float32Array(this.memory, base + inputBytes, maxRows * this.outputs);
    this.exps = new Float64Array(this.outputs);
    const layout = Int32Array.of(
      maxRows,
      network.layers.length,
      activation,
      output,
      0,
      inputBytes,
      ...network.layers.flatMap(({ W }) => [W.rows, W.cols]),
    );
    const weights = network.layers.flatMap(({ W, b }) => [W.data.subarray(0, W.rows * W.cols), b.subarray(0, W.cols)]);
    this.handle = addon.create(layout, weights, this.memory, chosen.name);
  }

  predict(
    x: Float32Array,
    rows: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void {
    checkPredictArgs(this, x, rows, predicted, confidence, probabilities);
    this.run(x, rows, 0, predicted, confidence, probabilities);
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
    this.run(pixels, rows, pixelDivisor(normalization), predicted, confidence, probabilities);
  }

  input(rows: number): Float32Array {
    return this.inputRows.rows(rows);
  }

  predictInput(rows: number, predicted: Int32Array, confidence: Float32Array, probabilities?: Float32Array): void {
    checkInputRows(this, rows);
    checkPredictArgs(this, this.inputRows.all, rows, predicted, confidence, probabilities);
    this.score(null, rows, 0, predicted, confidence, probabilities, 0);
  }

  /** Chunks of maxRows: the addon reads x in place (a view only for the chunks after the first). */
  private run(
    x: Float32Array | Uint8Array,
    rows: number,
    divisor: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities: Float32Array | undefined,
  ): void {
    const { inputs, maxRows } = this;
    for (let first = 0; first < rows; first += maxRows) {
      const chunk = Math.min(maxRows, rows - first);
      this.score(
        first === 0 ? x : x.subarray(first * inputs, (first + chunk) * inputs),
        chunk,
        divisor,
        predicted,
        confidence,
        probabilities,
        first,
      );
    }
  }

  private score(
    x: Float32Array | Uint8Array | null,
    rows: number,
    divisor: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities: Float32Array | undefined,
    first: number,
  ): void {
    if (this.nativeOutput) {
      this.addon.forward(
        this.handle,
        this.memory,
        x,
        rows,
        divisor,
        predicted,
        confidence,
        probabilities ?? null,
        first,
      );
    } else {
      this.addon.forward(this.handle, this.memory, x, rows, divisor, null, null, null, 0);
      finishRows(this.output, this.logits, rows, this.outputs, predicted, confidence, probabilities, first, this.exps);
    }
  }
}
