// The native engine (the optional C++ addon) against the WebAssembly engine, bit for bit.
//
// Exactness rule: the addon's layers do the .wat's float32 operations in the .wat's order (no fused
// multiply-add: built with -ffp-contract=off; the same Cephes sigmoid), and its output stage is
// output-stage.ts's float64 arithmetic with an exp that returns Math.exp's double. So for any network
// and input, every instruction set it was built for (AVX-512, AVX2, SSE2 on x86-64) must give the
// WebAssembly engine's probabilities, predictions and confidences exactly; there is no tolerance.
// (The WebAssembly engine itself is checked against the reference in kernels-property.test.ts.)
// Skipped, with the reason logged, where the addon is not built (no C++ compiler).
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { normalizationTable } from '../../src/data/normalize.js';
import {
  createForwardEngine,
  expCheckArguments,
  expMatches,
  loadNativeKernel,
  NativeForwardEngine,
  type ForwardEngine,
  type NativeAddon,
} from '../../src/nn/kernels/index.js';
import type { Network } from '../../src/nn/types.js';
import {
  arbitraryInputCase,
  arbitraryNetworkCase,
  engineScores,
  firstDifference,
  makeInputs,
  makeNetwork,
  uniform,
  type InputCase,
  type NetworkCase,
  type Scored,
} from './kernels-helpers.js';
import { nativeBuilt, nativeExactExp, nativeIsas, nativeReason } from './kernels-native-helpers.js';

const nativeTest = nativeBuilt ? test : test.skip;
const addon = (): NativeAddon => {
  const load = loadNativeKernel();
  if (!load.ok) throw new Error(load.reason);
  return load.addon;
};

function describe(n: NetworkCase, i: InputCase, maxRows: number): string {
  return (
    `${n.sizes.join('-')} ${n.activation}/${n.output} seed ${n.seed}, ${i.rows} rows (maxRows ${maxRows}` +
    `), zeros ${i.zeroInputs}`
  );
}

/** The first difference between two scorings, or null (Object.is: NaN equals NaN, -0 differs from 0). */
function difference(got: Scored, want: Scored): string | null {
  for (const key of ['probabilities', 'predicted', 'confidence'] as const) {
    const at = firstDifference(got[key], want[key]);
    if (at !== -1) return `${key}[${at}]: ${got[key][at]} vs ${want[key][at]}`;
  }
  return null;
}

function pixelScores(engine: ForwardEngine, pixels: Uint8Array, rows: number, normalization: 'unit' | 'none'): Scored {
  const predicted = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  const probabilities = new Float32Array(rows * engine.outputs);
  engine.predictPixels(pixels, rows, normalization, predicted, confidence, probabilities);
  return { predicted, confidence, probabilities };
}

test("the addon is built wherever a C++ compiler and Node's headers are (scripts/build-native.mjs)", (t) => {
  const compiler = spawnSync(process.env.CXX ?? 'g++', ['--version']).status === 0;
  const headers = existsSync(resolve(dirname(process.execPath), '../include/node/node_api.h'));
  if (compiler && headers) t.true(nativeBuilt, nativeReason);
  else t.log(`no compiler or headers here: the addon is optional (${nativeReason || 'built anyway'})`);
  if (nativeBuilt) t.log(`instruction sets here: ${nativeIsas.join(', ')}; exp matches Math.exp: ${nativeExactExp}`);
  t.pass();
});

nativeTest(
  'every instruction set equals the wasm engine bit for bit on random networks (all activations and outputs, chunked ' +
    'calls)',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryNetworkCase({ values: 'continuous' }),
        arbitraryInputCase,
        fc.integer({ min: 1, max: 40 }),
        async (n, i, maxRows) => {
          const network = makeNetwork(n);
          const x = makeInputs(n.sizes[0], i, n.values);
          const want = engineScores(await createForwardEngine(network, { maxRows, kind: 'wasm' }), x, i.rows);
          for (const isa of nativeIsas) {
            const problem = difference(
              engineScores(await createForwardEngine(network, { maxRows, kind: 'native', nativeIsa: isa }), x, i.rows),
              want,
            );
            if (problem) throw new Error(`${isa}: ${problem}: ${describe(n, i, maxRows)}`);
          }
        },
      ),
      { numRuns: 200 },
    );
    t.pass();
  },
);

