// The forward pass on tiny networks whose outputs are worked out by hand, scratch reuse, and argmax.
import test from 'ava';
import { argmaxRows, createForwardScratch, forward } from '../../src/nn/forward.js';
import { networkFromModelFile } from '../../src/nn/network.js';
import type { Activation, Network, OutputFunction } from '../../src/nn/types.js';
import { loadTinyFixture } from './model-test-helpers.js';

// 2 -> 2 -> 2. For x = [1, 1]: a1 = x·W1 + b1 = [1 + 2 + 0, -1 + 0 + 0.5] = [3, -0.5].
function handNetwork(activation: Activation, output: OutputFunction): Network {
  return {
    activation,
    output,
    layers: [
      { W: { rows: 2, cols: 2, data: Float32Array.from([1, -1, 2, 0]) }, b: Float32Array.from([0, 0.5]) },
      { W: { rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4]) }, b: Float32Array.from([1, 1]) },
    ],
  };
}

test('relu hidden layer, identity output: [1, 1] -> [4, 7]', (t) => {
  // relu([3, -0.5]) = [3, 0]; [3, 0]·[[1, 2], [3, 4]] + [1, 1] = [4, 7]
  t.deepEqual([...forward(handNetwork('relu', 'identity'), Float32Array.from([1, 1]), 1)], [4, 7]);
});

test('step hidden layer, identity output: [1, 1] -> [2, 3]', (t) => {
  // step([3, -0.5]) = [1, 0]; [1, 0]·W2 + b2 = [2, 3]
  t.deepEqual([...forward(handNetwork('step', 'identity'), Float32Array.from([1, 1]), 1)], [2, 3]);
});

test('sigmoid hidden layer, softmax output, two rows', (t) => {
  const s = (v: number) => 1 / (1 + Math.exp(-v));
  const row = (h: number[]) => {
    const a = [h[0] * 1 + h[1] * 3 + 1, h[0] * 2 + h[1] * 4 + 1];
    const e = a.map((v) => Math.exp(v - Math.max(...a)));
    return e.map((v) => v / (e[0] + e[1]));
  };
  // Row 1 is x = [1, 1] (a1 = [3, -0.5]); row 2 is x = [0, 0] (a1 = b1 = [0, 0.5]).
  const expected = [...row([s(3), s(-0.5)]), ...row([s(0), s(0.5)])];
  const out = forward(handNetwork('sigmoid', 'softmax'), Float32Array.from([1, 1, 0, 0]), 2);
  t.is(out.length, 4);
  out.forEach((v, i) => t.true(Math.abs(v - expected[i]) < 1e-7, `${v} vs ${expected[i]}`));
});

test("the tiny numpy network gives numpy's probabilities for its probe rows", (t) => {
  const tiny = loadTinyFixture();
  const model = networkFromModelFile({
    path: 'tiny.json',
    format: 'npz',
    sha256: '',
    sizeBytes: 0,
    tensors: tiny.tensors,
    metadata: {},
  });
  const out = forward(model.network, tiny.probe.x, tiny.probe.rows);
  t.is(out.length, tiny.probe.probabilities.length);
  out.forEach((v, i) =>
    t.true(Math.abs(v - tiny.probe.probabilities[i]) < 1e-6, `index ${i}: ${v} vs ${tiny.probe.probabilities[i]}`),
  );
});

test('with scratch: a view into the same buffer every call, no new buffers', (t) => {
  const network = handNetwork('relu', 'identity');
  const scratch = createForwardScratch(network, 4);
  const buffers = [...scratch.buffers];
  const first = forward(network, Float32Array.from([1, 1]), 1, scratch);
  t.deepEqual([...first], [4, 7]);
  const second = forward(network, Float32Array.from([1, 1, 0, 0, 1, 1]), 3, scratch);
  t.is(second.buffer, first.buffer);
  t.is(second.length, 6);
  t.deepEqual([...second], [4, 7, 2.5, 3, 4, 7]);
  t.true(scratch.buffers.every((b, i) => b === buffers[i]));
  t.is(
    forward(network, Float32Array.from([0, 0, 0, 0, 0, 0]), 3, scratch),
    second,
    'same row count: the very same view',
  );
});

test('with scratch: grows when a batch has more rows than maxRows', (t) => {
  const network = handNetwork('relu', 'identity');
  const scratch = createForwardScratch(network, 1);
  const out = forward(network, Float32Array.from([1, 1, 0, 0, 1, 1]), 3, scratch);
  t.deepEqual([...out], [4, 7, 2.5, 3, 4, 7]);
  t.is(scratch.maxRows, 3);
  t.is(scratch.buffers[1].length, 6);
});

test('without scratch: a fresh array each call; zero rows give an empty result', (t) => {
  const network = handNetwork('relu', 'identity');
  const a = forward(network, Float32Array.from([1, 1]), 1);
  const b = forward(network, Float32Array.from([1, 1]), 1);
  t.not(a, b);
  t.is(forward(network, new Float32Array(0), 0).length, 0);
});

test('too little input or a scratch made for another network is an error', (t) => {
  const network = handNetwork('relu', 'identity');
  t.throws(() => forward(network, Float32Array.from([1, 1, 1]), 2), { instanceOf: RangeError });
  const other: Network = { ...network, layers: [network.layers[0]] };
  t.throws(() => forward(network, Float32Array.from([1, 1]), 1, createForwardScratch(other, 1)), {
    message: /scratch/,
  });
});

test('argmaxRows: first index wins ties, NaN counts as largest, confidence is the winner', (t) => {
  const out = Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0.2, Number.NaN, 0.9, 3, 3, 3]);
  const predicted = new Int32Array(4);
  const confidence = new Float32Array(4);
  argmaxRows(out, 4, 3, predicted, confidence);
  t.deepEqual([...predicted], [1, 0, 1, 0]);
  t.deepEqual([confidence[0], confidence[1], confidence[3]], [Math.fround(0.7), 0.5, 3]);
  t.true(Number.isNaN(confidence[2]));
});
