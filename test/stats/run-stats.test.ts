// RunStats with an injected clock: counts, time to first result, throughput, bounded error keeping.
import test from 'ava';
import { RunStats, type BatchOutcome } from '../../src/stats/run-stats.js';

/** A manual millisecond clock. */
function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function batch(labels: number[], predicted: number[], latencyMs = 5, computeMs = 3): BatchOutcome {
  return {
    rows: labels.length,
    labels: Int16Array.from(labels),
    predicted: Int32Array.from(predicted),
    confidence: new Float32Array(labels.length).fill(0.9),
    latencyMs,
    computeMs,
  };
}

test('counts rows, labeled rows, correct rows and batches', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  stats.start();
  stats.recordBatch(batch([1, 2, 3], [1, 2, 4]));
  stats.recordBatch(batch([-1, 5], [0, 5]));
  t.is(stats.rows, 5);
  t.is(stats.labeled, 4);
  t.is(stats.correct, 3);
  t.is(stats.batches, 2);
  t.is(stats.confusion.total, 4);
  t.is(stats.batchLatency.count, 2);
  t.is(stats.computeLatency.count, 2);
});

test('time to first result is measured from start(); null before any result', (t) => {
  const c = clock();
  const stats = new RunStats({ classes: 10, now: c.now });
  c.advance(50); // before start(): not counted
  stats.start();
  t.is(stats.timeToFirstResultMs, null);
  c.advance(120); // pool start-up and the first batch
  stats.recordBatch(batch([1], [1]));
  c.advance(30);
  stats.recordBatch(batch([1], [1]));
  t.is(stats.timeToFirstResultMs, 120);
});

test('images/s over the whole run and after the first result', (t) => {
  const c = clock();
  const stats = new RunStats({ classes: 10, now: c.now });
  stats.start();
  c.advance(500); // start-up
  stats.recordBatch(batch(new Array(100).fill(0), new Array(100).fill(0)));
  for (let i = 0; i < 4; i++) {
    c.advance(100);
    stats.recordBatch(batch(new Array(100).fill(0), new Array(100).fill(0)));
  }
  c.advance(100); // tail: draining, writing the report
  stats.finish();
  t.is(stats.durationMs, 1000);
  t.is(stats.imagesPerSecond(), 500); // 500 rows / 1 s
  t.is(stats.imagesPerSecondAfterFirstResult(), 800); // 400 rows / 0.5 s
});

test('duration stops at finish() and grows while running', (t) => {
  const c = clock();
  const stats = new RunStats({ classes: 10, now: c.now });
  stats.start();
  c.advance(10);
  t.is(stats.durationMs, 10);
  c.advance(10);
  stats.finish();
  c.advance(1000);
  t.is(stats.durationMs, 20);
});

test('throughput with no time, no batch or one batch', (t) => {
  const c = clock();
  const stats = new RunStats({ classes: 10, now: c.now });
  stats.start();
  t.is(stats.imagesPerSecond(), 0);
  t.is(stats.imagesPerSecondAfterFirstResult(), null);
  c.advance(10);
  stats.recordBatch(batch([1, 2], [1, 2]));
  c.advance(10);
  stats.finish();
  t.is(stats.imagesPerSecond(), 100);
  t.is(stats.imagesPerSecondAfterFirstResult(), null, 'one batch gives no steady-state interval');
});

test('the first maxErrors row errors are kept, the rest counted', (t) => {
  const stats = new RunStats({ classes: 10, maxErrors: 3, now: clock().now });
  for (let line = 2; line < 12; line++) stats.recordRowError({ line, message: `bad row ${line}` });
  t.is(stats.skipped, 10);
  t.deepEqual(
    stats.errors.map((e) => e.line),
    [2, 3, 4],
  );
  t.is(stats.errors[0].message, 'bad row 2');
  t.true(stats.errorsTruncated);
});

test('not truncated when every error was kept', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  stats.recordRowError({ line: 5, message: 'x' });
  t.is(stats.skipped, 1);
  t.false(stats.errorsTruncated);
});

test('errors returns a copy', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  stats.recordRowError({ line: 5, message: 'x' });
  stats.errors[0].line = 99;
  stats.errors.push({ line: 1, message: 'y' });
  t.deepEqual(stats.errors, [{ line: 5, message: 'x' }]);
});

test('memory bound: 1,000,000 row errors keep only the default 100', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  for (let line = 1; line <= 1_000_000; line++)
    stats.recordRowError({ line, message: `row ${line}: expected 785 fields` });
  t.is(stats.skipped, 1_000_000);
  t.is(stats.errors.length, 100);
  t.is(stats.errors[99].line, 100);
  t.true(stats.errorsTruncated);
});

test('memory bound: many batches keep fixed-size state', (t) => {
  const stats = new RunStats({ classes: 10, now: clock().now });
  const labels = Int16Array.from({ length: 256 }, (_, i) => i % 10);
  const predicted = Int32Array.from({ length: 256 }, (_, i) => (i * 7) % 10);
  const confidence = new Float32Array(256);
  for (let i = 0; i < 4000; i++) {
    stats.recordBatch({ rows: 256, labels, predicted, confidence, latencyMs: 1 + (i % 50), computeMs: 0.5 });
  }
  t.is(stats.rows, 1_024_000);
  t.is(stats.batches, 4000);
  t.is(
    stats.confusion
      .toArray()
      .flat()
      .reduce((a, b) => a + b, 0),
    1_024_000,
  );
  t.is(stats.batchLatency.summary().max, 50);
});
