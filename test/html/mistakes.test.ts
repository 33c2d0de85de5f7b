// The bounded collector behind the HTML report's images: a fixed budget T of images, filled with mistakes
// round-robin across the confusion cells, then close calls round-robin across the classes; heaps that keep
// only what that pick can need; pixels turned back into the input's bytes.
import test from 'ava';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Batch } from '../../src/data/types.js';
import {
  BoundedBestHeap,
  DEFAULT_IMAGE_BUDGET,
  MistakeCollector,
  RoundRobinCandidates,
  byteFromNormalized,
  type CollectedImages,
} from '../../src/html/mistakes.js';
import { pixelByte, random, syntheticBatches } from './synthetic.js';

interface Seen {
  line: number;
  label: number;
  predicted: number;
  confidence: number;
}

/** Better first: higher score, then the earlier line. */
const rank = <T extends { score: number; line: number }>(a: T, b: T) => b.score - a.score || a.line - b.line;

/** The reference round-robin pick over everything (no bounded memory): what the collector must reproduce. */
function roundRobin<T extends { score: number; line: number }>(groups: T[][], budget: number): T[] {
  const lists = groups.map((g) => [...g].sort(rank));
  const picked: T[] = [];
  for (let round = 0; picked.length < budget; round++) {
    const items = lists.filter((l) => l.length > round).map((l) => l[round]);
    if (items.length === 0) break;
    picked.push(...items.sort(rank).slice(0, budget - picked.length));
  }
  return picked;
}

/** The collector's pick, computed from every row seen: mistakes, then close calls, then unlabeled rows. */
function expectedPick(seen: Seen[], classes: number, budget: number) {
  const mistakes = seen.filter((s) => s.label >= 0 && s.label !== s.predicted);
  const cells = Array.from({ length: classes * classes }, () => [] as (Seen & { score: number })[]);
  for (const m of mistakes) cells[m.label * classes + m.predicted].push({ ...m, score: m.confidence });
  const pickedMistakes = roundRobin(cells, budget);
  const classLists = Array.from({ length: classes }, () => [] as (Seen & { score: number })[]);
  for (const s of seen)
    if (s.label >= 0 && s.label === s.predicted) classLists[s.label].push({ ...s, score: -s.confidence });
  const closeCalls = roundRobin(classLists, Math.max(0, budget - mistakes.length));
  const unlabeled = seen
    .filter((s) => s.label < 0)
    .map((s) => ({ ...s, score: -s.confidence }))
    .sort(rank)
    .slice(0, budget - pickedMistakes.length - closeCalls.length);
  const strip = (list: (Seen & { score: number })[]) =>
    list.sort(rank).map(({ line, label, predicted, confidence }) => ({ line, label, predicted, confidence }));
  return { mistakes: strip(pickedMistakes), closeCalls: strip(closeCalls), uncertain: strip(unlabeled) };
}

const described = (r: CollectedImages) => ({
  mistakes: r.mistakes.map(({ line, label, predicted, confidence }) => ({ line, label, predicted, confidence })),
  closeCalls: r.closeCalls.map(({ line, label, predicted, confidence }) => ({ line, label, predicted, confidence })),
  uncertain: r.uncertain.map(({ line, label, predicted, confidence }) => ({ line, label, predicted, confidence })),
});

/** Feeds the collector and records every row, checking the memory bound after every batch. */
function collect(
  t: import('ava').ExecutionContext,
  collector: MistakeCollector,
  batches: Iterable<{ batch: Batch; scored: { predicted: Int32Array; confidence: Float32Array } }>,
) {
  const seen: Seen[] = [];
  let mostHeld = 0;
  for (const { batch, scored } of batches) {
    collector.onBatch(batch, scored);
    mostHeld = Math.max(mostHeld, collector.held);
    for (let r = 0; r < batch.rows; r++)
      seen.push({
        line: batch.lines[r],
        label: batch.labels[r],
        predicted: scored.predicted[r],
        confidence: scored.confidence[r],
      });
  }
  const k = collector.classes;
  const labeled = seen.some((s) => s.label >= 0);
  const unlabeled = seen.some((s) => s.label < 0);
  // Worst case: T + k(k - 1) images for labeled input, T for unlabeled input.
  const bound = (labeled ? collector.budget + k * (k - 1) : 0) + (unlabeled ? collector.budget : 0);
  t.true(mostHeld <= bound, `held ${mostHeld} images, bound ${bound}`);
  return { seen, result: collector.result(), mostHeld };
}

