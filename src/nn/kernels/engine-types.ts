// What every forward engine offers, and the checks both engines make on their arguments.
import type { Activation, Network } from '../types.js';
import type { Normalization } from '../../data/normalize.js';

export const KERNEL_KINDS = ['auto', 'js', 'wasm', 'native'] as const;
/**
 * `auto`: the native addon when it is built and loads here, else WebAssembly when its module is built
 * and compiles, else JavaScript (with a warning).
 */
export type KernelKind = (typeof KERNEL_KINDS)[number];
/** The engine that actually runs (what a report names). */
export type EngineKind = Exclude<KernelKind, 'auto'>;

/** Error code for a kernel that cannot be used (the .wasm or the addon missing when asked for explicitly). */
export const KERNEL_ERROR_CODE = 'PIPE_ERR_KERNEL';

export interface ForwardEngine {
  readonly kind: EngineKind;
  /** The kind and how it runs, for reports: 'js', 'wasm simd128', 'native avx512', ... */
  readonly detail: string;
  /** Rows per internal chunk: a larger call is scored in chunks of this many rows (no reallocation). */
  readonly maxRows: number;
  /** Input width (the first layer's rows) and output width (the last layer's columns). */
  readonly inputs: number;
  readonly outputs: number;
  /**
   * Scores `rows` rows of x (rows x inputs, normalised float32, row-major). Writes argmax + its
   * probability per row; when `probabilities` is given also the full output rows (rows x outputs).
   * Allocates nothing per call when rows <= maxRows and x holds exactly rows x inputs values (otherwise
   * at most one typed-array view per chunk).
   */
  predict(
    x: Float32Array,
    rows: number,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void;
  /**
   * The same from raw bytes (rows x inputs, e.g. pixels 0..255), normalised as normalizationTable(mode)
   * would (results identical to predict() on the table's floats). Normalisation fuses into the first
   * layer: a batch crosses to the worker as 1 byte per pixel instead of 4, and nobody writes the floats.
   */
  predictPixels(
    pixels: Uint8Array,
    rows: number,
    normalization: Normalization,
    predicted: Int32Array,
    confidence: Float32Array,
    probabilities?: Float32Array,
  ): void;
  /**
   * The engine's own input rows, to fill in place of the x that predict() would copy in: a view of
   * rows x inputs floats (rows <= maxRows) that stays valid for the engine's life; the same view again
   * while `rows` repeats (nothing allocated). Fill it, then call predictInput(rows, ...).
   *
   *   const x = engine.input(rows);
   *   decodeRowsInto(x, ...);
   *   engine.predictInput(rows, predicted, confidence);
   *
   * Saves a copy for the WebAssembly engine (its memory is not the caller's); the native engine reads
   * predict()'s x in place anyway, so for it the two are equally fast.
   */
  input(rows: number): Float32Array;
  /** Scores the first `rows` rows written through input(): as predict(engine.input(rows), rows, ...). */
  predictInput(rows: number, predicted: Int32Array, confidence: Float32Array, probabilities?: Float32Array): void;
}

export interface ForwardEngineOptions {
  /** Rows per chunk; size it to the batch size (the scratch buffers are allocated once for it). */
  maxRows: number;
  /** @default 'auto' */
  kind?: KernelKind;
  /** Where the compiled kernel is; @default forward-kernel.wasm beside the compiled wasm-loader.js */
  wasmUrl?: URL;
  /** Where the native addon is; @default forward-kernel.node beside the compiled native-loader.js */
  nativeUrl?: URL;
  /** The native engine's instruction set (one of loadNativeKernel().isas); @default the widest this CPU runs */
  nativeIsa?: string;
  /** Called once per engine when `auto` falls back to JavaScript. @default process.emitWarning */
  onWarning?: (message: string) => void;
}

/** The activation codes both compiled kernels take (forward-kernel.c and the .wat); the last layer runs as identity. */
export const ACTIVATION_CODES: Readonly<Record<Activation, number>> = { identity: 0, relu: 1, step: 2, sigmoid: 3 };
/** Layer sizes of a network, input first, after checking that consecutive layers fit together. */
export function networkSizes(network: Network): number[] {
  const { layers } = network;
  if (layers.length === 0) throw new Error('forward engine: the network has no layers');
  const sizes = [layers[0].W.rows];
  layers.forEach(({ W, b }, k) => {
    if (W.rows !== sizes[k])
      throw new Error(`forward engine: layer ${k + 1} takes ${W.rows} inputs, the layer before gives ${sizes[k]}`);
    if (W.rows < 1 || W.cols < 1) throw new Error(`forward engine: layer ${k + 1} is ${W.rows}x${W.cols}`);
    if (W.data.length < W.rows * W.cols)
      throw new Error(`forward engine: layer ${k + 1} W holds ${W.data.length} values, not ${W.rows}x${W.cols}`);
    if (b.length < W.cols)
      throw new Error(`forward engine: layer ${k + 1} bias holds ${b.length} values, W has ${W.cols} columns`);
    sizes.push(W.cols);
  });
  return sizes;
}

export function checkMaxRows(maxRows: number): void {
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new RangeError(`options.maxRows must be a positive integer, got ${maxRows}`);
}

export function checkPredictArgs(
  engine: ForwardEngine,
  x: Float32Array | Uint8Array,
  rows: number,
  predicted: Int32Array,
  confidence: Float32Array,
  probabilities: Float32Array | undefined,
): void {
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new RangeError(`predict: rows must be a non-negative integer, got ${rows}`);
  if (x.length < rows * engine.inputs) {
    throw new RangeError(
      `predict: x holds ${x.length} values, ${rows} rows of ${engine.inputs} inputs need ${rows * engine.inputs}`,
    );
  }
  if (predicted.length < rows || confidence.length < rows) {
    throw new RangeError(
      `predict: predicted/confidence hold ${Math.min(predicted.length, confidence.length)} values, need ${rows}`,
    );
  }
  if (probabilities && probabilities.length < rows * engine.outputs) {
    throw new RangeError(`predict: probabilities holds ${probabilities.length} values, need ${rows * engine.outputs}`);
  }
}

export function checkInputRows(engine: Pick<ForwardEngine, 'maxRows'>, rows: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > engine.maxRows) {
    throw new RangeError(`input rows must be an integer in [0, maxRows = ${engine.maxRows}], got ${rows}`);
  }
}

