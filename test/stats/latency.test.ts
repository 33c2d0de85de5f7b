// LatencyHistogram: percentiles against a sorted-array oracle (within the HdrHistogram's precision), merge, empty.
import test from 'ava';
import fc from 'fast-check';
import { LatencyHistogram } from '../../src/stats/latency.js';

/** Nearest-rank percentile of sorted values. */
function oracle(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * HdrHistogram rounds the rank slightly differently from nearest-rank, so accept anything between the
 * neighbouring ranks, widened by 1% (the histogram keeps 3 significant figures, i.e. 0.1%).
 */
function within(t: import('ava').ExecutionContext, sorted: number[], p: number, actual: number): void {
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  const low = sorted[Math.max(0, rank - 1)] * 0.99;
  const high = sorted[Math.min(sorted.length - 1, rank + 1)] * 1.01;
  t.true(
    actual >= low && actual <= high,
    `p${p}: ${actual} not within [${low}, ${high}] (oracle ${oracle(sorted, p)})`,
  );
}

test('percentiles match a sorted-array oracle within 1%', (t) => {
  // Deterministic pseudo-random, log-spread latencies from 5 µs to 500 ms.
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = Array.from({ length: 20_000 }, () => 0.005 * 10 ** (5 * random()));
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  const sorted = [...values].sort((a, b) => a - b);
  const s = h.summary();
  t.is(s.count, values.length);
  t.is(h.count, values.length);
  within(t, sorted, 50, s.p50);
  within(t, sorted, 90, s.p90);
  within(t, sorted, 99, s.p99);
  t.is(s.min, sorted[0]);
  t.is(s.max, sorted[sorted.length - 1]);
  t.true(Math.abs(s.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9 * s.mean);
});

test('property: percentiles within 1% of the oracle and ordered min <= p50 <= p90 <= p99 <= max', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0.001, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
      (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        const s = h.summary();
        for (const [p, actual] of [
          [50, s.p50],
          [90, s.p90],
          [99, s.p99],
        ] as const) {
          const rank = Math.ceil((p / 100) * sorted.length) - 1;
          const low = sorted[Math.max(0, rank - 1)] * 0.99;
          const high = sorted[Math.min(sorted.length - 1, rank + 1)] * 1.01;
          if (actual < low || actual > high) return false;
        }
        return s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max;
      },
    ),
  );
  t.pass();
});

test('a constant latency reports that value everywhere', (t) => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 1000; i++) h.record(2.5);
  const s = h.summary();
  for (const key of ['min', 'mean', 'p50', 'p90', 'p99', 'max'] as const) {
    t.true(Math.abs(s[key] - 2.5) <= 0.0025, `${key} = ${s[key]}`);
  }
});

test('sub-microsecond and zero durations are recorded', (t) => {
  const h = new LatencyHistogram();
  h.record(0);
  h.record(0.0004);
  const s = h.summary();
  t.is(s.count, 2);
  t.is(s.min, 0);
  t.is(s.max, 0.0004);
  t.true(s.p99 <= 0.0004);
});

test('merge equals recording everything in one histogram', (t) => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (let i = 1; i <= 500; i++) {
    a.record(i * 0.1);
    all.record(i * 0.1);
  }
  for (let i = 1; i <= 300; i++) {
    b.record(100 + i);
    all.record(100 + i);
  }
  a.merge(b);
  const { mean: mergedMean, ...merged } = a.summary();
  const { mean: allMean, ...expected } = all.summary();
  t.deepEqual(merged, expected);
  t.true(Math.abs(mergedMean - allMean) < 1e-9 * allMean, 'means differ only by float summation order');
  t.is(b.count, 300, 'the merged-in histogram is unchanged');
});

test('merging an empty histogram changes nothing; merging into an empty one copies', (t) => {
  const a = new LatencyHistogram();
  a.record(3);
  const before = a.summary();
  a.merge(new LatencyHistogram());
  t.deepEqual(a.summary(), before);
  const empty = new LatencyHistogram();
  empty.merge(a);
  t.deepEqual(empty.summary(), before);
});

test('empty histogram: all zeros', (t) => {
  const h = new LatencyHistogram();
  t.is(h.count, 0);
  t.deepEqual(h.summary(), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test('negative and non-finite durations throw', (t) => {
  const h = new LatencyHistogram();
  t.throws(() => h.record(-1), { instanceOf: RangeError });
  t.throws(() => h.record(Number.NaN), { instanceOf: RangeError });
  t.throws(() => h.record(Number.POSITIVE_INFINITY), { instanceOf: RangeError });
  t.is(h.count, 0);
});

test('toState / fromState: the compressed base64 HdrHistogram round-trips every summary figure', (t) => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 2000; i++) h.record((i % 97) * 0.37 + 0.0001 * i);
  const state = JSON.parse(JSON.stringify(h.toState()));
  t.regex(state.histogram, /^HISTF/);
  t.deepEqual(LatencyHistogram.fromState(state).summary(), h.summary());
  t.deepEqual(LatencyHistogram.fromState(new LatencyHistogram().toState()).summary(), new LatencyHistogram().summary());
});

test('property: merging shard states gives the percentiles of one histogram over all samples', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.double({ min: 0, max: 5_000, noNaN: true }), { maxLength: 200 }), {
        minLength: 1,
        maxLength: 6,
      }),
      (shards) => {
        const all = new LatencyHistogram();
        const merged = new LatencyHistogram();
        for (const values of shards) {
          const shard = new LatencyHistogram();
          for (const v of values) {
            shard.record(v);
            all.record(v);
          }
          merged.mergeState(JSON.parse(JSON.stringify(shard.toState())));
        }
        const { mean: a, ...expected } = all.summary();
        const { mean: b, ...actual } = merged.summary();
        return JSON.stringify(actual) === JSON.stringify(expected) && Math.abs(a - b) <= 1e-9 * Math.max(1, a);
      },
    ),
  );
  t.pass();
});

test('a state whose histogram does not hold its count is refused', (t) => {
  const h = new LatencyHistogram();
  h.record(1);
  t.throws(() => LatencyHistogram.fromState({ ...h.toState(), count: 2 }), {
    instanceOf: RangeError,
    message: /holds 1 samples/,
  });
});
