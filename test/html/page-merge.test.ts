// The page of a merged run: the images picked from the shards' held images (each shard counting lines from
// its own first line) are exactly those one collector over the whole input picks, for any cut; the page
// state survives its JSON form (encodePageState -> readPageStates); latency buckets sum; a shard without
// page data is refused by name.
import test from 'ava';
import type { Batch } from '../../src/data/types.js';
import { MistakeCollector, mergeHeldImages, type CollectedImages, type KeptImage } from '../../src/html/mistakes.js';
import {
  encodePageState,
  mergedPageInput,
  readPageStates,
  summedTimeline,
  type PagePart,
} from '../../src/html/page-state.js';
import type { PipelineReport } from '../../src/stats/report.js';
import { MergeError } from '../../src/stats/merge.js';
import { random } from './synthetic.js';

const FEATURES = 4;

interface Row {
  label: number;
  predicted: number;
  confidence: number;
}

interface Scenario {
  name: string;
  rows: number;
  classes: number;
  budget: number;
  /** Share of labeled rows predicted wrong. */
  errorRate: number;
  /** Share of rows without a label. */
  unlabeledRate: number;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'few mistakes: close calls fill the budget',
    rows: 3000,
    classes: 10,
    budget: 240,
    errorRate: 0.02,
    unlabeledRate: 0,
  },
  { name: 'more mistakes than the budget', rows: 3000, classes: 10, budget: 240, errorRate: 0.3, unlabeledRate: 0 },
  { name: 'unlabeled input', rows: 2000, classes: 10, budget: 240, errorRate: 0, unlabeledRate: 1 },
  {
    name: 'a mix, fewer labeled rows than the budget',
    rows: 500,
    classes: 4,
    budget: 60,
    errorRate: 0.2,
    unlabeledRate: 0.9,
  },
  { name: 'fewer rows than the budget', rows: 100, classes: 10, budget: 240, errorRate: 0.1, unlabeledRate: 0.2 },
  { name: 'a small budget, many groups', rows: 1500, classes: 6, budget: 7, errorRate: 0.5, unlabeledRate: 0.1 },
];

/** Rows with coarse confidences (many ties, broken by the line) and a given error rate. */
function makeRows(s: Scenario, seed: number): Row[] {
  const next = random(seed);
  return Array.from({ length: s.rows }, () => {
    const label = next() < s.unlabeledRate ? -1 : Math.floor(next() * s.classes);
    const truth = label === -1 ? Math.floor(next() * s.classes) : label;
    const wrong = next() < s.errorRate;
    const predicted = wrong ? (truth + 1 + Math.floor(next() * (s.classes - 1))) % s.classes : truth;
    return { label, predicted, confidence: Math.round(next() * 20) / 20 };
  });
}

/** Pixels that name their absolute line, so that a merged image can be checked against the row it came from. */
const pixelsOf = (line: number) => [line & 255, (line >> 8) & 255, (line * 7) & 255, 3];

/** Feeds rows [from, to) in batches of random sizes, their lines counted from `firstLine`. */
function feed(
  collector: MistakeCollector,
  rows: Row[],
  from: number,
  to: number,
  firstLine: number,
  next: () => number,
): void {
  for (let at = from; at < to; ) {
    const n = Math.min(to - at, 1 + Math.floor(next() * 40));
    const x = new Float32Array(n * FEATURES);
    for (let r = 0; r < n; r++) pixelsOf(at + r + 1).forEach((byte, i) => (x[r * FEATURES + i] = byte));
    const batch: Batch = {
      index: 0,
      rows: n,
      features: FEATURES,
      x,
      labels: Int16Array.from(rows.slice(at, at + n), (r) => r.label),
      lines: Uint32Array.from({ length: n }, (_, r) => firstLine + (at - from) + r),
    };
    collector.onBatch(batch, {
      predicted: Int32Array.from(rows.slice(at, at + n), (r) => r.predicted),
      confidence: Float32Array.from(rows.slice(at, at + n), (r) => r.confidence),
    });
    at += n;
  }
}

const collectorFor = (s: Scenario) =>
  new MistakeCollector({ classes: s.classes, features: FEATURES, normalize: 'none', budget: s.budget });

/** `count` parts' start indices: random cuts (some parts may be empty). */
function cuts(rows: number, count: number, next: () => number): number[] {
  const inner = Array.from({ length: count - 1 }, () => Math.floor(next() * (rows + 1))).sort((a, b) => a - b);
  return [0, ...inner, rows];
}

const plain = (images: CollectedImages) => ({
  ...images,
  mistakes: images.mistakes.map(plainImage),
  closeCalls: images.closeCalls.map(plainImage),
  uncertain: images.uncertain.map(plainImage),
});
const plainImage = (i: KeptImage) => ({
  line: i.line,
  label: i.label,
  predicted: i.predicted,
  confidence: i.confidence,
  pixels: Array.from(i.pixels),
});

