// Throughput over time and latency buckets: bounded whatever the number of batches, nothing lost.
import test from 'ava';
import { LatencyBuckets, ThroughputTimeline } from '../../src/stats/timeline.js';

test('few batches: one point per batch, rows over the time since the previous batch', (t) => {
  let now = 1000;
  const timeline = new ThroughputTimeline({ maxPoints: 10, now: () => now });
  for (const [at, rows] of [[1500, 100], [1600, 100], [1800, 50]]) {
    now = at;
    timeline.record(rows);
  }
  t.deepEqual(timeline.points(), [
    { seconds: 0.5, imagesPerSecond: 200, rows: 100 },
    { seconds: 0.6, imagesPerSecond: 1000, rows: 100 },
    { seconds: 0.8, imagesPerSecond: 250, rows: 50 },
  ]);
});

test('many batches: at most maxPoints points, every row counted, times in order, memory bounded', (t) => {
  for (const batches of [1, 7, 59, 60, 61, 119, 120, 121, 1000, 12_345, 100_000]) {
    let now = 0;
    const timeline = new ThroughputTimeline({ maxPoints: 60, now: () => now });
    for (let i = 1; i <= batches; i++) {
      now = i * 2;
      timeline.record(10);
    }
    const points = timeline.points();
    t.true(points.length <= 60 && points.length >= Math.min(batches, 30), `${batches}: ${points.length} points`);
    t.is(points.reduce((n, p) => n + p.rows, 0), batches * 10, `${batches}: rows conserved`);
    t.is(points[points.length - 1].seconds, (batches * 2) / 1000);
    for (let i = 1; i < points.length; i++) t.true(points[i].seconds > points[i - 1].seconds);
    // 10 rows every 2 ms is 5000 images/s everywhere (the last group may be shorter but has the same rate).
    for (const p of points) t.is(Math.round(p.imagesPerSecond), 5000);
    t.true((timeline as unknown as { ends: number[] }).ends.length < 120);
  }
});

test('latency buckets: log-spaced, every sample counted once, the shared range lines two histograms up', (t) => {
  const buckets = new LatencyBuckets();
  t.deepEqual(buckets.buckets(), []);
  t.is(buckets.nonEmptyRange(), null);
  const samples = [0, 0.0005, 1, 1.05, 1.2, 10, 99, 5e6];
  for (const s of samples) buckets.record(s);
  const list = buckets.buckets();
  t.is(list.reduce((n, b) => n + b.count, 0), samples.length);
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
  t.is(counts.reduce((a, b) => a + b, 0), 4);
  t.is(counts[179], 1, 'the largest sample counts in the last bucket');
  for (const b of buckets.buckets()) {
    const i = Math.round(Math.log10(b.fromMs / buckets.minMs) * buckets.perDecade);
    t.is(counts[i], b.count);
    t.is(buckets.edgeMs(i), b.fromMs);
  }
  counts[0] = 99;
  t.is(buckets.allCounts()[0], 0, 'a copy');
});
