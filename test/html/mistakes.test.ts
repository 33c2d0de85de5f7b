// The bounded collector behind the HTML report's images: heaps that keep the best rows, per-cell examples,
// and pixels turned back into the input's bytes.
import test from 'ava';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Batch } from '../../src/data/types.js';
import { BoundedBestHeap, MistakeCollector, byteFromNormalized } from '../../src/stats/mistakes.js';
import { pixelByte, random, syntheticBatches } from './synthetic.js';

test('the heap keeps the best `capacity` scores, earlier lines winning ties, best first', (t) => {
  const heap = new BoundedBestHeap<{ score: number; line: number }>(5);
  const next = random(3);
  const all: { score: number; line: number }[] = [];
  for (let line = 1; line <= 1000; line++) {
    const score = Math.floor(next() * 50); // many ties
    all.push({ score, line });
    heap.offer(score, line, (recycled) => Object.assign(recycled ?? { score, line }, { score, line }));
  }
  t.is(heap.size, 5);
  const expected = [...all].sort((a, b) => b.score - a.score || a.line - b.line).slice(0, 5);
  t.deepEqual(heap.sorted(), expected);
});

test('a full heap recycles the evicted item and rejects worse rows with one comparison', (t) => {
  const heap = new BoundedBestHeap<{ score: number; line: number; buffer: Uint8Array }>(2);
  const made: Uint8Array[] = [];
  const make = (score: number, line: number) => (recycled?: { score: number; line: number; buffer: Uint8Array }) => {
    const item = recycled ?? { score, line, buffer: new Uint8Array(4) };
    if (!recycled) made.push(item.buffer);
    return Object.assign(item, { score, line });
  };
  for (const [score, line] of [[1, 1], [2, 2], [3, 3], [0, 4], [5, 5]]) heap.offer(score, line, make(score, line));
  t.is(made.length, 2, 'only two buffers ever allocated');
  t.deepEqual(heap.sorted().map((i) => i.line), [5, 3]);
  t.false(heap.accepts(3, 6), 'a tie with the worst kept row loses to the earlier line');
  t.true(heap.accepts(3, 2));
  t.false(new BoundedBestHeap(0).accepts(1, 1));
});

test('unit normalisation: round(x * 255) gives back every byte exactly; none: x itself', (t) => {
  for (const mode of ['unit', 'none'] as const) {
    const table = normalizationTable(mode);
    const toByte = byteFromNormalized(mode);
    for (let b = 0; b < 256; b++) t.is(toByte(table[b]), b, `${mode} ${b}`);
  }
  const toByte = byteFromNormalized('unit');
  t.is(toByte(2), 255, 'clamped above');
  t.is(toByte(-1), 0, 'clamped below');
  t.is(toByte(Number.NaN), 0);
});

for (const normalize of ['unit', 'none'] as const) {
  test(`kept images hold the input bytes exactly (${normalize})`, (t) => {
    const collector = new MistakeCollector({ classes: 10, features: 784, normalize, capacity: 50, perCell: 3 });
    for (const { batch, scored } of syntheticBatches({ rows: 2000, batchSize: 64, errorRate: 0.3, normalize })) collector.onBatch(batch, scored);
    const result = collector.result();
    const kept = [...result.gallery, ...result.cells!.flat(2)];
    t.true(kept.length > 100);
    for (const image of kept) {
      // Line L is row (L - 1) % 64 of batch floor((L - 1) / 64), whose x came from pool buffer index % 4.
      const index = Math.floor((image.line - 1) / 64);
      const row = (image.line - 1) % 64;
      const expected = Uint8Array.from({ length: 784 }, (_, i) => pixelByte(index % 4, row, i));
      t.deepEqual(image.pixels, expected, `line ${image.line}`);
    }
  });
}

