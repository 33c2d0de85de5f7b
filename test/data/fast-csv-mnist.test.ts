// Differential test on the real data: data/mnist_test.csv and data/mnist_train.csv (prepared here if
// missing), read by the csv-parse path and by the fast path (and `auto`), must give identical batches,
// batch by batch: index, rows, features, every byte of x, labels, lines (compared as hashes, to keep
// memory low).
import test from 'ava';
import { prepareMnistCsv, MNIST_FEATURES, MNIST_SOURCES, type MnistSplit } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { runSource, type Outcome } from './fast-csv-harness.js';

const paths = new Map<MnistSplit, string>();
test.before(async () => {
  for (const split of ['test', 'train'] as const) paths.set(split, (await prepareMnistCsv(split)).path);
});

async function outcome(parser: 'csv-parse' | 'fast' | 'auto', split: MnistSplit, batchSize: number, normalize: 'unit' | 'none' = 'unit'): Promise<Outcome> {
  const input = paths.get(split) as string;
  return runSource(
    parser,
    { kind: 'file', path: input },
    { features: MNIST_FEATURES, classes: 10, onError: 'fail', batchSize, table: normalizationTable(normalize) },
    true,
  );
}

for (const batchSize of [1, 7, 100, 1000]) {
  test(`mnist_test.csv, batch size ${batchSize}: fast and auto give csv-parse's batches`, async (t) => {
    const oracle = await outcome('csv-parse', 'test', batchSize);
    t.is(oracle.error, null);
    t.is(oracle.batches.length, Math.ceil(MNIST_SOURCES.test.rows / batchSize));
    t.deepEqual(oracle.layouts, [{ hasHeader: false, fieldCount: 785, labelIndex: 0 }]);
    for (const parser of ['fast', 'auto'] as const) {
      const fast = await outcome(parser, 'test', batchSize);
      t.is(fast.parser, 'fast');
      t.deepEqual({ ...fast, parser: 'x' }, { ...oracle, parser: 'x' }, parser);
    }
  });
}

test('mnist_test.csv with normalize none: the same table is used on both paths', async (t) => {
  const oracle = await outcome('csv-parse', 'test', 100, 'none');
  const fast = await outcome('fast', 'test', 100, 'none');
  t.deepEqual(fast.batches, oracle.batches);
});

test('mnist_train.csv, batch size 100: fast gives csv-parse batches (all 60,000 rows)', async (t) => {
  t.timeout(180_000);
  const oracle = await outcome('csv-parse', 'train', 100);
  t.is(oracle.error, null);
  t.is(oracle.batches.length, MNIST_SOURCES.train.rows / 100);
  const fast = await outcome('fast', 'train', 100);
  t.deepEqual({ ...fast, parser: 'x' }, { ...oracle, parser: 'x' });
});