/** One batch from explicit rows (pixels: row index pattern). */
function batchOf(index: number, firstLine: number, rows: { label: number; predicted: number; confidence: number }[]) {
  const features = 784;
  const table = normalizationTable('unit');
  const x = new Float32Array(rows.length * features);
  for (let r = 0; r < rows.length; r++)
    for (let i = 0; i < features; i++) x[r * features + i] = table[pixelByte(0, r, i)];
  const batch: Batch = {
    index,
    rows: rows.length,
    features,
    x,
    labels: Int16Array.from(rows.map((r) => r.label)),
    lines: Uint32Array.from(rows.map((_, i) => firstLine + i)),
  };
  return {
    batch,
    scored: {
      predicted: Int32Array.from(rows.map((r) => r.predicted)),
      confidence: Float32Array.from(rows.map((r) => r.confidence)),
    },
  };
}

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
  const expected = [...all].sort(rank).slice(0, 5);
  t.deepEqual(heap.sorted(), expected);
  heap.setCapacity(2);
  t.deepEqual(heap.sorted(), expected.slice(0, 2), 'a lower capacity drops the worst');
  t.throws(() => heap.setCapacity(-1), { instanceOf: RangeError });
});

test('a full heap recycles the evicted item and rejects worse rows with one comparison', (t) => {
  const heap = new BoundedBestHeap<{ score: number; line: number; buffer: Uint8Array }>(2);
  const made: Uint8Array[] = [];
  const make = (score: number, line: number) => (recycled?: { score: number; line: number; buffer: Uint8Array }) => {
    const item = recycled ?? { score, line, buffer: new Uint8Array(4) };
    if (!recycled) made.push(item.buffer);
    return Object.assign(item, { score, line });
  };
  for (const [score, line] of [
    [1, 1],
    [2, 2],
    [3, 3],
    [0, 4],
    [5, 5],
  ])
    heap.offer(score, line, make(score, line));
  t.is(made.length, 2, 'only two buffers ever allocated');
  t.deepEqual(
    heap.sorted().map((i) => i.line),
    [5, 3],
  );
  t.false(heap.accepts(3, 6), 'a tie with the worst kept row loses to the earlier line');
  t.true(heap.accepts(3, 2));
  t.false(new BoundedBestHeap(0).accepts(1, 1));
});

test('round-robin candidates: the bounded pick equals the pick over everything, in at most budget + groups items', (t) => {
  const next = random(42);
  for (let trial = 0; trial < 300; trial++) {
    const groups = 1 + Math.floor(next() * 12);
    let budget = Math.floor(next() * 40);
    const candidates = new RoundRobinCandidates<{ score: number; line: number }>(groups, budget);
    // Skewed groups: some get most rows, some none; few distinct scores, so ties matter.
    const weights = Array.from({ length: groups }, () => (next() < 0.3 ? 0 : next() ** 3));
    const total = weights.reduce((a, b) => a + b, 0) || 1;
    const all = Array.from({ length: groups }, () => [] as { score: number; line: number }[]);
    const rows = Math.floor(next() * 400);
    for (let line = 1; line <= rows; line++) {
      let u = next() * total;
      let g = 0;
      while (g < groups - 1 && u >= weights[g]) u -= weights[g++];
      const score = Math.floor(next() * 20);
      all[g].push({ score, line });
      candidates.offer(g, score, line, (recycled) => Object.assign(recycled ?? { score, line }, { score, line }));
      if (next() < 0.02) {
        budget = Math.max(0, budget - Math.floor(next() * 5));
        candidates.lowerBudget(budget);
      }
      t.true(candidates.held <= candidates.budget + groups, `trial ${trial}: held ${candidates.held}`);
    }
    t.deepEqual(
      candidates.pick(),
      roundRobin(all, budget),
      `trial ${trial}: ${groups} groups, budget ${budget}, ${rows} rows`,
    );
    for (let g = 0; g < groups; g++) t.is(candidates.count(g), all[g].length);
  }
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
    const collector = new MistakeCollector({ classes: 10, features: 784, normalize, budget: 150 });
    const { result } = collect(
      t,
      collector,
      syntheticBatches({ rows: 2000, batchSize: 64, errorRate: 0.05, normalize }),
    );
    const kept = [...result.mistakes, ...result.closeCalls];
    t.is(kept.length, 150);
    t.true(result.closeCalls.length > 0, 'both tiers');
    for (const image of kept) {
      // Line L is row (L - 1) % 64 of batch floor((L - 1) / 64), whose x came from pool buffer index % 4.
      const index = Math.floor((image.line - 1) / 64);
      const row = (image.line - 1) % 64;
      const expected = Uint8Array.from({ length: 784 }, (_, i) => pixelByte(index % 4, row, i));
      t.deepEqual(image.pixels, expected, `line ${image.line}`);
    }
  });
}

