// Gradient checks: every backward pass against central differences of the same function.
//
// Why float64 on the numerical side: the layers run in float32 (as inference does), and a central
// difference of a float32 function with step h has a rounding error of about eps32/h (1e-7/1e-3 = 1e-4
// relative), too coarse to catch a wrong factor in a small term. So the numerical derivative is taken
// of a float64 reference implementation of the same maths, at the same (float32-representable) point,
// with h = 1e-6 (truncation error ~h^2, rounding ~1e-10). The analytic gradients are computed by the
// real kernels from float32 activations, which limits their agreement to ~1e-6 relative; hence the
// tolerance |analytic - numerical| <= 1e-5 + 1e-4·|numerical|. A separate assertion checks that the
// float32 forward kernels agree with the float64 reference to float32 precision, so the reference is
// the function the kernels compute.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { affine } from '../../src/nn/matrix.js';
import { sigmoid_, relu_ } from '../../src/nn/activations.js';
import type { Matrix } from '../../src/nn/types.js';
import {
  affineBackward,
  reluBackward_,
  sigmoidBackward_,
  sparseAffine,
  sparseAffineBackward,
  sparseRowsFromDense,
} from '../../src/train/layers.js';
import { crossEntropyFromLogits, softmaxCrossEntropy } from '../../src/train/loss.js';
import { createGradientScratch, shardGradient } from '../../src/train/gradient.js';
import { allocateSharedParams } from '../../src/train/params.js';
import { initializeNetwork } from '../../src/train/init.js';
import { Xoshiro128StarStar } from '../../src/train/prng.js';

const H = 1e-6;
const rng = Xoshiro128StarStar.fromSeed(2024);
const uniform = (scale: number) => scale * (2 * rng.nextFloat24() - 1);
const randomF32 = (n: number, scale = 1) => Float32Array.from({ length: n }, () => uniform(scale));
const randomF64 = (n: number, scale = 1) => Float64Array.from({ length: n }, () => uniform(scale));

function close(t: ExecutionContext, analytic: ArrayLike<number>, numerical: ArrayLike<number>, what: string): void {
  t.is(analytic.length, numerical.length, `${what}: lengths`);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < numerical.length; i++) {
    const excess = Math.abs(analytic[i] - numerical[i]) - (1e-5 + 1e-4 * Math.abs(numerical[i]));
    if (excess > worst) {
      worst = excess;
      where = i;
    }
  }
  t.true(
    where < 0,
    where < 0 ? what : `${what}: element ${where}: analytic ${analytic[where]} vs numerical ${numerical[where]}`,
  );
}

/** Central difference of f with respect to every entry of `params` (perturbed in float64). */
function numericalGradient(params: Float64Array, f: () => number): Float64Array {
  const grad = new Float64Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const saved = params[i];
    params[i] = saved + H;
    const plus = f();
    params[i] = saved - H;
    const minus = f();
    params[i] = saved;
    grad[i] = (plus - minus) / (2 * H);
  }
  return grad;
}

/** float64 reference of A = X·W + b. */
function affine64(
  x: ArrayLike<number>,
  rows: number,
  inputs: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  outputs: number,
): Float64Array {
  const out = new Float64Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < outputs; c++) {
      let sum = b[c];
      for (let k = 0; k < inputs; k++) sum += x[r * inputs + k] * w[k * outputs + c];
      out[r * outputs + c] = sum;
    }
  }
  return out;
}
const sigmoid64 = (z: number) => 1 / (1 + Math.exp(-z));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const rows = 4;
const inputs = 7;
const outputs = 5;

test('affine: dW, db and dX match numerical differentiation of L = Σ G ⊙ (X·W + b)', (t) => {
  const x = randomF32(rows * inputs);
  const W: Matrix = { rows: inputs, cols: outputs, data: randomF32(inputs * outputs) };
  const b = randomF32(outputs);
  const G = randomF64(rows * outputs); // the upstream gradient dL/dA
  const dW = new Float64Array(inputs * outputs);
  const db = new Float64Array(outputs);
  const dX = new Float64Array(rows * inputs);
  affineBackward(x, rows, W, G, dW, db, dX);

  const x64 = Float64Array.from(x);
  const w64 = Float64Array.from(W.data);
  const b64 = Float64Array.from(b);
  const loss = () => dot(G, affine64(x64, rows, inputs, w64, b64, outputs));
  close(t, dW, numericalGradient(w64, loss), 'dW');
  close(t, db, numericalGradient(b64, loss), 'db');
  close(t, dX, numericalGradient(x64, loss), 'dX');

  // The float32 kernel computes the reference function.
  const out = new Float32Array(rows * outputs);
  affine(x, rows, W, b, out);
  close(t, out, affine64(x, rows, inputs, W.data, b, outputs), 'forward');
});

