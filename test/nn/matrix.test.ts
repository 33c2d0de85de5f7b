// affine / matmul against a naive triple loop on random shapes (property tests).
import test from 'ava';
import fc from 'fast-check';
import { affine, matmul } from '../../src/nn/matrix.js';
import type { Matrix } from '../../src/nn/types.js';

/** The obvious triple loop, in float64, rounded to float32 at the end. */
function naive(a: number[][], b: number[][], bias?: number[]): Float32Array {
  const rows = a.length;
  const inner = b.length;
  const cols = inner === 0 ? (bias?.length ?? 0) : b[0].length;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += a[i][k] * b[k][j];
      out[i * cols + j] = sum + (bias ? bias[j] : 0);
    }
  }
  return out;
}

const f32 = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });
const matrixOf = (rows: number, cols: number) =>
  fc.array(fc.array(f32, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows });
const toMatrix = (values: number[][], cols: number): Matrix => ({
  rows: values.length,
  cols,
  data: Float32Array.from(values.flat()),
});

const shapes = fc.record({
  rows: fc.integer({ min: 0, max: 6 }),
  inner: fc.integer({ min: 1, max: 9 }),
  cols: fc.integer({ min: 1, max: 7 }),
});

test('affine equals the naive triple loop plus bias', (t) => {
  fc.assert(
    fc.property(
      shapes.chain(({ rows, inner, cols }) =>
        fc.tuple(
          matrixOf(rows, inner),
          matrixOf(inner, cols),
          fc.array(f32, { minLength: cols, maxLength: cols }),
          fc.constant(cols),
        ),
      ),
      ([x, w, bias, cols]) => {
        const out = new Float32Array(x.length * cols);
        affine(Float32Array.from(x.flat()), x.length, toMatrix(w, cols), Float32Array.from(bias), out);
        const expected = naive(
          x.map((row) => row.map(Math.fround)),
          w.map((row) => row.map(Math.fround)),
          bias.map(Math.fround),
        );
        return out.length === expected.length && out.every((v, i) => Object.is(v, expected[i]));
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('matmul equals the naive triple loop, with and without an out matrix', (t) => {
  fc.assert(
    fc.property(
      shapes.chain(({ rows, inner, cols }) =>
        fc.tuple(matrixOf(rows, inner), matrixOf(inner, cols), fc.constant(cols)),
      ),
      ([a, b, cols]) => {
        const A = toMatrix(a, b.length);
        const B = toMatrix(b, cols);
        const expected = naive(
          a.map((row) => row.map(Math.fround)),
          b.map((row) => row.map(Math.fround)),
        );
        const fresh = matmul(A, B);
        const out: Matrix = { rows: A.rows, cols, data: new Float32Array(A.rows * cols) };
        const into = matmul(A, B, out);
        return (
          fresh.rows === A.rows &&
          fresh.cols === cols &&
          fresh.data.every((v, i) => Object.is(v, expected[i])) &&
          into === out &&
          out.data.every((v, i) => Object.is(v, expected[i]))
        );
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('affine accumulates in float64: cancellation float32 accumulation would lose', (t) => {
  // 1e8 + 1 - 1e8 is 1 in float64 but 0 if summed in float32.
  const x = Float32Array.from([1e8, 1, -1e8]);
  const W: Matrix = { rows: 3, cols: 1, data: Float32Array.from([1, 1, 1]) };
  const out = new Float32Array(1);
  affine(x, 1, W, Float32Array.from([0.5]), out);
  t.is(out[0], 1.5);
});

test('shape mismatches are RangeErrors', (t) => {
  const W: Matrix = { rows: 2, cols: 3, data: new Float32Array(6) };
  t.throws(() => affine(new Float32Array(3), 2, W, new Float32Array(3), new Float32Array(6)), {
    instanceOf: RangeError,
  });
  t.throws(() => affine(new Float32Array(4), 2, W, new Float32Array(2), new Float32Array(6)), {
    instanceOf: RangeError,
  });
  t.throws(() => affine(new Float32Array(4), 2, W, new Float32Array(3), new Float32Array(5)), {
    instanceOf: RangeError,
  });
  t.throws(() => matmul(W, W), { instanceOf: RangeError });
  t.throws(
    () => matmul(W, { rows: 3, cols: 1, data: new Float32Array(3) }, { rows: 1, cols: 1, data: new Float32Array(1) }),
    {
      instanceOf: RangeError,
    },
  );
});
