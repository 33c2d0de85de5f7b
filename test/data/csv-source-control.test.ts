// Controlling a read: `limit`, an AbortSignal, a consumer that stops early, progress callbacks, and
// option checks. Stopping must also stop reading the input.
import test from 'ava';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { csvRows } from '../../src/data/csv-source.js';
import { fixture } from '../helpers/paths.js';
import { collect, tempDir, writeTemp } from './helpers.js';

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir()));
test.after.always(() => cleanup());

/** An endless CSV on "stdin": a header, then rows 0,1,2,... forever; counts the rows it produced. */
function endlessCsv(): Readable & { produced: number } {
  let next = 0;
  const stream = new Readable({
    read() {
      const lines: string[] = next === 0 ? ['label,a,b,c,d'] : [];
      for (let i = 0; i < 100; i++, next++) lines.push(`${next % 10},${next % 256},1,2,3`);
      stream.produced = next;
      this.push(`${lines.join('\n')}\n`);
    },
  }) as Readable & { produced: number };
  stream.produced = 0;
  return stream;
}

test('limit: stops after that many good rows and stops reading the input', async (t) => {
  const stdin = endlessCsv();
  const { rows } = await collect({ input: '-', stdin, limit: 250 });
  t.is(rows.length, 250);
  t.deepEqual(
    rows.slice(0, 3).map((r) => r.line),
    [2, 3, 4],
  );
  t.is(rows[249].line, 251);
  t.true(stdin.destroyed);
  t.true(stdin.produced < 100_000, `produced ${stdin.produced} rows`);
});

test('limit: counts good rows only (bad rows under skip do not count)', async (t) => {
  const input = await writeTemp(dir, '1,1,1,1,1\nx\n2,2,2,2,2\n3,3,3,3,3\n');
  const { rows, errors } = await collect({ input, onError: 'skip', limit: 2 });
  t.deepEqual(
    rows.map((r) => r.label),
    [1, 2],
  );
  t.deepEqual(errors, [{ line: 2, message: 'expected 5 fields, found 1' }]);
});

test('limit larger than the input: all rows, no error', async (t) => {
  const { rows } = await collect({ input: fixture('csv/label-first.csv'), limit: 1000 });
  t.is(rows.length, 3);
});

test('abort: the generator returns normally and the input is closed', async (t) => {
  const stdin = endlessCsv();
  const controller = new AbortController();
  const rows = [];
  for await (const row of csvRows({
    input: '-',
    stdin,
    features: 4,
    classes: 10,
    onError: 'fail',
    signal: controller.signal,
  })) {
    rows.push(row);
    if (rows.length === 120) controller.abort();
  }
  t.is(rows.length, 120);
  t.true(stdin.destroyed);
});

test('abort while waiting for input: returns promptly', async (t) => {
  const stalled = new Readable({ read() {} });
  // Whole lines only reach csv-parse, which holds a record until it has seen 2 bytes after it: so only
  // the first row comes before the input stalls in the fourth line.
  stalled.push('label,a,b,c,d\n1,1,1,1,1\n2,2,2,2,2\n3,3');
  const controller = new AbortController();
  const rows = [];
  setTimeout(() => controller.abort(), 50);
  for await (const row of csvRows({
    input: '-',
    stdin: stalled,
    features: 4,
    classes: 10,
    onError: 'fail',
    signal: controller.signal,
  })) {
    rows.push(row);
  }
  t.is(rows.length, 1);
  t.true(stalled.destroyed);
});

test('already aborted: nothing is read', async (t) => {
  const stdin = endlessCsv();
  const { rows } = await collect({ input: '-', stdin, signal: AbortSignal.abort() });
  t.deepEqual(rows, []);
  t.is(stdin.produced, 0);
});

test('a consumer that breaks out early closes the input', async (t) => {
  const stdin = endlessCsv();
  let count = 0;
  for await (const row of csvRows({ input: '-', stdin, features: 4, classes: 10, onError: 'fail' })) {
    count += row.label === null ? 0 : 1;
    if (count === 5) break;
  }
  t.true(stdin.destroyed);
});

test('onBytes: at most every ~64 KB, increasing, ending at the input size; onLayout once', async (t) => {
  const path = fixture('csv/mnist-test-head.csv');
  const size = (await stat(path)).size;
  const big = await writeTemp(dir, Array.from({ length: 40 }, () => '1,2,3,4,5\n'.repeat(1000)).join(''));
  const bigSize = (await stat(big)).size;
  const reports: number[] = [];
  const layouts: unknown[] = [];
  for await (const _ of csvRows({
    input: big,
    features: 4,
    classes: 10,
    onError: 'fail',
    onBytes: (b) => reports.push(b),
    onLayout: (l) => layouts.push(l),
  })) {
    // drain
  }
  t.is(layouts.length, 1);
  t.is(reports.at(-1), bigSize);
  for (let i = 1; i < reports.length; i++) {
    t.true(reports[i] > reports[i - 1]);
    if (i < reports.length - 1) t.true(reports[i] - reports[i - 1] >= 64 * 1024);
  }
  t.true(reports.length <= Math.ceil(bigSize / (64 * 1024)) + 1);
  const small: number[] = [];
  for await (const _ of csvRows({
    input: path,
    features: 784,
    classes: 10,
    onError: 'fail',
    onBytes: (b) => small.push(b),
  })) {
    // drain
  }
  t.deepEqual(small, [size]);
});

test('bad options are programming errors (RangeError/TypeError), not data errors', async (t) => {
  const input = fixture('csv/label-first.csv');
  const run = (extra: object) => collect({ input, ...extra });
  await t.throwsAsync(run({ features: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ classes: 40_000 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ onError: 'ignore' }), { instanceOf: RangeError });
  await t.throwsAsync(run({ limit: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ maxRecordBytes: 1.5 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ input: '' }), { instanceOf: TypeError });
});
