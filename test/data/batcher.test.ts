// Batching: sizes and boundaries, order, labels/lines, normalisation through the table; pixel buffers
// in shared memory, never shared by two live batches and reused once released; exact batches again
// from decoded blocks whose bad rows were left out (rebatch), with a limit on good rows.
import test from 'ava';
import { batchRows, rebatch } from '../../src/data/batcher.js';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Batch, DecodedBlock, Row, RowError } from '../../src/data/types.js';

const features = 3;
const unit = normalizationTable('unit');

function makeRows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    label: i % 4 === 3 ? null : i % 10,
    pixels: Uint8Array.from([i % 256, (i * 7) % 256, 255 - (i % 256)]),
  }));
}

async function* asAsync<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function batches(rows: Row[], batchSize: number, table = unit): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of batchRows(asAsync(rows), { batchSize, features, table })) out.push(batch);
  return out;
}

function checkContents(t: import('ava').ExecutionContext, rows: Row[], out: Batch[], table = unit) {
  let r = 0;
  out.forEach((batch, b) => {
    t.is(batch.index, b);
    t.is(batch.features, features);
    t.is(batch.x.length, batch.rows * features);
    t.is(batch.labels.length, batch.rows);
    t.is(batch.lines.length, batch.rows);
    for (let i = 0; i < batch.rows; i++, r++) {
      const row = rows[r];
      t.is(batch.lines[i], row.line);
      t.is(batch.labels[i], row.label ?? -1);
      for (let j = 0; j < features; j++) t.is(batch.x[i * features + j], table[row.pixels[j]]);
    }
  });
  t.is(r, rows.length);
}

for (const [name, count, size, expectedSizes] of [
  ['batch size 1', 4, 1, [1, 1, 1, 1]],
  ['batch size 3 with a short last batch', 10, 3, [3, 3, 3, 1]],
  ['an exact multiple', 9, 3, [3, 3, 3]],
  ['batch size larger than the input', 5, 100, [5]],
  ['a single row', 1, 100, [1]],
] as const) {
  test(name, async (t) => {
    const rows = makeRows(count);
    const out = await batches(rows, size);
    t.deepEqual(
      out.map((b) => b.rows),
      [...expectedSizes],
    );
    checkContents(t, rows, out);
  });
}

test('no rows, no batches', async (t) => {
  t.deepEqual(await batches([], 10), []);
});

test("'none' normalisation passes the bytes through as floats", async (t) => {
  const rows = makeRows(5);
  const none = normalizationTable('none');
  const out = await batches(rows, 2, none);
  checkContents(t, rows, out, none);
  t.is(out[0].x[2], 255);
});

test('pixels live in shared memory; live batches never share a buffer; released ones are reused', async (t) => {
  const live: Batch[] = [];
  for await (const batch of batchRows(asAsync(makeRows(10)), { batchSize: 3, features, table: unit })) live.push(batch);
  t.true(live.every((b) => b.x.buffer instanceof SharedArrayBuffer));
  t.is(new Set(live.map((b) => b.x.buffer)).size, live.length);
  t.is(live[3].x.length, 1 * features, 'the short last batch is a view of exactly its rows');
  const seen = new Set<ArrayBufferLike>();
  for await (const batch of batchRows(asAsync(makeRows(30)), { batchSize: 3, features, table: unit })) {
    seen.add(batch.x.buffer);
    batch.release();
  }
  t.is(seen.size, 1, 'each batch released before the next: one buffer serves them all');
});

const decoded = (rows: Array<[line: number, label: number]>, errors: RowError[] = []): DecodedBlock => ({
  batch:
    rows.length === 0
      ? null
      : {
          index: 0,
          rows: rows.length,
          features,
          x: Float32Array.from(rows.flatMap(([line]) => [line, line + 0.5, line + 0.25])),
          labels: Int16Array.from(rows.map(([, label]) => label)),
          lines: Uint32Array.from(rows.map(([line]) => line)),
        },
  errors,
  failure: null,
});