test('the gallery holds the most confident mistakes, bounded, and cells at most K examples each', (t) => {
  const capacity = 40;
  const perCell = 5;
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', capacity, perCell });
  const seen: { line: number; label: number; predicted: number; confidence: number }[] = [];
  for (const { batch, scored } of syntheticBatches({ rows: 20_000, batchSize: 100, errorRate: 0.2 })) {
    collector.onBatch(batch, scored);
    for (let r = 0; r < batch.rows; r++) {
      seen.push({ line: batch.lines[r], label: batch.labels[r], predicted: scored.predicted[r], confidence: scored.confidence[r] });
    }
  }
  const result = collector.result();
  const mistakes = seen.filter((s) => s.label !== s.predicted);
  t.is(result.kind, 'mistakes');
  t.is(result.mistakes, mistakes.length);
  t.is(result.labeled, 20_000);
  const best = [...mistakes].sort((a, b) => b.confidence - a.confidence || a.line - b.line).slice(0, capacity);
  t.deepEqual(
    result.gallery.map(({ line, label, predicted, confidence }) => ({ line, label, predicted, confidence })),
    best,
  );
  t.is(result.cells!.length, 10);
  for (let tr = 0; tr < 10; tr++) {
    for (let p = 0; p < 10; p++) {
      const cell = result.cells![tr][p];
      const rows = seen.filter((s) => s.label === tr && s.predicted === p);
      t.is(cell.length, Math.min(perCell, rows.length));
      // Mistakes: most confident first; the diagonal: least confident (close calls) first.
      const sign = tr === p ? 1 : -1;
      const expected = rows.sort((a, b) => sign * (a.confidence - b.confidence) || a.line - b.line).slice(0, perCell);
      t.deepEqual(cell.map((c) => c.line), expected.map((e) => e.line), `cell ${tr}-${p}`);
    }
  }
});

test('unlabeled input: the least confident predictions, no cells', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', capacity: 25 });
  const seen: { line: number; confidence: number }[] = [];
  for (const { batch, scored } of syntheticBatches({ rows: 3000, batchSize: 50, labeled: false })) {
    collector.onBatch(batch, scored);
    for (let r = 0; r < batch.rows; r++) seen.push({ line: batch.lines[r], confidence: scored.confidence[r] });
  }
  const result = collector.result();
  t.is(result.kind, 'uncertain');
  t.is(result.cells, null);
  t.is(result.unlabeled, 3000);
  t.is(result.mistakes, 0);
  const expected = seen.sort((a, b) => a.confidence - b.confidence || a.line - b.line).slice(0, 25);
  t.deepEqual(result.gallery.map((g) => g.line), expected.map((e) => e.line));
  t.true(result.gallery.every((g) => g.label === -1));
});

test('the result does not depend on how rows are split into batches', (t) => {
  const collect = (batchSize: number) => {
    const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', capacity: 30, perCell: 4 });
    // Same rows, different batch sizes: re-batch one stream of rows.
    const rows = [...syntheticBatches({ rows: 1000, batchSize: 1000, errorRate: 0.5 })][0];
    for (let start = 0; start < 1000; start += batchSize) {
      const n = Math.min(batchSize, 1000 - start);
      const batch: Batch = {
        index: start / batchSize,
        rows: n,
        features: 784,
        x: rows.batch.x.slice(start * 784, (start + n) * 784),
        labels: rows.batch.labels.slice(start, start + n),
        lines: rows.batch.lines.slice(start, start + n),
      };
      collector.onBatch(batch, { predicted: rows.scored.predicted.slice(start, start + n), confidence: rows.scored.confidence.slice(start, start + n) });
    }
    const r = collector.result();
    return { gallery: r.gallery.map((g) => g.line), cells: r.cells!.map((row) => row.map((c) => c.map((i) => i.line))) };
  };
  t.deepEqual(collect(7), collect(1000));
});

test('memory stays bounded: kept images never exceed capacity + classes² x K', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', capacity: 200, perCell: 12 });
  for (const { batch, scored } of syntheticBatches({ rows: 200_000, batchSize: 1000, errorRate: 0.5 })) collector.onBatch(batch, scored);
  const result = collector.result();
  t.is(result.gallery.length, 200);
  t.is(result.cells!.flat().reduce((n, c) => n + c.length, 0), 100 * 12);
});

test('bad options are refused', (t) => {
  t.throws(() => new MistakeCollector({ classes: 0, features: 784, normalize: 'unit' }), { instanceOf: RangeError });
  t.throws(() => new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', perCell: -1 }), { instanceOf: RangeError });
  t.throws(() => new MistakeCollector({ classes: 10, features: 784, normalize: 'zscore' as never }), { instanceOf: RangeError });
});