for (const errorRate of [0, 0.02, 0.3, 1]) {
  test(`exactly min(T, rows) images, and the pick is the round-robin over every row (error rate ${errorRate})`, (t) => {
    for (const rows of [0, 1, 17, 239, 240, 241, 1000, 20_000]) {
      const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit' });
      const { seen, result } = collect(
        t,
        collector,
        syntheticBatches({ rows, batchSize: 97, errorRate, seed: rows + 1 }),
      );
      const shown = result.mistakes.length + result.closeCalls.length + result.uncertain.length;
      t.is(shown, Math.min(DEFAULT_IMAGE_BUDGET, rows), `${rows} rows`);
      t.deepEqual(described(result), expectedPick(seen, 10, DEFAULT_IMAGE_BUDGET), `${rows} rows`);
      t.is(result.mistakeCount, seen.filter((s) => s.label !== s.predicted).length);
      t.is(result.labeled, rows);
    }
  });
}

test(
  'high error rate: T mistakes, every kind of mistake shown, the most confident of each cell first; no close ' +
    'calls',
  (t) => {
    const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit' });
    const { seen, result } = collect(t, collector, syntheticBatches({ rows: 50_000, batchSize: 1000, errorRate: 0.3 }));
    t.is(result.kind, 'mistakes');
    t.is(result.mistakes.length, 240);
    t.is(result.closeCalls.length, 0);
    // 90 non-empty cells, 240 = 2 full rounds (180) + 60 of the third.
    const perCell = new Map<string, number>();
    for (const m of result.mistakes)
      perCell.set(`${m.label}-${m.predicted}`, (perCell.get(`${m.label}-${m.predicted}`) ?? 0) + 1);
    t.is(perCell.size, 90, 'every off-diagonal cell is represented');
    t.true([...perCell.values()].every((n) => n === 2 || n === 3));
    t.is([...perCell.values()].filter((n) => n === 3).length, 60);
    // Each cell's stored images are that cell's most confident mistakes.
    for (const [key, n] of perCell) {
      const [label, predicted] = key.split('-').map(Number);
      const best = seen
        .filter((s) => s.label === label && s.predicted === predicted)
        .sort((a, b) => b.confidence - a.confidence || a.line - b.line)
        .slice(0, n);
      t.deepEqual(
        result.mistakes
          .filter((m) => m.label === label && m.predicted === predicted)
          .map((m) => m.line)
          .sort(),
        best.map((b) => b.line).sort(),
        key,
      );
    }
    // Shown most confident first.
    for (let i = 1; i < result.mistakes.length; i++)
      t.true(result.mistakes[i].confidence <= result.mistakes[i - 1].confidence);
  },
);

test('low error rate: every mistake, then close calls round-robin across the classes, least confident of each first', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit' });
  const { seen, result } = collect(t, collector, syntheticBatches({ rows: 10_000, batchSize: 500, errorRate: 0.01 }));
  const mistakes = seen.filter((s) => s.label !== s.predicted);
  t.true(mistakes.length > 50 && mistakes.length < 240, `${mistakes.length} mistakes`);
  t.is(result.mistakes.length, mistakes.length, 'all mistakes');
  t.is(result.closeCalls.length, 240 - mistakes.length, 'close calls fill the budget');
  const perClass = Array.from({ length: 10 }, (_, c) => result.closeCalls.filter((x) => x.label === c).length);
  t.true(Math.max(...perClass) - Math.min(...perClass) <= 1, `round-robin across classes: ${perClass}`);
  for (const c of result.closeCalls) t.is(c.label, c.predicted);
  for (let i = 1; i < result.closeCalls.length; i++)
    t.true(result.closeCalls[i].confidence >= result.closeCalls[i - 1].confidence, 'least confident first');
  for (let c = 0; c < 10; c++) {
    const least = seen
      .filter((s) => s.label === c && s.predicted === c)
      .sort((a, b) => a.confidence - b.confidence || a.line - b.line)
      .slice(0, perClass[c]);
    t.deepEqual(
      result.closeCalls.filter((x) => x.label === c).map((x) => x.line),
      least.map((l) => l.line),
      `class ${c}`,
    );
  }
});

