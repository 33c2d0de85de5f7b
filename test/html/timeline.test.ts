// Throughput over time and latency buckets: bounded whatever the number of batches, nothing lost.
import test from 'ava';
import { LatencyBuckets, ThroughputTimeline } from '../../src/stats/timeline.js';

/** A timeline fed batches of `rows` rows finished at the given ms (relative to its start). */
function timelineOf(batches: [at: number, rows: number][], maxPoints = 60): ThroughputTimeline {
  let now = 1000;
  const timeline = new ThroughputTimeline({ maxPoints, now: () => now });
  for (const [at, rows] of batches) {
    now = 1000 + at;
    timeline.record(rows);
  }
  return timeline;
}

test(
  'a steady run: every point is the steady rate, the window is 5% of the run (at least 50 ms), the last point has ' +
    'every row',
  (t) => {
    // 10 rows every 2 ms for 4 s: 5,000 images/s.
    const timeline = timelineOf(Array.from({ length: 2000 }, (_, i) => [(i + 1) * 2, 10]));
    t.is(timeline.windowMs(), 200);
    const points = timeline.points();
    t.is(points.length, 60);
    t.is(points.at(-1)!.seconds, 4);
    t.is(points.at(-1)!.rows, 20_000);
    for (const [i, p] of points.entries()) {
      t.true(Math.abs(p.seconds - ((i + 1) * 4) / 60) < 1e-9, 'evenly spaced');
      // Within a bin (here 64 ms) rows count as spread evenly: a few % off where the window starts mid-bin.
      t.true(Math.abs(p.imagesPerSecond - 5000) / 5000 < 0.05, `${p.seconds} s: ${p.imagesPerSecond}`);
    }
    t.is(
      timelineOf([
        [100, 10],
        [400, 10],
      ]).windowMs(),
      50,
      'short runs: at least 50 ms',
    );
    t.is(timelineOf([[30, 10]]).windowMs(), 30, 'and never longer than the run');
  },
);

test('bursts (results released in order, many in one millisecond) are smoothed to the rate over the window', (t) => {
  // Start-up: nothing for 250 ms; then, for 1 s, 10 batches of 100 rows land together every 25 ms (40,000 images/s).
  const batches: [number, number][] = [];
  for (let at = 275; at <= 1250; at += 25) for (let k = 0; k < 10; k++) batches.push([at + k * 0.01, 100]);
  const timeline = timelineOf(batches);
  const points = timeline.points();
  const rows = batches.length * 100;
  t.is(points.at(-1)!.rows, rows);
  const average = rows / points.at(-1)!.seconds;
  const max = Math.max(...points.map((p) => p.imagesPerSecond));
  t.true(max <= 2 * 40_000, `max ${max}: the bursts' own rate is ~1,000 rows in 0.1 ms (10,000,000 images/s)`);
  t.true(max >= 30_000, `the steady part shows (${max})`);
  t.true(max <= 2 * average, `max ${max} vs average ${average}`);
  for (const p of points.filter((p) => p.seconds + timeline.windowMs() / 1000 < 0.27))
    t.is(p.imagesPerSecond, 0, 'nothing during start-up');
});

test('rows are conserved at any length, memory stays bounded, points are in time order', (t) => {
  for (const batches of [1, 2, 7, 59, 60, 61, 121, 1000, 12_345, 100_000]) {
    const timeline = timelineOf(Array.from({ length: batches }, (_, i) => [(i + 1) * 2, 10]));
    const points = timeline.points();
    t.is(points.length, 60);
    t.is(points.at(-1)!.rows, batches * 10, `${batches}: every row by the last point`);
    t.is(points.at(-1)!.seconds, (batches * 2) / 1000);
    for (let i = 1; i < points.length; i++) {
      t.true(points[i].seconds > points[i - 1].seconds);
      t.true(points[i].rows >= points[i - 1].rows, 'rows finished never go down');
    }
    for (const p of points) t.true(p.imagesPerSecond >= 0 && Number.isFinite(p.imagesPerSecond));
    t.true((timeline as unknown as { bins: number[] }).bins.length <= 120, `${batches}: bins bounded`);
  }
  t.deepEqual(new ThroughputTimeline().points(), [], 'no batch, no point');
});

test('latency buckets: log-spaced, every sample counted once, the shared range lines two histograms up', (t) => {
  const buckets = new LatencyBuckets();
  t.deepEqual(buckets.buckets(), []);
  t.is(buckets.nonEmptyRange(), null);
  const samples = [0, 0.0005, 1, 1.05, 1.2, 10, 99, 5e6];
  for (const s of samples) buckets.record(s);
  const list = buckets.buckets();
  t.is(
    list.reduce((n, b) => n + b.count, 0),
    samples.length,
  );
  t.is(list[0].fromMs, 0.001, 'tiny samples go to the first bucket');
  for (let i = 1; i < list.length; i++) t.true(Math.abs(list[i].fromMs - list[i - 1].toMs) < 1e-12);
  for (const b of list) t.true(Math.abs(b.toMs / b.fromMs - 10 ** (1 / 20)) < 1e-9);
  const one = list.find((b) => b.fromMs <= 1 + 1e-12 && 1 < b.toMs)!;
  t.is(one.count, 2, '1 and 1.05 share a bucket (1.000..1.122)');
  const other = new LatencyBuckets();
  other.record(3);
  const range = buckets.nonEmptyRange()!;
  t.is(other.buckets(range).length, list.length);
  t.throws(() => buckets.record(-1), { instanceOf: RangeError });
  t.throws(() => buckets.record(Number.NaN), { instanceOf: RangeError });
});

test('latency buckets as fixed-size data: every bucket, whatever was recorded; edges on one scale', (t) => {
  const empty = new LatencyBuckets();
  t.is(empty.bucketCount, 180, '9 decades x 20');
  t.deepEqual([...empty.allCounts()], new Array(180).fill(0));
  const buckets = new LatencyBuckets();
  for (const ms of [0.5, 0.5, 2, 1e9]) buckets.record(ms);
  const counts = buckets.allCounts();
  t.is(counts.length, 180);
  t.is(
    counts.reduce((a, b) => a + b, 0),
    4,
  );
  t.is(counts[179], 1, 'the largest sample counts in the last bucket');
  for (const b of buckets.buckets()) {
    const i = Math.round(Math.log10(b.fromMs / buckets.minMs) * buckets.perDecade);
    t.is(counts[i], b.count);
    t.is(buckets.edgeMs(i), b.fromMs);
  }
  counts[0] = 99;
  t.is(buckets.allCounts()[0], 0, 'a copy');
});