test('sparse affine: forward equals affine bit for bit, and dW, db match numerical differentiation', (t) => {
  const x = randomF32(rows * inputs);
  for (let i = 0; i < x.length; i += 3) x[i] = 0; // a third zeros, like (more sparsely) MNIST pixels
  x[1] = 0;
  const W: Matrix = { rows: inputs, cols: outputs, data: randomF32(inputs * outputs) };
  const b = randomF32(outputs);
  const sparse = sparseRowsFromDense(x, rows, inputs);
  t.true(sparse.rowStart[rows] < rows * inputs);

  const dense = new Float32Array(rows * outputs);
  const viaSparse = new Float32Array(rows * outputs);
  affine(x, rows, W, b, dense);
  sparseAffine(sparse, W, b, viaSparse, new Float64Array(outputs));
  t.deepEqual(new Uint32Array(viaSparse.buffer), new Uint32Array(dense.buffer));

  const G = randomF64(rows * outputs);
  const dW = new Float64Array(inputs * outputs);
  const db = new Float64Array(outputs);
  sparseAffineBackward(sparse, G, outputs, dW, db);
  const w64 = Float64Array.from(W.data);
  const b64 = Float64Array.from(b);
  const loss = () => dot(G, affine64(x, rows, inputs, w64, b64, outputs));
  close(t, dW, numericalGradient(w64, loss), 'dW');
  close(t, db, numericalGradient(b64, loss), 'db');
});

test('sigmoid: backward matches numerical differentiation of L = Σ G ⊙ σ(z)', (t) => {
  const n = 40;
  const z = randomF32(n, 6);
  const G = randomF64(n);
  const y = Float32Array.from(z);
  sigmoid_(y);
  const d = Float64Array.from(G);
  sigmoidBackward_(y, d, n);
  const z64 = Float64Array.from(z);
  close(
    t,
    d,
    numericalGradient(z64, () => dot(G, Array.from(z64, sigmoid64))),
    'dz',
  );
  close(t, y, Array.from(z, sigmoid64), 'forward');
});