test('mistakes in a single cell fill the whole budget (the heaps grow when few cells are in use)', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit' });
  const next = random(5);
  const batches = Array.from({ length: 20 }, (_, b) =>
    batchOf(
      b,
      1 + b * 100,
      Array.from({ length: 100 }, () =>
        next() < 0.4 ? { label: 3, predicted: 5, confidence: next() } : { label: 7, predicted: 7, confidence: next() },
      ),
    ),
  );
  const { seen, result, mostHeld } = collect(t, collector, batches);
  t.is(result.mistakes.length, 240);
  t.true(result.mistakes.every((m) => m.label === 3 && m.predicted === 5));
  t.deepEqual(described(result), expectedPick(seen, 10, 240));
  t.true(mostHeld <= 240 + 90);
});

test('mistakes spread over cells later: earlier cells give up their extra images', (t) => {
  // First 1,000 mistakes in cell 1-2 only, then a few in 40 other cells: the pick stays round-robin.
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: 60 });
  const next = random(9);
  const first = batchOf(
    0,
    1,
    Array.from({ length: 1000 }, () => ({ label: 1, predicted: 2, confidence: next() })),
  );
  const cells = Array.from({ length: 40 }, (_, i) => ({
    label: Math.floor(i / 4),
    predicted: (Math.floor(i / 4) + 1 + (i % 4)) % 10,
  }));
  const second = batchOf(
    1,
    1001,
    cells.flatMap((c) => [0, 1, 2].map(() => ({ ...c, confidence: next() }))),
  );
  const { seen, result } = collect(t, collector, [first, second]);
  t.deepEqual(described(result), expectedPick(seen, 10, 60));
  const fromFirst = result.mistakes.filter((m) => m.label === 1 && m.predicted === 2).length;
  t.true(fromFirst <= 3, `cell 1-2 keeps ${fromFirst}`);
});

test('unlabeled input: the T least confident predictions, nothing else', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: 25 });
  const { seen, result } = collect(t, collector, syntheticBatches({ rows: 3000, batchSize: 50, labeled: false }));
  t.is(result.kind, 'uncertain');
  t.is(result.unlabeled, 3000);
  t.is(result.mistakeCount, 0);
  t.deepEqual(result.mistakes, []);
  t.deepEqual(result.closeCalls, []);
  const expected = seen.sort((a, b) => a.confidence - b.confidence || a.line - b.line).slice(0, 25);
  t.deepEqual(
    result.uncertain.map((g) => g.line),
    expected.map((e) => e.line),
  );
  t.true(result.uncertain.every((g) => g.label === -1));
});

test('a mix of labeled and unlabeled rows: the unlabeled fill what the labeled leave', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: 50 });
  const next = random(2);
  const rows = Array.from({ length: 100 }, (_, i) =>
    i % 4 === 0
      ? { label: i % 10, predicted: (i + 1) % 10, confidence: next() }
      : { label: -1, predicted: i % 10, confidence: next() },
  );
  const { seen, result } = collect(t, collector, [batchOf(0, 1, rows.slice(0, 60)), batchOf(1, 61, rows.slice(60))]);
  t.is(result.mistakes.length, 25);
  t.is(result.uncertain.length, 25);
  t.deepEqual(described(result), expectedPick(seen, 10, 50));
});

test('the result does not depend on how rows are split into batches', (t) => {
  const pickWith = (batchSize: number) => {
    const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: 30 });
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
      collector.onBatch(batch, {
        predicted: rows.scored.predicted.slice(start, start + n),
        confidence: rows.scored.confidence.slice(start, start + n),
      });
    }
    return described(collector.result());
  };
  t.deepEqual(pickWith(7), pickWith(1000));
});

test('NaN confidences (a broken model) rank as the least confident and do not break the heaps', (t) => {
  const collector = new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: 10 });
  const rows = Array.from({ length: 30 }, (_, i) => ({
    label: i % 10,
    predicted: i % 10,
    confidence: i % 3 === 0 ? Number.NaN : i / 30,
  }));
  const { result } = collect(t, collector, [batchOf(0, 1, rows)]);
  t.is(result.closeCalls.length, 10);
  t.true(
    result.closeCalls.slice(0, 10).every((c) => Number.isNaN(c.confidence)),
    'NaN first among the least confident',
  );
});

test('bad options are refused', (t) => {
  t.throws(() => new MistakeCollector({ classes: 0, features: 784, normalize: 'unit' }), { instanceOf: RangeError });
  t.throws(() => new MistakeCollector({ classes: 10, features: 784, normalize: 'unit', budget: -1 }), {
    instanceOf: RangeError,
  });
  t.throws(() => new MistakeCollector({ classes: 10, features: 784, normalize: 'zscore' as never }), {
    instanceOf: RangeError,
  });
  t.throws(() => new RoundRobinCandidates(0, 5), { instanceOf: RangeError });
});