nativeTest(
  'wide layers (several column blocks, several input blocks, tiles of 16 rows) equal the wasm engine bit for bit',
  async (t) => {
    // 784 inputs: 4 input blocks; 300 and 130 columns: several register blocks per row at every width.
    for (const sizes of [
      [784, 300, 130, 10],
      [1000, 40, 3],
      [5, 257, 1],
    ]) {
      for (const activation of ['sigmoid', 'relu'] as const) {
        const n: NetworkCase = {
          sizes,
          activation,
          output: 'softmax',
          values: 'continuous',
          seed: sizes[1],
          zeroWeights: 0.1,
        };
        const network = makeNetwork(n);
        const i: InputCase = { rows: 37, zeroInputs: 0.8, seed: 3 };
        const x = makeInputs(sizes[0], i, 'continuous');
        const want = engineScores(await createForwardEngine(network, { maxRows: 20, kind: 'wasm' }), x, i.rows);
        for (const isa of nativeIsas) {
          t.is(
            difference(
              engineScores(
                await createForwardEngine(network, { maxRows: 20, kind: 'native', nativeIsa: isa }),
                x,
                i.rows,
              ),
              want,
            ),
            null,
            `${isa} ${describe(n, i, 20)}`,
          );
        }
      }
    }
  },
);

nativeTest(
  "predictPixels equals the wasm engine's bit for bit (normalisation fused into the first layer)",
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryNetworkCase({ values: 'continuous', maxWidth: 70 }),
        arbitraryInputCase,
        fc.constantFrom('unit' as const, 'none' as const),
        async (n, i, normalization) => {
          const network = makeNetwork(n);
          const next = uniform(i.seed);
          const pixels = Uint8Array.from({ length: i.rows * n.sizes[0] }, () =>
            next() < i.zeroInputs ? 0 : Math.floor(next() * 256),
          );
          const want = pixelScores(
            await createForwardEngine(network, { maxRows: 5, kind: 'wasm' }),
            pixels,
            i.rows,
            normalization,
          );
          for (const isa of nativeIsas) {
            const problem = difference(
              pixelScores(
                await createForwardEngine(network, { maxRows: 5, kind: 'native', nativeIsa: isa }),
                pixels,
                i.rows,
                normalization,
              ),
              want,
            );
            if (problem) throw new Error(`${isa} ${normalization}: ${problem}: ${describe(n, i, 5)}`);
          }
        },
      ),
      { numRuns: 150 },
    );
    t.pass();
  },
);

nativeTest("the addon's exp is Math.exp bit for bit (the load-time sample and 3 million more arguments)", (t) => {
  t.true(expMatches(addon(), expCheckArguments()));
  t.true(nativeExactExp, 'the loader found them equal too');
  const next = uniform(20261204);
  const bits = new Uint32Array(2);
  const asDouble = new Float64Array(bits.buffer);
  const args = new Float64Array(1_000_000);
  const got = new Float64Array(args.length);
  const draws: Array<() => number> = [
    () => (next() - 0.9) * 1600, // every branch, overflow and underflow included
    () => Math.fround(next() * -40) - Math.fround(next() * 40), // what the softmax passes: float32 - float32
    () => {
      bits[0] = next() * 2 ** 32;
      bits[1] = next() * 2 ** 32;
      return asDouble[0]; // any double, NaNs and subnormals included
    },
  ];
  for (const draw of draws) {
    for (let i = 0; i < args.length; i++) args[i] = draw();
    addon().exp(args, got);
    let mismatches = 0;
    for (let i = 0; i < args.length; i++) if (!Object.is(got[i], Math.exp(args[i]))) mismatches++;
    t.is(mismatches, 0);
  }
});

