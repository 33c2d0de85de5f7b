// The page keeps only bounded summaries, so its size does not grow with the input: a simulated run of
// 1,000,000 rows gives a page no bigger than 10,000 rows (give or take the digits of bigger counts).
import test from 'ava';
import { buildRunPage } from '../../src/html/run-page.js';
import { simulateRun } from './synthetic.js';

const pageBytes = (rows: number, errorRate: number): number => {
  const { report, collector } = simulateRun({ rows, batchSize: 1000, errorRate, seed: 11 });
  return Buffer.byteLength(buildRunPage(collector.pageInput(report)));
};

const MiB = 2 ** 20;

test('the page for 1,000,000 rows is the size of the page for 10,000 once both fill the bounded summaries (only longer numbers differ)', (t) => {
  // 30% mistakes: 10,000 rows already fill the gallery (200) and every cell's 12 examples.
  const small = pageBytes(10_000, 0.3);
  const started = performance.now();
  const big = pageBytes(1_000_000, 0.3);
  t.log(`10,000 rows: ${(small / MiB).toFixed(3)} MiB; 1,000,000 rows: ${(big / MiB).toFixed(3)} MiB (simulated in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  // Only longer numbers (counts, line numbers) may differ: well under 1%.
  t.true(big <= small * 1.01, `${big} vs ${small}`);
  t.true(big < 3 * MiB);
});

test('the page size has a ceiling whatever the error rate (at most 200 + 10 x 10 x 12 images)', (t) => {
  for (const errorRate of [0, 0.02, 0.1, 0.5, 1]) {
    const bytes = pageBytes(200_000, errorRate);
    t.log(`error rate ${errorRate}: ${(bytes / MiB).toFixed(3)} MiB`);
    // Chart.js ~0.2 MiB + at most 1,400 images of 1,048 base64 characters + the rest.
    t.true(bytes < 2 * MiB, `${bytes}`);
  }
});
