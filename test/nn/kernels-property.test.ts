// Both fast engines against the reference forward pass (src/nn/forward.ts) on random networks of random
// shapes, every activation and output function, zero-heavy inputs, one row and more rows than maxRows.
//
// - The JavaScript engine does the reference's float64 arithmetic in the same order: equal bit for bit.
// - The WebAssembly engine accumulates in float32 and uses a polynomial exp: within 1e-5, same argmax
//   except on near-ties. On dyadic values (multiples of 1/4, at most 3 layers of at most 16 inputs)
//   every float32 sum is exact, so there it must equal the reference bit for bit too, step included
//   (step is discontinuous: on continuous values a pre-activation within rounding of 0 may flip it).
import test from 'ava';
import fc from 'fast-check';
import { normalizationTable } from '../../src/data/normalize.js';
import { softmaxRows_ } from '../../src/nn/activations.js';
import { createForwardEngine, loadForwardKernel, type ForwardEngine } from '../../src/nn/kernels/index.js';
import { wasmApi } from '../../src/nn/kernels/wasm-api.js';
import { softmaxRowsOnce_ } from '../../src/nn/kernels/output-stage.js';
import type { Network } from '../../src/nn/types.js';
import {
  approximateProblem,
  arbitraryInputCase,
  arbitraryNetworkCase,
  engineScores,
  firstDifference,
  makeInputs,
  makeNetwork,
  referenceScores,
  type InputCase,
  type NetworkCase,
  uniform,
} from './kernels-helpers.js';

const maxRowsArbitrary = fc.integer({ min: 1, max: 8 });

async function engines(network: Network, maxRows: number): Promise<{ js: ForwardEngine; wasm: ForwardEngine }> {
  return {
    js: await createForwardEngine(network, { maxRows, kind: 'js' }),
    wasm: await createForwardEngine(network, { maxRows, kind: 'wasm' }),
  };
}

function describe(n: NetworkCase, i: InputCase, maxRows: number): string {
  return (
    `${n.sizes.join('-')} ${n.activation}/${n.output} ${n.values} seed ${n.seed}, ${i.rows}` +
    ` rows (maxRows ${maxRows}` +
    `), zeros ${i.zeroInputs}`
  );
}

test('js engine: bit-identical to the reference on random networks (all activations and outputs)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      arbitraryNetworkCase({ values: 'continuous' }),
      arbitraryInputCase,
      maxRowsArbitrary,
      async (n, i, maxRows) => {
        const network = makeNetwork(n);
        const x = makeInputs(n.sizes[0], i, n.values);
        const ref = referenceScores(network, x, i.rows);
        const got = engineScores(await createForwardEngine(network, { maxRows, kind: 'js' }), x, i.rows);
        const where = describe(n, i, maxRows);
        if (firstDifference(got.probabilities, ref.probabilities) !== -1)
          throw new Error(`probabilities differ: ${where}`);
        if (firstDifference(got.predicted, ref.predicted) !== -1) throw new Error(`predictions differ: ${where}`);
        if (firstDifference(got.confidence, ref.confidence) !== -1) throw new Error(`confidences differ: ${where}`);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test(
  'wasm engine: within 1e-5 of the reference, same argmax off near-ties (sigmoid, relu, identity; continuous ' +
    'values)',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryNetworkCase({ values: 'continuous', activations: ['sigmoid', 'relu', 'identity'] }),
        arbitraryInputCase,
        maxRowsArbitrary,
        async (n, i, maxRows) => {
          const network = makeNetwork(n);
          const x = makeInputs(n.sizes[0], i, n.values);
          const outputs = n.sizes[n.sizes.length - 1];
          const problem = approximateProblem(
            referenceScores(network, x, i.rows),
            engineScores(await createForwardEngine(network, { maxRows, kind: 'wasm' }), x, i.rows),
            i.rows,
            outputs,
          );
          if (problem) throw new Error(`${problem}: ${describe(n, i, maxRows)}`);
        },
      ),
      { numRuns: 300 },
    );
    t.pass();
  },
);

test('wasm engine: bit-identical to the reference where float32 sums are exact (dyadic values; step, relu, identity)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      arbitraryNetworkCase({ values: 'dyadic', activations: ['step', 'relu', 'identity'], maxLayers: 3, maxWidth: 16 }),
      arbitraryInputCase,
      maxRowsArbitrary,
      async (n, i, maxRows) => {
        const network = makeNetwork(n);
        const x = makeInputs(n.sizes[0], i, n.values);
        const ref = referenceScores(network, x, i.rows);
        const got = engineScores(await createForwardEngine(network, { maxRows, kind: 'wasm' }), x, i.rows);
        const at = firstDifference(got.probabilities, ref.probabilities);
        if (at !== -1)
          throw new Error(
            `probability ${at}: ${got.probabilities[at]} vs ${ref.probabilities[at]}: ${describe(n, i, maxRows)}`,
          );
        if (firstDifference(got.predicted, ref.predicted) !== -1)
          throw new Error(`predictions differ: ${describe(n, i, maxRows)}`);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('wasm and js engines agree with each other (within 1e-5, same argmax off near-ties), sigmoid hidden layers', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      arbitraryNetworkCase({ values: 'continuous', activations: ['sigmoid'] }),
      arbitraryInputCase,
      async (n, i) => {
        const network = makeNetwork(n);
        const x = makeInputs(n.sizes[0], i, n.values);
        const { js, wasm } = await engines(network, 4);
        const problem = approximateProblem(
          engineScores(js, x, i.rows),
          engineScores(wasm, x, i.rows),
          i.rows,
          n.sizes[n.sizes.length - 1],
        );
        if (problem) throw new Error(`${problem}: ${describe(n, i, 4)}`);
      },
    ),
    { numRuns: 100 },
  );
  t.pass();
});

