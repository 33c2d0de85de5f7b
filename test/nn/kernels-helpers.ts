// Shared by the kernels*.test.ts files: random networks and inputs, the reference's answers, and the
// comparisons. Values come from a seeded generator (mulberry32) so that fast-check only has to choose
// shapes, kinds and seeds, and shrinks to small shapes.
import fc from 'fast-check';
import { argmaxRows, forward } from '../../src/nn/forward.js';
import {
  ACTIVATIONS,
  OUTPUT_FUNCTIONS,
  type Activation,
  type Network,
  type OutputFunction,
} from '../../src/nn/types.js';

/** Uniform floats in [0, 1) from a 32-bit seed (mulberry32). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How values are drawn. `continuous`: weights uniform in ±2/sqrt(inputs), biases in ±1, inputs in
 * [-1, 1] (activations stay O(1), so float32 accumulation errors stay ~1e-6). `dyadic`: every weight,
 * bias and input a multiple of 1/4 in [-1, 1] (biases [-2, 2]); with at most 3 layers of at most 16
 * inputs every sum is exact in float32 as in float64 (see kernels-property.test.ts).
 */
export type ValueKind = 'continuous' | 'dyadic';

export interface NetworkCase {
  sizes: number[];
  activation: Activation;
  output: OutputFunction;
  values: ValueKind;
  seed: number;
  /** Fraction of exact zeros among the weights (some layers of real models have pruned weights). */
  zeroWeights: number;
}

export interface InputCase {
  rows: number;
  /** Fraction of inputs that are exactly zero (MNIST: ~0.8). */
  zeroInputs: number;
  seed: number;
}

export function drawValue(values: ValueKind, next: () => number, scale: number): number {
  if (values === 'dyadic') return Math.round((next() * 2 - 1) * 4 * scale) / 4;
  return (next() * 2 - 1) * scale;
}

export function makeNetwork(c: NetworkCase): Network {
  const next = uniform(c.seed);
  const layers = c.sizes.slice(1).map((cols, k) => {
    const rows = c.sizes[k];
    const scale = c.values === 'dyadic' ? 1 : 2 / Math.sqrt(rows);
    const W = Float32Array.from({ length: rows * cols }, () =>
      next() < c.zeroWeights ? 0 : drawValue(c.values, next, scale),
    );
    const b = Float32Array.from({ length: cols }, () => drawValue(c.values, next, c.values === 'dyadic' ? 2 : 1));
    return { W: { rows, cols, data: W }, b };
  });
  return { layers, activation: c.activation, output: c.output };
}

export function makeInputs(features: number, c: InputCase, values: ValueKind): Float32Array {
  const next = uniform(c.seed ^ 0x5bd1e995);
  return Float32Array.from({ length: c.rows * features }, () =>
    next() < c.zeroInputs ? 0 : drawValue(values, next, 1),
  );
}

export const arbitraryNetworkCase = (options: {
  values: ValueKind;
  activations?: readonly Activation[];
  maxLayers?: number;
  maxWidth?: number;
}) =>
  fc.record({
    sizes: fc.array(fc.integer({ min: 1, max: options.maxWidth ?? 40 }), {
      minLength: 2,
      maxLength: (options.maxLayers ?? 4) + 1,
    }),
    activation: fc.constantFrom(...(options.activations ?? ACTIVATIONS)),
    output: fc.constantFrom(...OUTPUT_FUNCTIONS),
    values: fc.constant(options.values),
    seed: fc.integer(),
    zeroWeights: fc.constantFrom(0, 0, 0.3),
  });

export const arbitraryInputCase = fc.record({
  rows: fc.integer({ min: 1, max: 24 }),
  zeroInputs: fc.constantFrom(0, 0.5, 0.8, 0.95, 1),
  seed: fc.integer(),
});

export interface Scored {
  predicted: Int32Array;
  confidence: Float32Array;
  probabilities: Float32Array;
}

/** The reference forward pass (no scratch) and argmaxRows. */
export function referenceScores(network: Network, x: Float32Array, rows: number): Scored {
  const outputs = network.layers[network.layers.length - 1].W.cols;
  const probabilities = forward(network, x, rows);
  const predicted = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  argmaxRows(probabilities, rows, outputs, predicted, confidence);
  return { predicted, confidence, probabilities };
}

export function engineScores(
  engine: {
    outputs: number;
    predict: (x: Float32Array, rows: number, p: Int32Array, c: Float32Array, prob?: Float32Array) => void;
  },
  x: Float32Array,
  rows: number,
): Scored {
  const predicted = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  const probabilities = new Float32Array(rows * engine.outputs);
  engine.predict(x, rows, predicted, confidence, probabilities);
  return { predicted, confidence, probabilities };
}

/** First index where two arrays differ (Object.is: NaN equals NaN, 0 differs from -0), or -1. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * Compares an approximate (float32-accumulating) engine with the reference: every probability within
 * `tolerance` (relative to max(1, |reference|), which only matters for the unbounded identity output),
 * and the same argmax wherever the reference's best two values differ by more than `tieGap` (closer
 * calls may legitimately flip under float32 rounding). Returns a problem description or null.
 */
export function approximateProblem(
  ref: Scored,
  got: Scored,
  rows: number,
  outputs: number,
  tolerance = 1e-5,
  tieGap = 1e-4,
): string | null {
  for (let i = 0; i < ref.probabilities.length; i++) {
    const r = ref.probabilities[i];
    const g = got.probabilities[i];
    if (Number.isNaN(r) || Number.isNaN(g)) {
      if (Number.isNaN(r) !== Number.isNaN(g)) return `probability ${i}: ${g} vs reference ${r}`;
      continue;
    }
    if (Math.abs(r - g) > tolerance * Math.max(1, Math.abs(r)))
      return `probability ${i}: ${g} vs reference ${r} (diff ${Math.abs(r - g)})`;
  }
  for (let row = 0; row < rows; row++) {
    if (ref.predicted[row] === got.predicted[row]) continue;
    const values = Array.from(ref.probabilities.subarray(row * outputs, (row + 1) * outputs)).sort((a, b) => b - a);
    const gap = values.length > 1 ? values[0] - values[1] : Infinity;
    if (gap > tieGap * Math.max(1, Math.abs(values[0]))) {
      return `row ${row}: predicted ${got.predicted[row]}, reference ${ref.predicted[row]} (top-two gap ${gap})`;
    }
  }
  return null;
}
