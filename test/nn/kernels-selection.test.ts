// Engine selection and fallback, option and argument checks.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PipelineError } from '../../src/errors.js';
import {
  createForwardEngine,
  createForwardEngineSync,
  defaultWasmUrl,
  KERNEL_ERROR_CODE,
  loadForwardKernel,
} from '../../src/nn/kernels/index.js';
import { makeInputs, makeNetwork, referenceScores } from './kernels-helpers.js';

const network = makeNetwork({ sizes: [6, 5, 3], activation: 'sigmoid', output: 'softmax', values: 'continuous', seed: 5, zeroWeights: 0 });
const missing = new URL('./no-such-kernel.wasm', defaultWasmUrl);

test('the kernel is built: forward-kernel.wasm beside the compiled loader (node scripts/build-wasm.mjs --out-dir <tsc outDir>)', async (t) => {
  t.true(existsSync(fileURLToPath(defaultWasmUrl)), `${fileURLToPath(defaultWasmUrl)} is missing`);
  const load = await loadForwardKernel();
  t.true(load.ok, load.ok ? '' : load.reason);
});

test('auto picks wasm when the kernel is built; js and wasm when asked', async (t) => {
  const warnings: string[] = [];
  const onWarning = (message: string) => warnings.push(message);
  t.is((await createForwardEngine(network, { maxRows: 4, onWarning })).kind, 'wasm');
  t.is((await createForwardEngine(network, { maxRows: 4, kind: 'auto', onWarning })).kind, 'wasm');
  t.is((await createForwardEngine(network, { maxRows: 4, kind: 'js', onWarning })).kind, 'js');
  t.is((await createForwardEngine(network, { maxRows: 4, kind: 'wasm', onWarning })).kind, 'wasm');
  t.deepEqual(warnings, []);
});

test('kernel file missing: auto falls back to js with one warning that says what to do', async (t) => {
  const warnings: string[] = [];
  const engine = await createForwardEngine(network, { maxRows: 4, wasmUrl: missing, onWarning: (m) => warnings.push(m) });
  t.is(engine.kind, 'js');
  t.is(warnings.length, 1);
  t.regex(warnings[0], /JavaScript forward kernel/);
  t.regex(warnings[0], /no-such-kernel\.wasm is missing/);
  t.regex(warnings[0], /build-wasm/);
  // and it still scores correctly
  const x = makeInputs(6, { rows: 2, zeroInputs: 0.5, seed: 1 }, 'continuous');
  const predicted = new Int32Array(2);
  engine.predict(x, 2, predicted, new Float32Array(2));
  t.deepEqual([...predicted], [...referenceScores(network, x, 2).predicted]);
});

test('kernel file missing: auto without onWarning emits a process warning (NNPIPE_KERNEL_FALLBACK)', async (t) => {
  const seen: Array<{ code?: string; message: string }> = [];
  const listener = (warning: Error & { code?: string }) => seen.push({ code: warning.code, message: warning.message });
  process.on('warning', listener);
  try {
    await createForwardEngine(network, { maxRows: 4, wasmUrl: missing });
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  t.true(seen.some((w) => w.code === 'NNPIPE_KERNEL_FALLBACK' && /is missing/.test(w.message)), JSON.stringify(seen));
});

test('kernel file missing: wasm asked for explicitly is a PipelineError PIPE_ERR_KERNEL, no fallback', async (t) => {
  const error = await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'wasm', wasmUrl: missing }), { instanceOf: PipelineError });
  t.is((error as PipelineError).code, KERNEL_ERROR_CODE);
  t.regex(error!.message, /is missing/);
});

test('a file that is not a WebAssembly module: auto falls back, saying it does not compile', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kernels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'broken.wasm');
  writeFileSync(file, '(module) is text, not a binary module');
  const notWasm = pathToFileURL(file);
  const warnings: string[] = [];
  t.is((await createForwardEngine(network, { maxRows: 4, wasmUrl: notWasm, onWarning: (m) => warnings.push(m) })).kind, 'js');
  t.regex(warnings[0], /does not compile/);
});

test('createForwardEngineSync builds engines from one awaited load', async (t) => {
  const load = await loadForwardKernel();
  t.is(createForwardEngineSync(network, { maxRows: 2 }, load).kind, 'wasm');
  t.is(createForwardEngineSync(network, { maxRows: 2, kind: 'js' }, null).kind, 'js');
  t.throws(() => createForwardEngineSync(network, { maxRows: 2, kind: 'wasm' }, null), { message: /not available/ });
});

test('bad options and bad networks are refused with messages that name the problem', async (t) => {
  await t.throwsAsync(createForwardEngine(network, { maxRows: 0 }), { instanceOf: RangeError, message: /maxRows/ });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 1.5, kind: 'js' }), { instanceOf: RangeError, message: /maxRows/ });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'gpu' as never }), { instanceOf: RangeError, message: /options\.kind/ });
  await t.throwsAsync(createForwardEngine({ ...network, layers: [] }, { maxRows: 4, kind: 'js' }), { message: /no layers/ });
  const mismatched = { ...network, layers: [network.layers[0], network.layers[0]] };
  await t.throwsAsync(createForwardEngine(mismatched, { maxRows: 4, kind: 'wasm' }), { message: /layer 2 takes 6 inputs/ });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 1e9, kind: 'wasm' }), { instanceOf: RangeError, message: /maxRows/ });
});

test('predict refuses arrays too short for the rows, for both engines', async (t) => {
  for (const kind of ['js', 'wasm'] as const) {
    const engine = await createForwardEngine(network, { maxRows: 4, kind });
    const x = new Float32Array(12);
    t.throws(() => engine.predict(x, 3, new Int32Array(3), new Float32Array(3)), { instanceOf: RangeError, message: /x holds 12 values/ });
    t.throws(() => engine.predict(x, 2, new Int32Array(1), new Float32Array(2)), { instanceOf: RangeError, message: /predicted/ });
    t.throws(() => engine.predict(x, 2, new Int32Array(2), new Float32Array(2), new Float32Array(5)), { instanceOf: RangeError, message: /probabilities/ });
    t.throws(() => engine.predict(x, -1, new Int32Array(2), new Float32Array(2)), { instanceOf: RangeError, message: /rows/ });
    t.notThrows(() => engine.predict(x, 0, new Int32Array(0), new Float32Array(0)));
  }
});