test('one engine, many calls: rows 0, 1, maxRows, 3 x maxRows + 1 in any order give the reference answers', async (t) => {
  const n: NetworkCase = {
    sizes: [37, 13, 6],
    activation: 'sigmoid',
    output: 'softmax',
    values: 'continuous',
    seed: 7,
    zeroWeights: 0,
  };
  const network = makeNetwork(n);
  const { js, wasm } = await engines(network, 5);
  for (const rows of [16, 0, 1, 5, 3, 16, 1]) {
    const x = makeInputs(37, { rows, zeroInputs: 0.7, seed: rows }, 'continuous');
    const ref = referenceScores(network, x, rows);
    t.is(firstDifference(engineScores(js, x, rows).probabilities, ref.probabilities), -1, `js, ${rows} rows`);
    t.is(approximateProblem(ref, engineScores(wasm, x, rows), rows, 6), null, `wasm, ${rows} rows`);
  }
});

test('x longer than rows x inputs, and no probabilities asked: only the first rows are scored', async (t) => {
  const network = makeNetwork({
    sizes: [9, 4, 3],
    activation: 'relu',
    output: 'softmax',
    values: 'continuous',
    seed: 3,
    zeroWeights: 0,
  });
  const x = makeInputs(9, { rows: 6, zeroInputs: 0.5, seed: 1 }, 'continuous');
  const ref = referenceScores(network, x, 4);
  for (const engine of Object.values(await engines(network, 3))) {
    const predicted = new Int32Array(5).fill(-1);
    const confidence = new Float32Array(5).fill(-1);
    engine.predict(x, 4, predicted, confidence);
    t.deepEqual([...predicted], [...ref.predicted, -1], engine.kind);
    t.true(Math.abs(confidence[0] - ref.confidence[0]) < 1e-6, engine.kind);
    t.is(confidence[4], -1, engine.kind);
  }
});

test('NaN and infinite inputs propagate as in the reference (NaN rows: class 0, confidence NaN)', async (t) => {
  const network = makeNetwork({
    sizes: [8, 5, 3],
    activation: 'sigmoid',
    output: 'softmax',
    values: 'continuous',
    seed: 11,
    zeroWeights: 0,
  });
  const x = makeInputs(8, { rows: 3, zeroInputs: 0.5, seed: 2 }, 'continuous');
  x[1] = Number.NaN; // row 0
  x[8 + 2] = Number.POSITIVE_INFINITY; // row 1
  const ref = referenceScores(network, x, 3);
  t.true(Number.isNaN(ref.confidence[0]));
  for (const engine of Object.values(await engines(network, 3))) {
    const got = engineScores(engine, x, 3);
    t.deepEqual([...got.predicted], [...ref.predicted], engine.kind);
    t.true(Number.isNaN(got.confidence[0]), engine.kind);
    t.is(approximateProblem(ref, got, 3, 3), null, engine.kind);
  }
});

test(
  'predictPixels (bytes + normalisation fused into the first layer) equals predict on normalizationTable floats, ' +
    'bit for bit, both engines',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryNetworkCase({ values: 'continuous', maxWidth: 70 }),
        arbitraryInputCase,
        fc.constantFrom('unit' as const, 'none' as const),
        maxRowsArbitrary,
        async (n, i, normalization, maxRows) => {
          const network = makeNetwork(n);
          const features = n.sizes[0];
          const next = uniform(i.seed);
          const pixels = Uint8Array.from({ length: i.rows * features }, () =>
            next() < i.zeroInputs ? 0 : Math.floor(next() * 256),
          );
          const table = normalizationTable(normalization);
          const x = Float32Array.from(pixels, (p) => table[p]);
          for (const engine of Object.values(await engines(network, maxRows))) {
            const viaFloats = engineScores(engine, x, i.rows);
            const predicted = new Int32Array(i.rows);
            const confidence = new Float32Array(i.rows);
            const probabilities = new Float32Array(i.rows * engine.outputs);
            engine.predictPixels(pixels, i.rows, normalization, predicted, confidence, probabilities);
            const where = `${engine.kind} ${normalization}: ${describe(n, i, maxRows)}`;
            if (firstDifference(probabilities, viaFloats.probabilities) !== -1)
              throw new Error(`probabilities differ: ${where}`);
            if (firstDifference(predicted, viaFloats.predicted) !== -1) throw new Error(`predictions differ: ${where}`);
            if (firstDifference(confidence, viaFloats.confidence) !== -1)
              throw new Error(`confidences differ: ${where}`);
          }
        },
      ),
      { numRuns: 200 },
    );
    t.pass();
  },
);