test(
  'rebatch: exact batches again from short decoded blocks, bad rows reported in order, a limit on good rows; a ' +
    'group of blocks ' +
    'gives the batches it completed',
  async (t) => {
    const blocks = [
      decoded(
        [
          [1, 1],
          [2, 2],
        ],
        [{ line: 3, message: 'bad' }],
      ),
      decoded(
        [],
        [
          { line: 4, message: 'bad' },
          { line: 5, message: 'bad' },
        ],
      ),
      decoded([
        [6, 6],
        [7, 7],
        [8, 8],
      ]),
      decoded([[9, 9]]),
    ];
    const reported: number[] = [];
    const out: Batch[] = [];
    for await (const group of rebatch(asAsync(blocks.map((b) => [b])), {
      batchSize: 2,
      features,
      file: 'in.csv',
      onError: 'skip',
      onRowError: (e) => reported.push(e.line),
    })) {
      for (const batch of group) {
        out.push({ ...batch, x: batch.x.slice(), labels: batch.labels.slice(), lines: batch.lines.slice() });
        batch.release();
      }
    }
    t.deepEqual(reported, [3, 4, 5]);
    t.deepEqual(
      out.map((b) => [b.index, b.rows, Array.from(b.lines)]),
      [
        [0, 2, [1, 2]],
        [1, 2, [6, 7]],
        [2, 2, [8, 9]],
      ],
    );
    t.deepEqual(Array.from(out[1].x), [6, 6.5, 6.25, 7, 7.5, 7.25]);
    t.deepEqual(Array.from(out[2].labels), [8, 9]);
    const limited: number[] = [];
    const limitedErrors: number[] = [];
    const options = {
      batchSize: 2,
      features,
      limit: 3,
      file: 'in.csv',
      onError: 'skip' as const,
      onRowError: (e: RowError) => limitedErrors.push(e.line),
    };
    for await (const group of rebatch(asAsync([blocks]), options))
      for (const batch of group) limited.push(...batch.lines);
    t.deepEqual(limited, [1, 2, 6]);
    const groups: number[][] = [];
    for await (const group of rebatch(asAsync([blocks.slice(0, 3), blocks.slice(3)]), {
      batchSize: 2,
      features,
      file: 'in.csv',
      onError: 'skip',
    }))
      groups.push(group.map((b) => b.index));
    t.deepEqual(groups, [[0, 1], [2]]);
    t.deepEqual(limitedErrors, [3, 4, 5]);
    // A bad row after the limit-th row in the same block does not count.
    const after: number[] = [];
    const tail = [decoded([[1, 1]], [{ line: 2, message: 'bad' }])];
    for await (const group of rebatch(asAsync([tail]), { ...options, limit: 1, onRowError: (e) => after.push(e.line) }))
      group.forEach((batch) => batch.release());
    t.deepEqual(after, []);
  },
);

test(
  'rebatch: under fail the first bad row is a DataError; a line that cannot be read ends it after the rows before ' +
    'it',
  async (t) => {
    const failing = rebatch(asAsync([[decoded([[1, 1]])], [decoded([[3, 3]], [{ line: 2, message: 'bad value' }])]]), {
      batchSize: 5,
      features,
      file: 'in.csv',
      onError: 'fail',
    });
    await t.throwsAsync(failing.next(), { message: 'in.csv:2: bad value' });
    const unreadable = { ...decoded([[5, 5]]), failure: { line: 6, message: 'cannot read it' } };
    const seen: number[] = [];
    const run = async () => {
      for await (const group of rebatch(
        asAsync([
          [
            decoded([
              [1, 1],
              [2, 2],
            ]),
            unreadable,
          ],
        ]),
        { batchSize: 2, features, file: 'in.csv', onError: 'skip' },
      ))
        for (const batch of group) seen.push(...batch.lines);
    };
    await t.throwsAsync(run(), { message: 'in.csv:6: cannot read it' });
    t.deepEqual(seen, [1, 2]);
  },
);

test('a row with the wrong number of pixels is a programming error', async (t) => {
  const rows = makeRows(2);
  rows[1] = { ...rows[1], pixels: new Uint8Array(4) };
  await t.throwsAsync(batches(rows, 10), { instanceOf: RangeError, message: /line 3 has 4 pixels, expected 3/ });
});

test('bad options are rejected', async (t) => {
  const run = (options: object) =>
    batchRows(asAsync(makeRows(1)), { batchSize: 1, features, table: unit, ...options }).next();
  await t.throwsAsync(run({ batchSize: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ batchSize: 2.5 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ features: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ table: new Float32Array(255) }), { instanceOf: RangeError });
  await t.throwsAsync(rebatch(asAsync([]), { batchSize: 0, features, file: 'in.csv', onError: 'skip' }).next(), {
    instanceOf: RangeError,
  });
});