/**
 * An engine's own input rows (ForwardEngine.input): maxRows x inputs floats, made on first use by
 * `allocate`, handed out as a view of the first rows; the view is kept while the row count repeats.
 */
export class InputRows {
  private area: Float32Array | null = null;
  private view: Float32Array | null = null;

  constructor(
    private readonly engine: Pick<ForwardEngine, 'inputs' | 'maxRows'>,
    private readonly allocate: () => Float32Array,
  ) {}

  /** All maxRows x inputs floats. */
  get all(): Float32Array {
    return (this.area ??= this.allocate());
  }

  rows(rows: number): Float32Array {
    checkInputRows(this.engine, rows);
    const length = rows * this.engine.inputs;
    if (this.view?.length !== length) this.view = this.all.subarray(0, length);
    return this.view;
  }
}

/**
 * predictPixels' normalisation as a divisor: bytes are scaled as f32(byte) / divisor, correctly rounded.
 * For 'unit' that is exactly normalizationTable('unit') (Math.fround(i / 255); rounding a quotient first
 * to float64 then to float32 gives the correctly rounded float32 quotient), for 'none' exactly the byte.
 */
export function pixelDivisor(normalization: Normalization): number {
  if (normalization === 'unit') return 255;
  if (normalization === 'none') return 1;
  throw new RangeError(`predictPixels: unknown normalization '${String(normalization)}' (expected unit or none)`);
}