test('relu: backward matches numerical differentiation of L = Σ G ⊙ relu(z) (away from the kink)', (t) => {
  const n = 40;
  const z = randomF32(n, 3).map((v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
  const G = randomF64(n);
  const y = Float32Array.from(z);
  relu_(y);
  const d = Float64Array.from(G);
  reluBackward_(y, d, n);
  const z64 = Float64Array.from(z);
  close(
    t,
    d,
    numericalGradient(z64, () =>
      dot(
        G,
        Array.from(z64, (v) => Math.max(0, v)),
      ),
    ),
    'dz',
  );
  t.true(d.some((v) => v === 0) && d.some((v) => v !== 0), 'both sides of the kink are exercised');
});

test('softmax + cross-entropy: dL/dz matches numerical differentiation of scale · Σ CE', (t) => {
  const classes = 6;
  const z = randomF32(rows * classes, 4);
  z[3] = 40; // a confident row: probabilities near 0 and 1
  const labels = [2, 0, 5, 3];
  const scale = 1 / 10; // rows of a larger batch
  const probs = Float32Array.from(z);
  const dZ = new Float64Array(rows * classes);
  const stats = softmaxCrossEntropy(probs, rows, classes, labels, scale, dZ);

  const z64 = Float64Array.from(z);
  const lossOf = (v: ArrayLike<number>) => {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += crossEntropyFromLogits(v, r * classes, classes, labels[r]);
    return sum;
  };
  close(
    t,
    dZ,
    numericalGradient(z64, () => scale * lossOf(z64)),
    'dz',
  );
  t.true(Math.abs(stats.lossSum - lossOf(z)) < 1e-12);
  // The probabilities are a proper softmax and the loss is -log p[label].
  for (let r = 0; r < rows; r++) {
    const row = probs.subarray(r * classes, (r + 1) * classes);
    t.true(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-6);
    t.true(
      Math.abs(-Math.log(row[labels[r]]) - crossEntropyFromLogits(z, r * classes, classes, labels[r])) <
        1e-4 * (1 + Math.abs(Math.log(row[labels[r]]))),
    );
  }
});

for (const activation of ['sigmoid', 'relu'] as const) {
  test(`whole network (${activation}): shardGradient matches numerical differentiation of the mean loss`, (t) => {
    const sizes = [9, 6, 5, 4];
    const batchRows = 5;
    const { network, flat, layout } = allocateSharedParams(sizes, activation, 'softmax');
    initializeNetwork(network, Xoshiro128StarStar.fromSeed(activation === 'relu' ? 3 : 4));
    for (let i = 0; i < flat.length; i++) if (flat[i] === 0) flat[i] = uniform(0.1); // non-zero biases too
    const x = randomF32(batchRows * sizes[0]).map((v) => (v < -0.3 ? 0 : Math.abs(v))); // pixels: >= 0, some zeros
    const labels = [0, 3, 1, 2, 3];

    const scratch = createGradientScratch(sizes, batchRows);
    const sparse = sparseRowsFromDense(x, batchRows, sizes[0]);
    Object.assign(scratch.input, sparse);
    scratch.labels.set(labels);
    const grad = new Float64Array(layout.size);
    shardGradient(network, scratch, batchRows, grad);

    // float64 reference forward + mean cross-entropy over the batch.
    const p64 = Float64Array.from(flat);
    const act = activation === 'relu' ? (v: number) => Math.max(0, v) : sigmoid64;
    const meanLoss = () => {
      let a: Float64Array | Float32Array = x;
      for (let k = 0; k < layout.offsets.length; k++) {
        const o = layout.offsets[k];
        const z = affine64(
          a,
          batchRows,
          o.inputs,
          p64.subarray(o.W, o.W + o.inputs * o.outputs),
          p64.subarray(o.b, o.b + o.outputs),
          o.outputs,
        );
        a = k < layout.offsets.length - 1 ? z.map(act) : z;
      }
      let sum = 0;
      for (let r = 0; r < batchRows; r++) sum += crossEntropyFromLogits(a, r * 4, 4, labels[r]);
      return sum / batchRows;
    };
    close(t, grad, numericalGradient(p64, meanLoss), 'all parameters');
    t.true(
      grad.some((g) => Math.abs(g) > 1e-3),
      'the gradient is not trivially zero',
    );
  });
}

test('shards of a batch add up to the gradient of the whole batch', (t) => {
  const sizes = [12, 8, 3];
  const batchRows = 6;
  const { network, layout } = allocateSharedParams(sizes, 'sigmoid', 'softmax');
  initializeNetwork(network, Xoshiro128StarStar.fromSeed(9));
  const x = randomF32(batchRows * sizes[0]).map((v) => Math.max(0, v));
  const labels = [0, 1, 2, 2, 1, 0];
  const gradientOf = (start: number, count: number) => {
    const scratch = createGradientScratch(sizes, count);
    Object.assign(
      scratch.input,
      sparseRowsFromDense(x.subarray(start * sizes[0], (start + count) * sizes[0]), count, sizes[0]),
    );
    scratch.labels.set(labels.slice(start, start + count));
    const grad = new Float64Array(layout.size);
    const stats = shardGradient(network, scratch, batchRows, grad);
    return { grad, stats };
  };
  const whole = gradientOf(0, 6);
  const a = gradientOf(0, 4);
  const b = gradientOf(4, 2);
  const summed = a.grad.map((v, i) => v + b.grad[i]);
  close(t, summed, whole.grad, 'sum of shards');
  t.true(Math.abs(a.stats.lossSum + b.stats.lossSum - whole.stats.lossSum) < 1e-9);
  t.is(a.stats.correct + b.stats.correct, whole.stats.correct);
});