test('predictPixels refuses an unknown normalization and too few bytes', async (t) => {
  const network = makeNetwork({
    sizes: [20, 4, 3],
    activation: 'relu',
    output: 'softmax',
    values: 'continuous',
    seed: 3,
    zeroWeights: 0,
  });
  for (const engine of Object.values(await engines(network, 2))) {
    t.throws(
      () => engine.predictPixels(new Uint8Array(20), 1, 'zscore' as never, new Int32Array(1), new Float32Array(1)),
      { message: /normalization/ },
      engine.kind,
    );
    t.throws(
      () => engine.predictPixels(new Uint8Array(39), 2, 'unit', new Int32Array(2), new Float32Array(2)),
      { instanceOf: RangeError },
      engine.kind,
    );
  }
});

test(
  'softmax with one exp per value: the reference softmaxRows_ bit for bit, large, tiny, infinite and NaN logits ' +
    'included',
  (t) => {
    const rows = [
      [1010, 1000, 990],
      [-1e30, -1e30, 0],
      [0.1, 0.2, 0.7],
      [Number.NEGATIVE_INFINITY, 0, 1],
      [Number.POSITIVE_INFINITY, 0, 1],
      [Number.NaN, 0, 1],
      [3.4e38, -3.4e38, 0],
    ];
    const reference = Float32Array.from(rows.flat());
    const ours = Float32Array.from(rows.flat());
    softmaxRows_(reference, rows.length, 3);
    softmaxRowsOnce_(ours, rows.length, 3, new Float64Array(3));
    t.is(firstDifference(ours, reference), -1, `${[...ours]} vs ${[...reference]}`);
  },
);

test("the .wat's two layer paths, compacted (layer) and dense two rows at a time (denseLayer), give the same bits", async (t) => {
  const load = await loadForwardKernel();
  if (!load.ok) return t.fail(load.reason);
  type Kernel = {
    memory: { buffer: ArrayBuffer; grow(pages: number): number };
    layer(...args: number[]): void;
    denseLayer(...args: number[]): void;
  };
  const kernel = new wasmApi.Instance(load.module, {}).exports as unknown as Kernel;
  kernel.memory.grow(40);
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        inputs: fc.integer({ min: 1, max: 70 }),
        outputs: fc.integer({ min: 1, max: 70 }),
        rows: fc.integer({ min: 1, max: 9 }),
        act: fc.integer({ min: 0, max: 3 }),
      }),
      arbitraryInputCase,
      async ({ inputs, outputs, rows, act }, i) => {
        const nPad = Math.ceil(outputs / 4) * 4;
        const heap = new Float32Array(kernel.memory.buffer);
        const next = uniform(i.seed);
        // Addresses (bytes): W, b, x, the two outputs, the lists; all past the kernel's first 256 bytes.
        const w = 1024;
        const b = w + inputs * nPad * 4 + 64;
        const x = b + nPad * 4 + 64;
        const outA = x + rows * inputs * 4 + 64;
        const outB = outA + rows * nPad * 4 + 64;
        const vals = outB + rows * nPad * 4 + 64;
        const offs = vals + (inputs + 4) * 4 + 64;
        for (let k = 0; k < inputs; k++)
          for (let c = 0; c < nPad; c++) heap[w / 4 + k * nPad + c] = c < outputs ? (next() * 2 - 1) * 0.5 : 0;
        for (let c = 0; c < nPad; c++) heap[b / 4 + c] = c < outputs ? next() * 2 - 1 : 0;
        for (let j = 0; j < rows * inputs; j++)
          heap[x / 4 + j] = next() < i.zeroInputs ? (next() < 0.5 ? 0 : -0) : (next() * 2 - 1) * 3;
        if (i.seed % 7 === 0) heap[x / 4] = Number.NaN;
        if (i.seed % 11 === 0) heap[x / 4 + rows * inputs - 1] = Number.POSITIVE_INFINITY;
        kernel.layer(x, inputs, rows, inputs, w, b, outA, nPad, act, vals, offs);
        kernel.denseLayer(x, inputs, rows, inputs, w, b, outB, nPad, act, vals, offs);
        const a = heap.subarray(outA / 4, outA / 4 + rows * nPad);
        const d = heap.subarray(outB / 4, outB / 4 + rows * nPad);
        const at = firstDifference(d, a);
        if (at !== -1)
          throw new Error(
            `${inputs}x${outputs} act ${act}, ${rows} rows, zeros ${i.zeroInputs}: value ${at}: dense ${d[at]}` +
              ` vs compacted ${a[at]}`,
          );
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
