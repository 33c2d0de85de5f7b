// End to end on the real MNIST test set with the book's pretrained network: exactly 0.9352,
// whatever the batch size and thread count. Needs ../shared/reference/sample_weight.pkl.
import test from 'ava';
import { bookPickle, hasBookPickle } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { mnistCsvPath, prepareMnistCsv } from '../../src/data/mnist.js';

const maybe = hasBookPickle ? test.serial : test.skip;
const prepared = hasBookPickle ? prepareMnistCsv('test') : Promise.resolve();

for (const [batchSize, threads] of [
  [1, 1],
  [1, 2],
  [100, 1],
  [100, 2],
  [10000, 1],
  [10000, 2],
] as const) {
  maybe(
    `book model (../shared) on MNIST test, batch ${batchSize}, ${threads} thread(s): accuracy 0.9352`,
    async (t) => {
      await prepared;
      const run = await runPipeline(
        [
          '--input',
          mnistCsvPath('test'),
          '--model',
          bookPickle,
          '--json',
          '--batch-size',
          String(batchSize),
          '--threads',
          String(threads),
        ],
        { timeoutMs: 180_000 },
      );
      t.is(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      t.is(report.rows, 10000);
      t.is(report.correct, 9352);
      t.is(report.accuracy, 0.9352);
      t.is(report.model.format, 'pkl');
    },
  );
}