for (const scenario of SCENARIOS) {
  test(`merged images equal one run's for 2, 3 and 7 random cuts: ${scenario.name}`, (t) => {
    for (const [trial, count] of [2, 3, 7, 2, 3, 7].entries()) {
      const next = random(1000 + trial);
      const rows = makeRows(scenario, 17 + trial);
      const whole = collectorFor(scenario);
      feed(whole, rows, 0, rows.length, 1, next);
      const bounds = cuts(rows.length, count, next);
      const parts = bounds.slice(0, -1).map((from, i) => {
        const collector = collectorFor(scenario);
        feed(collector, rows, from, bounds[i + 1], 1, next);
        return { held: collector.heldImages(), lineOffset: from };
      });
      const expected = plain(whole.result());
      t.deepEqual(plain(mergeHeldImages(parts)), expected, `${count} parts cut at ${bounds.join(', ')}`);
      // And through the report's JSON form.
      const pageParts: PagePart[] = parts.map(({ held, lineOffset }, i) => ({
        name: `shard ${i + 1}/${count}`,
        page: JSON.parse(
          JSON.stringify(
            encodePageState({
              held,
              features: FEATURES,
              latency: { minMs: 0.001, perDecade: 20, batch: [1, 0, 2], compute: [0, 1, 0] },
              throughput: { maxPoints: 60, windowMs: 50, points: [] },
            }),
          ),
        ),
        rows: held.labeled + held.unlabeled,
        lineOffset,
        startMs: 0,
      }));
      const input = mergedPageInput({} as PipelineReport, pageParts);
      t.deepEqual(plain(input.images), expected);
      t.deepEqual(Array.from(input.latency.batch), [count, 0, 2 * count], 'latency buckets summed');
      t.is(input.mergedShards, count);
    }
  });
}

test('a merged image carries the pixels of its absolute line', (t) => {
  const s = SCENARIOS[0];
  const rows = makeRows(s, 5);
  const next = random(9);
  const parts = [0, 1000, 2000].map((from) => {
    const collector = collectorFor(s);
    feed(collector, rows, from, from + 1000, 1, next);
    return { held: collector.heldImages(), lineOffset: from };
  });
  const merged = mergeHeldImages(parts);
  for (const image of [...merged.mistakes, ...merged.closeCalls])
    t.deepEqual(Array.from(image.pixels), pixelsOf(image.line));
});

test('merge --html refuses shards without page data, naming each; shards without rows need none', (t) => {
  const part = (name: string, page: unknown, rows: number): PagePart => ({
    name,
    page,
    rows,
    lineOffset: 0,
    startMs: 0,
  });
  const error = t.throws(
    () => readPageStates([part('a.json', undefined, 5), part('b.json', undefined, 0), part('c.json', undefined, 3)]),
    { instanceOf: MergeError },
  );
  t.is(error.code, 'PIPE_ERR_MERGE');
  t.regex(error.message, /^--html: a\.json, c\.json have no page data \(partial\.page\)/);
  t.throws(() => readPageStates([part('d.json', { features: 'many' }, 1)]), {
    instanceOf: MergeError,
    message: /^d\.json: cannot be merged into a page: partial\.page\.features/,
  });
});

test('the summed throughput: each shard on the wall clock from its start, rows and rates added', (t) => {
  const points = summedTimeline(
    [
      {
        startMs: 0,
        points: [
          [1, 100, 100],
          [2, 100, 200],
        ],
      },
      {
        startMs: 1000,
        points: [
          [1, 50, 50],
          [2, 50, 100],
        ],
      },
    ],
    3,
  );
  t.deepEqual(
    points.map((p) => p.seconds),
    [1, 2, 3],
  );
  t.deepEqual(
    points.map((p) => p.rows),
    [100, 250, 300],
  );
  t.deepEqual(
    points.map((p) => p.imagesPerSecond),
    [100, 150, 50],
  );
});

test("the summed throughput ends with every row, whatever the rounding of the shards' starts", (t) => {
  const points = summedTimeline(
    [
      {
        startMs: 0,
        points: [
          [0.1, 300, 30],
          [0.2, 100, 70],
        ],
      },
      {
        startMs: 333.3,
        points: [
          [0.1, 200, 20],
          [0.3, 150, 1_000_000],
        ],
      }, // ends last: (333.3 + 300 - 333.3) / 1000 < 0.3 in float64
      { startMs: 12.7, points: [[0.31, 10, 1]] },
    ],
    7,
  );
  t.is(points.at(-1)!.rows, 70 + 1_000_000 + 1);
});
