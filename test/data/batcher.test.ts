// Batching: sizes and boundaries, order, labels/lines, normalisation through the table, and a fresh,
// exactly sized buffer per batch that can be transferred without touching any other batch.
import test from 'ava';
import { batchRows } from '../../src/data/batcher.js';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Batch, Row } from '../../src/data/types.js';

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

test('every batch owns fresh buffers of exactly its size', async (t) => {
  const out = await batches(makeRows(10), 3);
  const buffers = out.flatMap((b) => [b.x.buffer, b.labels.buffer, b.lines.buffer]);
  t.is(new Set(buffers).size, buffers.length);
  for (const b of out) {
    t.is(b.x.byteOffset, 0);
    t.is(b.x.buffer.byteLength, b.rows * features * 4);
    t.is(b.labels.buffer.byteLength, b.rows * 2);
    t.is(b.lines.buffer.byteLength, b.rows * 4);
  }
});

test('transferring a batch as soon as it is yielded leaves the next batches intact', async (t) => {
  const rows = makeRows(7);
  const kept: Array<{ rows: number; x: number[]; lines: number[] }> = [];
  for await (const batch of batchRows(asAsync(rows), { batchSize: 2, features, table: unit })) {
    // What a worker pool does: move x (and the rest) to another thread; the originals detach.
    const moved = structuredClone(batch, { transfer: [batch.x.buffer, batch.labels.buffer, batch.lines.buffer] as ArrayBuffer[] });
    t.is(batch.x.length, 0);
    kept.push({ rows: moved.rows, x: Array.from(moved.x), lines: Array.from(moved.lines) });
  }
  t.deepEqual(
    kept.map((k) => k.rows),
    [2, 2, 2, 1],
  );
  const allLines = kept.flatMap((k) => k.lines);
  t.deepEqual(
    allLines,
    rows.map((r) => r.line),
  );
  t.deepEqual(
    kept.flatMap((k) => k.x),
    rows.flatMap((r) => Array.from(r.pixels, (p) => unit[p])),
  );
});

test('a row with the wrong number of pixels is a programming error', async (t) => {
  const rows = makeRows(2);
  rows[1] = { ...rows[1], pixels: new Uint8Array(4) };
  await t.throwsAsync(batches(rows, 10), { instanceOf: RangeError, message: /line 3 has 4 pixels, expected 3/ });
});

test('bad options are rejected', async (t) => {
  const run = (options: object) => batchRows(asAsync(makeRows(1)), { batchSize: 1, features, table: unit, ...options }).next();
  await t.throwsAsync(run({ batchSize: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ batchSize: 2.5 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ features: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(run({ table: new Float32Array(255) }), { instanceOf: RangeError });
});