nativeTest(
  'the output stage in the addon equals the JavaScript one (output-stage.ts), extreme and NaN logits included',
  async (t) => {
    const load = loadNativeKernel();
    if (!load.ok) return t.fail(load.reason);
    // One identity layer passes the inputs through as logits (x * 1 plus exact zero products).
    const rows = [
      [1010, 1000, 990, 0],
      [-1e30, -1e30, 0, 1],
      [0.1, 0.2, 0.7, 0.7],
      [-3e38, 3e38, 0, 1],
      [Number.NaN, 0, 1, 2],
      [0, 0, 0, 0],
      [88.7, -88.7, 1e-40, -0],
    ];
    const size = 4;
    const identity = new Float32Array(size * size);
    for (let j = 0; j < size; j++) identity[j * size + j] = 1;
    for (const output of ['softmax', 'sigmoid', 'identity'] as const) {
      const network: Network = {
        activation: 'sigmoid',
        output,
        layers: [{ W: { rows: size, cols: size, data: identity }, b: new Float32Array(size) }],
      };
      const x = Float32Array.from(rows.flat());
      for (const isa of nativeIsas) {
        const inAddon = engineScores(
          new NativeForwardEngine(load.addon, load.isas, network, 3, { isa }),
          x,
          rows.length,
        );
        const inJs = engineScores(
          new NativeForwardEngine(load.addon, load.isas, network, 3, { isa, nativeOutput: false }),
          x,
          rows.length,
        );
        t.is(difference(inAddon, inJs), null, `${output} ${isa}`);
      }
    }
    // And on random networks: every output function, continuous values.
    await fc.assert(
      fc.asyncProperty(arbitraryNetworkCase({ values: 'continuous' }), arbitraryInputCase, async (n, i) => {
        const network = makeNetwork(n);
        const x = makeInputs(n.sizes[0], i, n.values);
        const inAddon = engineScores(new NativeForwardEngine(load.addon, load.isas, network, 4), x, i.rows);
        const inJs = engineScores(
          new NativeForwardEngine(load.addon, load.isas, network, 4, { nativeOutput: false }),
          x,
          i.rows,
        );
        const problem = difference(inAddon, inJs);
        if (problem) throw new Error(`${problem}: ${describe(n, i, 4)}`);
      }),
      { numRuns: 100 },
    );
  },
);

nativeTest('the addon refuses bad arguments with an exception, never a bad read or write', (t) => {
  const a = addon();
  const isa = nativeIsas[0];
  const memory = new ArrayBuffer(4096);
  const layout = Int32Array.of(4, 1, 3, 2, 0, 2048, 8, 3);
  const weights = [new Float32Array(24), new Float32Array(3)];
  const handle = a.create(layout, weights, memory, isa);
  const x = new Float32Array(32);
  const p = new Int32Array(4);
  const c = new Float32Array(4);
  t.notThrows(() => a.forward(handle, memory, x, 4, 0, p, c, null, 0));
  t.throws(() => a.create(Int32Array.of(4, 1, 3, 2, 0, 2048, 8), weights, memory, isa), { message: /layout/ });
  t.throws(() => a.create(Int32Array.of(4, 1, 9, 2, 0, 2048, 8, 3), weights, memory, isa), { message: /activation/ });
  t.throws(() => a.create(Int32Array.of(4, 1, 3, 2, 0, 4090, 8, 3), weights, memory, isa), {
    message: /logits rows lie outside/,
  });
  t.throws(() => a.create(layout, [new Float32Array(23), new Float32Array(3)], memory, isa), { message: /W is not/ });
  t.throws(() => a.create(layout, weights, memory, 'avx9000'), { message: /isa/ });
  t.throws(() => a.forward(handle, new ArrayBuffer(4096), x, 4, 0, p, c, null, 0), { message: /not the memory/ });
  t.throws(() => a.forward(handle, memory, x, 5, 0, p, c, null, 0), { message: /maxRows/ });
  t.throws(() => a.forward(handle, memory, x.subarray(0, 31), 4, 0, p, c, null, 0), {
    message: /fewer than rows x inputs/,
  });
  t.throws(() => a.forward(handle, memory, new Uint8Array(32), 4, 0, p, c, null, 0), { message: /Float32Array/ });
  t.throws(() => a.forward(handle, memory, x, 4, 255, p, c, null, 0), { message: /Uint8Array/ });
  t.throws(() => a.forward(handle, memory, null, 4, 255, p, c, null, 0), { message: /floats/ });
  t.throws(() => a.forward(handle, memory, x, 4, 0, p, c, null, 1), { message: /first \+ rows/ });
  t.throws(() => a.forward(handle, memory, x, 4, 0, p, c, new Float32Array(11), 0), { message: /probabilities/ });
  t.throws(() => a.forward(handle, memory, x, 4, -1, p, c, null, 0), { message: /divisor/ });
  t.throws(() => a.exp(new Float64Array(3), new Float64Array(2)), { message: /shorter/ });
});

