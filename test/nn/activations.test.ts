// Activation and output functions: values, and no overflow / NaN at extreme inputs.
import test from 'ava';
import { applyActivation_, applyOutput_, relu_, sigmoid_, softmaxRows_, step_ } from '../../src/nn/activations.js';

const close = (a: number, b: number, tolerance = 1e-7) => Math.abs(a - b) <= tolerance;

test('softmax of [1010, 1000, 990] stays finite and sums to 1', (t) => {
  const v = Float32Array.from([1010, 1000, 990]);
  softmaxRows_(v, 1, 3);
  t.true(v.every(Number.isFinite));
  t.true(close(v[0] + v[1] + v[2], 1, 1e-6));
  // The book's answer: [9.99954600e-01, 4.53978686e-05, 2.06106005e-09]
  t.true(close(v[0], 0.9999546, 1e-6));
  t.true(close(v[1], 4.53978686e-5, 1e-10));
  t.true(close(v[2], 2.06106005e-9, 1e-14));
});

test('softmax of very negative inputs stays finite and sums to 1', (t) => {
  const v = Float32Array.from([-1000, -1001, -1002, -1e30]);
  softmaxRows_(v, 1, 4);
  t.true(v.every(Number.isFinite));
  t.true(
    close(
      v.reduce((a, b) => a + b, 0),
      1,
      1e-6,
    ),
  );
  t.true(v[0] > v[1] && v[1] > v[2] && v[2] >= v[3]);
});

test('softmax works row by row', (t) => {
  const v = Float32Array.from([0, 0, 1010, 1000, 5, 5]);
  softmaxRows_(v, 3, 2);
  t.deepEqual([...v.subarray(0, 2)], [0.5, 0.5]);
  t.true(close(v[2], 1 / (1 + Math.exp(-10)), 1e-7));
  t.deepEqual([...v.subarray(4)], [0.5, 0.5]);
});

test('sigmoid values, and no NaN at +-1000', (t) => {
  const v = Float32Array.from([0, 1, -1, 1000, -1000, 88.8, -88.8, 1e30, -1e30]);
  sigmoid_(v);
  t.is(v[0], 0.5);
  t.true(close(v[1], 0.7310585786, 1e-7));
  t.true(close(v[2], 0.2689414214, 1e-7));
  t.is(v[3], 1);
  t.is(v[4], 0);
  t.false(v.some(Number.isNaN));
  t.true(v.every((x) => x >= 0 && x <= 1));
});

test('sigmoid with n touches only the first n values', (t) => {
  const v = Float32Array.from([0, 0, 7]);
  sigmoid_(v, 2);
  t.deepEqual([...v], [0.5, 0.5, 7]);
});

test('relu clamps negatives to 0 and keeps positives', (t) => {
  const v = Float32Array.from([-2, -0.5, 0, 0.5, 3]);
  relu_(v);
  t.deepEqual([...v], [0, 0, 0, 0.5, 3]);
});

test('step is x > 0 ? 1 : 0, as the book', (t) => {
  const v = Float32Array.from([-1, 0, 1e-30, 5]);
  step_(v);
  t.deepEqual([...v], [0, 0, 1, 1]);
});

test('applyActivation_ dispatches, identity leaves values alone', (t) => {
  const values = [-1, 0, 2];
  const run = (kind: 'sigmoid' | 'relu' | 'step' | 'identity') => {
    const v = Float32Array.from(values);
    applyActivation_(kind, v, v.length);
    return [...v];
  };
  t.deepEqual(run('identity'), values);
  t.deepEqual(run('relu'), [0, 0, 2]);
  t.deepEqual(run('step'), [0, 0, 1]);
  t.is(run('sigmoid')[1], 0.5);
});

test('applyOutput_ dispatches softmax per row, sigmoid, identity', (t) => {
  const softmax = Float32Array.from([1, 1, 3, 3]);
  applyOutput_('softmax', softmax, 2, 2);
  t.deepEqual([...softmax], [0.5, 0.5, 0.5, 0.5]);
  const sigmoid = Float32Array.from([0, 0]);
  applyOutput_('sigmoid', sigmoid, 1, 2);
  t.deepEqual([...sigmoid], [0.5, 0.5]);
  const identity = Float32Array.from([4, -4]);
  applyOutput_('identity', identity, 1, 2);
  t.deepEqual([...identity], [4, -4]);
});

test('asking for more values than the buffer holds is a RangeError', (t) => {
  t.throws(() => sigmoid_(new Float32Array(2), 3), { instanceOf: RangeError });
  t.throws(() => softmaxRows_(new Float32Array(5), 2, 3), { instanceOf: RangeError });
});
