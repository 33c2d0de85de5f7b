// The page's size does not depend on the number of rows: a fixed budget of images (fixed-size records) and
// every growing figure in a fixed-length float64 block, so simulated runs of 10,000 and 1,000,000 rows, fed
// through the real collector, give pages of exactly the same length, whatever the error rate.
import test from 'ava';
import { buildRunPage } from '../../src/html/run-page.js';
import { runPage } from './page-data.js';
import { simulateRun } from './synthetic.js';

/**
 * The ceiling, 540,000 bytes: Chart.js 4.6.1 (~208 KB) + 240 image records of 800 bytes as base64
 * (256,000 characters) + the figures (698 float64 values: 7,448 characters of base64) + the markup,
 * styles, scripts and chart configurations (~40 KB); about 510 KB in all, and 30 KB to spare for longer
 * paths, model names and machine descriptions.
 */
const CEILING = 540_000;

const page = (rows: number, errorRate: number, labeled = true): string => {
  const { report, collector } = simulateRun({ rows, batchSize: 1000, errorRate, labeled, seed: 11 });
  return buildRunPage(collector.pageInput(report));
};

for (const errorRate of [0.02, 0.3]) {
  test(
    `10,000 and 1,000,000 rows (${errorRate * 100}` +
      `% mistakes) give pages of exactly the same length, at most ${CEILING} bytes`,
    (t) => {
      const small = page(10_000, errorRate);
      const started = performance.now();
      const big = page(1_000_000, errorRate);
      const seconds = (performance.now() - started) / 1000;
      const [smallBytes, bigBytes] = [Buffer.byteLength(small), Buffer.byteLength(big)];
      t.log(
        `10,000 rows: ${smallBytes} bytes; 1,000,000 rows: ${bigBytes} bytes (simulated in ${seconds.toFixed(1)} s)`,
      );
      t.is(bigBytes, smallBytes);
      t.true(bigBytes <= CEILING, `${bigBytes} > ${CEILING}`);
      // The same content where nothing depends on the rows: the pages differ only inside the binary blocks.
      const [a, b] = [runPage(small), runPage(big)];
      t.is(a.images.length, 240);
      t.is(b.images.length, 240);
      t.deepEqual(a.figures.rows, [10_000]);
      t.deepEqual(b.figures.rows, [1_000_000]);
      const outside = (html: string) => html.replace(/"figures":"[^"]*"/, '').replace(/"images":"[^"]*"/, '');
      t.is(outside(small), outside(big), 'identical outside the figures and image blocks');
    },
  );
}

test('the length is the same for any error rate and any number of rows >= T; unlabeled input too', (t) => {
  const lengths = new Map<string, number>();
  for (const errorRate of [0, 0.02, 0.3, 1])
    for (const rows of [240, 5_000, 200_000])
      lengths.set(`${errorRate} ${rows}`, Buffer.byteLength(page(rows, errorRate)));
  t.log(Object.fromEntries(lengths));
  t.is(new Set(lengths.values()).size, 1, 'one length for every labeled page');
  const unlabeled = [240, 5_000, 200_000].map((rows) => Buffer.byteLength(page(rows, 0, false)));
  t.log(`unlabeled: ${unlabeled}`);
  t.is(new Set(unlabeled).size, 1, 'one length for every unlabeled page');
  t.true(Math.max(...lengths.values(), ...unlabeled) <= CEILING);
  // Fewer rows than T: fewer images, a smaller page.
  t.true(Buffer.byteLength(page(100, 0.3)) < [...lengths.values()][0]);
});
