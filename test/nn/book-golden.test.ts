// Our forward pass on the book's network against numpy's output for the first 100 MNIST test images
// (test/fixtures/book-model-golden.json, made once with numpy; see test/fixtures/README.md).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { argmaxRows, createForwardScratch, forward } from '../../src/nn/forward.js';
import { loadModel } from '../../src/nn/load-model.js';
import { bookPickle, fixture, hasBookPickle } from '../helpers/paths.js';

interface Golden {
  model_sha256: string;
  rows: number;
  labels: number[];
  predicted: number[];
  probabilities: number[][];
}

const golden = JSON.parse(readFileSync(fixture('book-model-golden.json'), 'utf8')) as Golden;
const csvText = readFileSync(fixture('mnist-test-100.csv'), 'utf8');

function readCsv(): { labels: number[]; pixels: number[][] } {
  const lines = csvText.split('\n');
  const labels: number[] = [];
  const pixels: number[][] = [];
  for (const line of lines.slice(0, -1)) {
    const values = line.split(',').map(Number);
    labels.push(values[0]);
    pixels.push(values.slice(1));
  }
  return { labels, pixels };
}

test('mnist-test-100.csv is the standard CSV of the first 100 test images', (t) => {
  t.true(csvText.endsWith('\n'));
  t.false(csvText.includes('\r'));
  const { labels, pixels } = readCsv();
  t.is(labels.length, 100);
  t.deepEqual(labels.slice(0, 10), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  t.true(pixels.every((row) => row.length === 784 && row.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)));
  t.deepEqual(golden.labels, labels);
  t.is(golden.rows, 100);
});

(hasBookPickle ? test : test.skip)(
  'book model (needs ../shared/reference/sample_weight.pkl): same argmax on all 100 rows, probabilities within 1e-5 ' +
    'of numpy',
  async (t) => {
    const model = await loadModel(bookPickle);
    t.is(model.sha256, golden.model_sha256);
    const { pixels } = readCsv();
    const x = Float32Array.from(pixels.flat(), (v) => v / 255);
    // In batches of 32 through one scratch (as a worker would), so the scratch path is the one checked.
    const scratch = createForwardScratch(model.network, 32);
    const predicted = new Int32Array(100);
    const confidence = new Float32Array(100);
    let worst = 0;
    for (let start = 0; start < 100; start += 32) {
      const rows = Math.min(32, 100 - start);
      const out = forward(model.network, x.subarray(start * 784, (start + rows) * 784), rows, scratch);
      argmaxRows(out, rows, 10, predicted.subarray(start), confidence.subarray(start));
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < 10; c++)
          worst = Math.max(worst, Math.abs(out[r * 10 + c] - golden.probabilities[start + r][c]));
      }
    }
    t.deepEqual([...predicted], golden.predicted);
    t.true(worst <= 1e-5, `largest difference ${worst}`);
    t.log(`largest |ours - numpy| = ${worst.toExponential(2)}`);
  },
);
