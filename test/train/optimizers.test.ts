// Optimiser updates against hand-computed values, the learning-rate schedule, and the shard layout
// (which fixes the gradient summation order whatever the thread count).
import test from 'ava';
import { createOptimizer, lrFactor } from '../../src/train/optimizers.js';
import { shardLayout } from '../../src/train/trainer.js';
import { groupShards } from '../../src/train/backend.js';

const f32 = (...values: number[]) => Float32Array.from(values);

test('sgd: w <- w - lr * g', (t) => {
  const params = f32(1, -2, 0.5);
  createOptimizer({ name: 'sgd', learningRate: 0.1 }, 3).step(params, Float64Array.from([1, -1, 0.5]));
  t.deepEqual(params, f32(0.9, -1.9, 0.45));
});

test('momentum: v <- mu v - lr g; w <- w + v, over two steps', (t) => {
  const params = f32(1);
  const opt = createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 0.9 }, 1);
  opt.step(params, Float64Array.from([2])); // v = -0.2
  t.is(params[0], Math.fround(0.8));
  opt.step(params, Float64Array.from([2])); // v = 0.9 * -0.2 - 0.2 = -0.38
  t.is(params[0], Math.fround(Math.fround(0.8) - 0.38));
  t.is(opt.steps, 2);
});

test('adam: the first step moves each weight by about lr against the sign of its gradient', (t) => {
  const params = f32(0, 0, 0);
  const opt = createOptimizer({ name: 'adam', learningRate: 0.01 }, 3);
  opt.step(params, Float64Array.from([0.5, -3, 1e-3]));
  // m̂ = g and v̂ = g² after bias correction, so the step is lr · g / (|g| + eps).
  t.true(Math.abs(params[0] + 0.01) < 1e-8);
  t.true(Math.abs(params[1] - 0.01) < 1e-8);
  t.true(Math.abs(params[2] + 0.01 * (1e-3 / (1e-3 + 1e-8))) < 1e-8);
  // Second step with the same gradient: m̂ and v̂ stay g and g², so again ~lr.
  opt.step(params, Float64Array.from([0.5, -3, 1e-3]));
  t.true(Math.abs(params[0] + 0.02) < 1e-7);
  t.deepEqual(opt.settings, {
    name: 'adam',
    learningRate: 0.01,
    schedule: 'constant',
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
});

test('the learning-rate factor: constant, or linear from 1 down to 1/steps', (t) => {
  t.is(lrFactor('constant', 7, 10), 1);
  t.is(lrFactor('linear', 0, 10), 1);
  t.is(lrFactor('linear', 9, 10), 0.1);
  const sgd = createOptimizer({ name: 'sgd', learningRate: 1 }, 1);
  const params = f32(1);
  sgd.step(params, Float64Array.from([1]), 0.25);
  t.is(params[0], 0.75);
});

test('bad settings are refused', (t) => {
  t.throws(() => createOptimizer({ name: 'sgd', learningRate: 0 }, 1), { instanceOf: RangeError });
  t.throws(() => createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 1 }, 1), { instanceOf: RangeError });
  t.throws(() => createOptimizer({ name: 'sgd', learningRate: 0.1 }, 2).step(f32(1, 2), Float64Array.from([1])), {
    instanceOf: RangeError,
  });
});

test('shards have a fixed size; grouping them for threads keeps their order', (t) => {
  t.deepEqual(shardLayout(200, 100, 50), [
    { start: 200, rows: 50 },
    { start: 250, rows: 50 },
  ]);
  t.deepEqual(shardLayout(0, 60, 25), [
    { start: 0, rows: 25 },
    { start: 25, rows: 25 },
    { start: 50, rows: 10 },
  ]);
  const shards = shardLayout(0, 100, 20);
  for (const threads of [1, 2, 3, 4, 8]) {
    const groups = groupShards(shards, threads);
    t.is(groups.length, Math.min(threads, 5));
    t.deepEqual(groups.flat(), shards, `${threads} threads: same shards, same order`);
    const sizes = groups.map((g) => g.length);
    t.true(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
});
