// Reading Python pickles of numpy arrays: the book's network and small numpy-made fixtures (protocols 2, 4, 5).
import test from 'ava';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { bookPickle, hasBookPickle } from '../helpers/paths.js';
import { loadTinyFixture, modelFixture, sameBits } from './model-test-helpers.js';

(hasBookPickle ? test : test.skip)(
  'the book pickle loads with the right shapes (needs ../shared/reference/sample_weight.pkl)',
  async (t) => {
    const file = await readModelFile(bookPickle);
    t.is(file.format, 'pkl');
    t.is(file.sha256, 'b7f55a27988ba34c3777b0f1bbd464817c8a4db855723e6ff26f703501917a13');
    t.is(file.sizeBytes, 181853);
    t.deepEqual(file.metadata, {});
    const shapes = Object.fromEntries([...file.tensors].map(([name, tensor]) => [name, tensor.shape]));
    t.deepEqual(shapes, { W1: [784, 50], b1: [50], W2: [50, 100], b2: [100], W3: [100, 10], b3: [10] });
    for (const [name, tensor] of file.tensors) {
      t.is(
        tensor.data.length,
        tensor.shape.reduce((a, b) => a * b, 1),
        name,
      );
      t.true(tensor.data.every(Number.isFinite), name);
    }
  },
);

for (const protocol of [2, 4, 5]) {
  test(`a numpy protocol-${protocol} pickle of the tiny network reads exactly the values numpy stored`, async (t) => {
    const tiny = loadTinyFixture();
    const file = await readModelFile(modelFixture(`tiny-p${protocol}.pkl`));
    t.is(file.format, 'pkl');
    t.deepEqual([...file.tensors.keys()].sort(), [...tiny.tensors.keys()].sort());
    for (const [name, expected] of tiny.tensors) {
      const actual = file.tensors.get(name)!;
      t.deepEqual(actual.shape, expected.shape, name);
      t.true(sameBits(actual.data, expected.data), name);
    }
  });
}
