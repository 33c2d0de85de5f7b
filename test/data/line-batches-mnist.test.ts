// Decoding in the workers against decoding on the main thread, on the real data: data/mnist_test.csv
// (prepared here if missing) in LineBatches of 1, 7, 100 and 1000 rows, each decoded with decodeBlock as
// a worker does: the same rows (x bytes, labels, lines; hashed), and under 'fail' the same batches,
// batch by batch. Also from stdin in odd chunk sizes, and with `limit`.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { prepareMnistCsv, MNIST_FEATURES, MNIST_SOURCES } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { everyN } from './fast-csv-harness.js';
import { assertAgree, runPlaced, type Feeding, type RunOptions } from './line-batches-harness.js';

let path = '';
test.before(async () => {
  path = (await prepareMnistCsv('test')).path;
});

const options = (batchSize: number, extra: Partial<RunOptions> = {}): RunOptions => ({
  features: MNIST_FEATURES,
  classes: 10,
  onError: 'fail',
  batchSize,
  table: normalizationTable('unit'),
  ...extra,
});

for (const batchSize of [1, 7, 100, 1000]) {
  test(`mnist_test.csv, batch size ${batchSize}: the workers decode the main thread's batches`, async (t) => {
    const feeding: Feeding = { kind: 'file', path };
    const main = await runPlaced('main', feeding, options(batchSize), { digest: true });
    t.is(main.error, null);
    t.is(main.batches.length, Math.ceil(MNIST_SOURCES.test.rows / batchSize));
    t.deepEqual(main.layouts, [{ hasHeader: false, fieldCount: 785, labelIndex: 0 }]);
    const workers = await runPlaced('workers', feeding, options(batchSize), { digest: true });
    t.notThrows(() => assertAgree(workers, main, options(batchSize), `batch size ${batchSize}`));
    // Under 'skip' (no bad row here): the same rows too.
    const skip = await runPlaced('workers', feeding, options(batchSize, { onError: 'skip' }), { digest: true });
    t.is(skip.rows, main.rows);
  });
}

test('mnist_test.csv from stdin in 100,003-byte chunks, normalize none, and with limit 4321', async (t) => {
  const bytes = await readFile(path);
  const feeding: Feeding = { kind: 'stdin', bytes, cuts: everyN(bytes.length, 100_003) };
  const none = options(64, { table: normalizationTable('none') });
  const main = await runPlaced('main', feeding, none, { digest: true });
  const workers = await runPlaced('workers', feeding, none, { digest: true });
  t.notThrows(() => assertAgree(workers, main, none, 'stdin'));
  const limited = options(100, { limit: 4321 });
  const mainLimited = await runPlaced('main', { kind: 'file', path }, limited, { digest: true });
  t.true((mainLimited.rows as string).startsWith('4321:'));
  const workersLimited = await runPlaced('workers', { kind: 'file', path }, limited, { digest: true });
  t.notThrows(() => assertAgree(workersLimited, mainLimited, limited, 'limit'));
});
