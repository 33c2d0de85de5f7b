// The WebAssembly SIMD forward engine: each layer runs in forward-kernel.wat (float32, 4 lanes; the first
// layer skips zero inputs, the later ones run dense two rows at a time; bias and activation fused per
// row); the output function and argmax run here in JavaScript on the last layer's logits (finishRows,
// the reference's float64 softmax).
//
// Each engine has its own WebAssembly instance and memory, laid out once for `maxRows` rows:
//   [0, 256)  the kernel's shuffle table (kernelReservedBytes)
//   per layer W (inputs x nPad, columns zero-padded to a multiple of 4) and b (nPad)
//   the compaction lists (values, offsets)
//   the input rows (maxRows x inputs), then per layer its output rows (maxRows x nPad)
// A call with more rows is scored in chunks of maxRows, so memory never grows after construction.
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
import { finishRows } from './output-stage.js';
import { wasmApi, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Bytes at the start of memory that belong to the kernel (its data segment). */
export const kernelReservedBytes = 256;
const PAGE = 65536;
/** Keep the whole layout well inside 32-bit addressing. */
export const MAX_MEMORY_BYTES = 1 << 30;

/** A layer of the kernel on float rows: out = act(x W + b), with `vals`/`offs` its scratch (byte addresses). */
type FloatLayer = (
  x: number,
  xStride: number,
  rows: number,
  inputs: number,
  w: number,
  b: number,
  out: number,
  nPad: number,
  act: number,
  vals: number,
  offs: number,
) => void;

interface KernelExports {
  memory: WasmMemory;
  layer: FloatLayer;
  denseLayer: FloatLayer;
  /** The first layer on pixel bytes, each divided by `divisor` as it is read. */
  layerBytes(
    x: number,
    rows: number,
    inputs: number,
    divisor: number,
    w: number,
    b: number,
    out: number,
    nPad: number,
    act: number,
    vals: number,
    offs: number,
  ): void;
}

interface WasmLayer {
  inputs: number;
  outputs: number;
  nPad: number;
  /** Byte addresses in the kernel's memory. */
  w: number;
  b: number;
  out: number;
}

export class WasmForwardEngine implements ForwardEngine {
  readonly kind = 'wasm';
  readonly detail = 'wasm simd128';
  readonly maxRows: number;
  readonly inputs: number;
  readonly outputs: number;
  private readonly kernel: KernelExports;
  private readonly layers: WasmLayer[];
  private readonly activationCode: number;
  private readonly output: OutputFunction;
  private readonly inputAddress: number;
  private readonly vals: number;
  private readonly offs: number;
  private readonly heap: Float32Array;
  private readonly bytes: Uint8Array;
  private readonly logits: Float32Array;
  private readonly exps: Float64Array;
  private readonly inputRows: InputRows;
  /** The first layer skips zero inputs (compaction); the layers from this one on run dense. */
  private readonly denseFrom = 1;

  /** `module`: the compiled kernel (loadForwardKernel). Synchronous: instantiating is cheap. */
  constructor(module: WasmModule, network: Network, maxRows: number) {
    checkMaxRows(maxRows);
    const sizes = networkSizes(network);
    this.maxRows = maxRows;
    this.inputs = sizes[0];
    this.outputs = sizes[sizes.length - 1];
    this.activationCode = ACTIVATION_CODES[network.activation];
    if (this.activationCode === undefined)
      throw new Error(`forward engine: unknown activation '${network.activation}'`);
    this.output = network.output;

    let end = kernelReservedBytes;
    const take = (bytes: number): number => {
      const at = end;
      end += Math.ceil(bytes / 64) * 64; // 64-byte aligned: whole cache lines, aligned vectors
      return at;
    };
    const layers = network.layers.map(({ W }) => {
      const nPad = Math.ceil(W.cols / 4) * 4;
      return { inputs: W.rows, outputs: W.cols, nPad, w: take(W.rows * nPad * 4), b: take(nPad * 4), out: 0 };
    });
    const listEntries = Math.max(...sizes.slice(0, -1)) + 4; // a group store may write 4 past the count
    this.vals = take(listEntries * 4);
    this.offs = take(listEntries * 4);
    this.inputAddress = take(maxRows * this.inputs * 4);
    for (const layer of layers) layer.out = take(maxRows * layer.nPad * 4);
    this.layers = layers;
    if (end > MAX_MEMORY_BYTES) {
      throw new RangeError(
        `options.maxRows ${maxRows} needs ${end} bytes of WebAssembly memory; keep it under ${MAX_MEMORY_BYTES}`,
      );
    }

    const instance = new wasmApi.Instance(module, {});
    this.kernel = instance.exports as unknown as KernelExports;
    const { memory } = this.kernel;
    const pages = Math.ceil(end / PAGE);
    if (pages > memory.buffer.byteLength / PAGE) memory.grow(pages - memory.buffer.byteLength / PAGE);
    // Taken after the grow: growing detaches earlier views, and memory never grows again.
    this.heap = new Float32Array(memory.buffer);
    this.bytes = new Uint8Array(memory.buffer);
    network.layers.forEach(({ W, b }, k) => {
      const layer = layers[k];
      for (let i = 0; i < W.rows; i++)
        this.heap.set(W.data.subarray(i * W.cols, (i + 1) * W.cols), layer.w / 4 + i * layer.nPad);
      this.heap.set(b.subarray(0, W.cols), layer.b / 4);
    });
    this.logits = new Float32Array(maxRows * this.outputs);
    this.exps = new Float64Array(this.outputs);
    const input = this.inputAddress / 4;
    this.inputRows = new InputRows(this, () => this.heap.subarray(input, input + maxRows * this.inputs));
  }

  input(rows: number): Float32Array {
    return this.inputRows.rows(rows);
  }

  predictInput(rows: number, predicted: Int32Array, confidence: Float32Array, probabilities?: Float32Array): void {
    checkInputRows(this, rows);
    checkPredictArgs(this, this.inputRows.all, rows, predicted, confidence, probabilities);
    if (rows > 0) this.scoreChunk(rows, 0, 0, predicted, confidence, probabilities);
  }

  predict(
    x: Float32Array,
    rows: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void {
    checkPredictArgs(this, x, rows, predicted, confidence, probabilities);
    const { inputs, heap } = this;
    for (let first = 0; first < rows; first += this.maxRows) {
      const chunk = Math.min(this.maxRows, rows - first);
      const count = chunk * inputs;
      // The usual call (one chunk, x exactly rows x inputs) copies without making a view.
      if (first === 0 && x.length === count) heap.set(x, this.inputAddress / 4);
      else heap.set(x.subarray(first * inputs, first * inputs + count), this.inputAddress / 4);
      this.scoreChunk(chunk, 0, first, predicted, confidence, probabilities);
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
    const divisor = pixelDivisor(normalization);
    const { inputs, bytes } = this;
    for (let first = 0; first < rows; first += this.maxRows) {
      const chunk = Math.min(this.maxRows, rows - first);
      const count = chunk * inputs;
      if (first === 0 && pixels.length === count) bytes.set(pixels, this.inputAddress);
      else bytes.set(pixels.subarray(first * inputs, first * inputs + count), this.inputAddress);
      this.scoreChunk(chunk, divisor, first, predicted, confidence, probabilities);
    }
  }

  /**
   * Runs the layers on `chunk` rows at this.input (float32 rows, or bytes when `divisor` > 0, scaled by
   * 1 / divisor in the first layer), then the output stage into rows first.. of the results.
   */
  private scoreChunk(
    chunk: number,
    divisor: number,
    first: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities: Float32Array | undefined,
  ): void {
    const { layers, heap, logits, inputs, outputs, kernel } = this;
    const last = layers.length - 1;
    let source = this.inputAddress;
    let stride = inputs;
    for (let k = 0; k <= last; k++) {
      const layer = layers[k];
      const act = k === last ? ACTIVATION_CODES.identity : this.activationCode;
      if (k === 0 && divisor > 0) {
        kernel.layerBytes(
          source,
          chunk,
          layer.inputs,
          divisor,
          layer.w,
          layer.b,
          layer.out,
          layer.nPad,
          act,
          this.vals,
          this.offs,
        );
      } else {
        // WebAssembly exports need no `this`.
        const run = k < this.denseFrom ? kernel.layer : kernel.denseLayer;
        run(source, stride, chunk, layer.inputs, layer.w, layer.b, layer.out, layer.nPad, act, this.vals, this.offs);
      }
      source = layer.out;
      stride = layer.nPad;
    }
    const top = layers[last];
    for (let r = 0; r < chunk; r++) {
      const from = top.out / 4 + r * top.nPad;
      const to = r * outputs;
      for (let c = 0; c < outputs; c++) logits[to + c] = heap[from + c];
    }
    finishRows(this.output, logits, chunk, outputs, predicted, confidence, probabilities, first, this.exps);
  }
}
