// The WebAssembly kernel's sigmoid (float32 Cephes exp polynomial, wasm has no exp instruction) against
// the reference's float64 Math.exp sigmoid rounded to float32, on a dense sweep of pre-activations.
// A 1 -> n -> n network isolates it: hidden unit j = sigmoid(x + b_j), then an identity layer with W = I
// and b = 0 passes the hidden values through unchanged (each output is h_j * 1 plus exact zeros).
import test from 'ava';
import { sigmoid_ } from '../../src/nn/activations.js';
import { createForwardEngine } from '../../src/nn/kernels/index.js';
import type { Network } from '../../src/nn/types.js';

function sweepNetwork(offsets: Float32Array): Network {
  const n = offsets.length;
  const identity = new Float32Array(n * n);
  for (let j = 0; j < n; j++) identity[j * n + j] = 1;
  return {
    activation: 'sigmoid',
    output: 'identity',
    layers: [
      { W: { rows: 1, cols: n, data: new Float32Array(n).fill(1) }, b: offsets },
      { W: { rows: n, cols: n, data: identity }, b: new Float32Array(n) },
    ],
  };
}

/**
 * Distance in float32 units in the last place at the reference value (ulp of |reference|, at least the smallest
 * normal's).
 */
function ulps(got: number, reference: number): number {
  const exponent = Math.max(Math.floor(Math.log2(Math.abs(reference) || 2 ** -126)), -126);
  return Math.abs(got - reference) / 2 ** (exponent - 23);
}

test(
  'wasm sigmoid: within 4 float32 ulps of the reference for |x| <= 87 (abs. error < 3e-7 anywhere), exact limits ' +
    'beyond',
  async (t) => {
    const n = 256;
    const rows = 800; // x = row value, plus n offsets per row: 204,800 points in [-100, 100]
    const offsets = Float32Array.from({ length: n }, (_, j) => (j / n) * 0.25);
    const network = sweepNetwork(offsets);
    const engine = await createForwardEngine(network, { maxRows: rows, kind: 'wasm' });
    const x = Float32Array.from({ length: rows }, (_, r) => -100 + (r / rows) * 200);
    const got = new Float32Array(rows * n);
    engine.predict(x, rows, new Int32Array(rows), new Float32Array(rows), got);
    // The reference: the same float32 pre-activations x + b_j, through the reference sigmoid.
    const reference = Float32Array.from({ length: rows * n }, (_, i) => x[Math.floor(i / n)] + offsets[i % n]);
    sigmoid_(reference);
    let worstUlps = 0;
    let worstAbs = 0;
    for (let i = 0; i < reference.length; i++) {
      const pre = x[Math.floor(i / n)] + offsets[i % n];
      worstAbs = Math.max(worstAbs, Math.abs(got[i] - reference[i]));
      if (Math.abs(pre) <= 87) worstUlps = Math.max(worstUlps, ulps(got[i], reference[i]));
      else if (pre > 87) t.is(got[i], 1, `sigmoid(${pre})`);
      else t.true(got[i] >= 0 && got[i] <= 1.7e-38, `sigmoid(${pre}) = ${got[i]}`); // e^-87 = 1.65e-38
    }
    t.true(worstUlps <= 4, `worst ${worstUlps} ulps`);
    t.true(worstAbs < 3e-7, `worst absolute error ${worstAbs}`);
    t.log(
      `wasm sigmoid vs reference over ${reference.length} points in [-100, 100]: worst ${worstUlps.toFixed(2)}` +
        ` ulps (|x| <= 87), worst absolute error ${worstAbs.toExponential(2)}`,
    );
  },
);