test(
  "input() and predictInput(): the caller fills the engine's own rows; same results as predict(), for every " +
    'engine',
  async (t) => {
    const network = makeNetwork({
      sizes: [50, 12, 4],
      activation: 'sigmoid',
      output: 'softmax',
      values: 'continuous',
      seed: 9,
      zeroWeights: 0,
    });
    const kinds = nativeBuilt ? (['js', 'wasm', 'native'] as const) : (['js', 'wasm'] as const);
    for (const kind of kinds) {
      const engine = await createForwardEngine(network, { maxRows: 6, kind });
      for (const rows of [6, 1, 3, 0, 6]) {
        const x = makeInputs(50, { rows, zeroInputs: 0.6, seed: rows + 1 }, 'continuous');
        const view = engine.input(rows);
        t.is(view.length, rows * 50, kind);
        t.is(engine.input(rows), view, `${kind}: the same view while rows repeats`);
        view.set(x);
        const predicted = new Int32Array(rows);
        const confidence = new Float32Array(rows);
        const probabilities = new Float32Array(rows * 4);
        engine.predictInput(rows, predicted, confidence, probabilities);
        t.is(
          difference({ predicted, confidence, probabilities }, engineScores(engine, x, rows)),
          null,
          `${kind}, ${rows} rows`,
        );
      }
      t.throws(() => engine.input(7), { instanceOf: RangeError, message: /maxRows = 6/ }, kind);
      t.throws(() => engine.predictInput(7, new Int32Array(7), new Float32Array(7)), { instanceOf: RangeError }, kind);
    }
  },
);

nativeTest(
  'the addon runs in worker threads (one engine per thread, as the pool and the benchmark use it)',
  async (t) => {
    const network = makeNetwork({
      sizes: [30, 8, 3],
      activation: 'relu',
      output: 'softmax',
      values: 'continuous',
      seed: 4,
      zeroWeights: 0,
    });
    const x = makeInputs(30, { rows: 5, zeroInputs: 0.5, seed: 8 }, 'continuous');
    const want = engineScores(await createForwardEngine(network, { maxRows: 5, kind: 'native' }), x, 5);
    const kernels = new URL('../../src/nn/kernels/index.js', import.meta.url).href;
    const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(kernels)}).then(async ({ createForwardEngine }) => {
      const engine = await createForwardEngine(workerData.network, { maxRows: 5, kind: 'native' });
      const predicted = new Int32Array(5), confidence = new Float32Array(5), probabilities = new Float32Array(15);
      engine.predict(workerData.x, 5, predicted, confidence, probabilities);
      parentPort.postMessage({ kind: engine.kind, predicted, confidence, probabilities });
    });`;
    const results = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Scored & { kind: string }>((ok, fail) => {
            const worker = new Worker(source, { eval: true, workerData: { network, x } });
            worker.once('message', (message) => {
              ok(message as Scored & { kind: string });
              void worker.terminate();
            });
            worker.once('error', fail);
          }),
      ),
    );
    for (const result of results) {
      t.is(result.kind, 'native');
      t.is(difference(result, want), null);
    }
  },
);

nativeTest(
  'MNIST-like pixels through the unit table: native and wasm agree on predict() as on predictPixels()',
  async (t) => {
    const network = makeNetwork({
      sizes: [784, 50, 100, 10],
      activation: 'sigmoid',
      output: 'softmax',
      values: 'continuous',
      seed: 21,
      zeroWeights: 0,
    });
    const next = uniform(77);
    const rows = 70;
    const pixels = Uint8Array.from({ length: rows * 784 }, () => (next() < 0.8 ? 0 : Math.floor(next() * 256)));
    const table = normalizationTable('unit');
    const x = Float32Array.from(pixels, (p) => table[p]);
    const wasm = await createForwardEngine(network, { maxRows: 32, kind: 'wasm' });
    for (const isa of nativeIsas) {
      const native = await createForwardEngine(network, { maxRows: 32, kind: 'native', nativeIsa: isa });
      t.is(difference(engineScores(native, x, rows), engineScores(wasm, x, rows)), null, `${isa} predict`);
      t.is(
        difference(pixelScores(native, pixels, rows, 'unit'), engineScores(wasm, x, rows)),
        null,
        `${isa} predictPixels`,
      );
    }
  },
);
