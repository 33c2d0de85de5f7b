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
  defaultNativeUrl,
  defaultWasmUrl,
  KERNEL_ERROR_CODE,
  loadForwardKernel,
  prepareForwardKernels,
} from '../../src/nn/kernels/index.js';
import { makeInputs, makeNetwork, referenceScores } from './kernels-helpers.js';
import { nativeBuilt } from './kernels-native-helpers.js';

const network = makeNetwork({
  sizes: [6, 5, 3],
  activation: 'sigmoid',
  output: 'softmax',
  values: 'continuous',
  seed: 5,
  zeroWeights: 0,
});
const missing = new URL('./no-such-kernel.wasm', defaultWasmUrl);
/** The WebAssembly fallback tests run as if the addon were not built. */
const noNative = new URL('./no-such-kernel.node', defaultNativeUrl);

test(
  'the kernel is built: forward-kernel.wasm beside the compiled loader (node scripts/build-wasm.mjs --out-dir ' +
    '<tsc outDir>)',
  async (t) => {
    t.true(existsSync(fileURLToPath(defaultWasmUrl)), `${fileURLToPath(defaultWasmUrl)} is missing`);
    const load = await loadForwardKernel();
    t.true(load.ok, load.ok ? '' : load.reason);
  },
);

test('auto picks native when the addon is built, else wasm; js, wasm and native when asked; detail names the engine', async (t) => {
  const warnings: string[] = [];
  const onWarning = (message: string) => warnings.push(message);
  const best = nativeBuilt ? 'native' : 'wasm';
  t.is((await createForwardEngine(network, { maxRows: 4, onWarning })).kind, best);
  t.is((await createForwardEngine(network, { maxRows: 4, kind: 'auto', onWarning })).kind, best);
  t.is((await createForwardEngine(network, { maxRows: 4, kind: 'auto', nativeUrl: noNative, onWarning })).kind, 'wasm');
  const js = await createForwardEngine(network, { maxRows: 4, kind: 'js', onWarning });
  t.is(js.kind, 'js');
  t.is(js.detail, 'js');
  const wasm = await createForwardEngine(network, { maxRows: 4, kind: 'wasm', onWarning });
  t.is(wasm.kind, 'wasm');
  t.is(wasm.detail, 'wasm simd128');
  if (nativeBuilt) {
    const native = await createForwardEngine(network, { maxRows: 4, kind: 'native', onWarning });
    t.is(native.kind, 'native');
    t.regex(native.detail, /^native (avx512|avx2|sse2|generic)$/);
  }
  t.deepEqual(warnings, [], 'no warning while native or wasm runs');
});

test('addon missing: native asked for explicitly is a PipelineError PIPE_ERR_KERNEL that says how to build it', async (t) => {
  const error = await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'native', nativeUrl: noNative }), {
    instanceOf: PipelineError,
  });
  t.is((error as PipelineError).code, KERNEL_ERROR_CODE);
  t.regex(error!.message, /native forward kernel is not available: .*no-such-kernel\.node is not built/);
  t.regex(error!.message, /build-native/);
});

test('a file that is not an addon: native refuses, auto takes wasm', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kernels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'broken.node');
  writeFileSync(file, 'not a shared object');
  const broken = pathToFileURL(file);
  t.is((await createForwardEngine(network, { maxRows: 4, nativeUrl: broken })).kind, 'wasm');
  await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'native', nativeUrl: broken }), {
    message: /does not load here/,
  });
});

test('kernel file missing: auto falls back to js with one warning that says what to do', async (t) => {
  const warnings: string[] = [];
  const engine = await createForwardEngine(network, {
    maxRows: 4,
    wasmUrl: missing,
    nativeUrl: noNative,
    onWarning: (m) => warnings.push(m),
  });
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
    await createForwardEngine(network, { maxRows: 4, wasmUrl: missing, nativeUrl: noNative });
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  t.true(
    seen.some((w) => w.code === 'NNPIPE_KERNEL_FALLBACK' && /is missing/.test(w.message)),
    JSON.stringify(seen),
  );
});

test('kernel file missing: wasm asked for explicitly is a PipelineError PIPE_ERR_KERNEL, no fallback', async (t) => {
  const error = await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'wasm', wasmUrl: missing }), {
    instanceOf: PipelineError,
  });
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
  t.is(
    (
      await createForwardEngine(network, {
        maxRows: 4,
        wasmUrl: notWasm,
        nativeUrl: noNative,
        onWarning: (m) => warnings.push(m),
      })
    ).kind,
    'js',
  );
  t.regex(warnings[0], /does not compile/);
});

test('createForwardEngineSync builds engines from one awaited load', async (t) => {
  const load = await loadForwardKernel();
  t.is(createForwardEngineSync(network, { maxRows: 2 }, load).kind, nativeBuilt ? 'native' : 'wasm');
  t.is(createForwardEngineSync(network, { maxRows: 2, nativeUrl: noNative }, load).kind, 'wasm');
  t.is(createForwardEngineSync(network, { maxRows: 2, kind: 'js' }, null).kind, 'js');
  t.throws(() => createForwardEngineSync(network, { maxRows: 2, kind: 'wasm' }, null), { message: /not available/ });
  // the addon loads synchronously: native needs no awaited load
  if (nativeBuilt) t.is(createForwardEngineSync(network, { maxRows: 2, kind: 'native' }, null).kind, 'native');
});

test('bad options and bad networks are refused with messages that name the problem', async (t) => {
  await t.throwsAsync(createForwardEngine(network, { maxRows: 0 }), { instanceOf: RangeError, message: /maxRows/ });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 1.5, kind: 'js' }), {
    instanceOf: RangeError,
    message: /maxRows/,
  });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'gpu' as never }), {
    instanceOf: RangeError,
    message: /options\.kind/,
  });
  await t.throwsAsync(createForwardEngine({ ...network, layers: [] }, { maxRows: 4, kind: 'js' }), {
    message: /no layers/,
  });
  const mismatched = { ...network, layers: [network.layers[0], network.layers[0]] };
  await t.throwsAsync(createForwardEngine(mismatched, { maxRows: 4, kind: 'wasm' }), {
    message: /layer 2 takes 6 inputs/,
  });
  await t.throwsAsync(createForwardEngine(network, { maxRows: 1e9, kind: 'wasm' }), {
    instanceOf: RangeError,
    message: /maxRows/,
  });
  if (nativeBuilt) {
    await t.throwsAsync(createForwardEngine(network, { maxRows: 1e9, kind: 'native' }), {
      instanceOf: RangeError,
      message: /maxRows/,
    });
    await t.throwsAsync(createForwardEngine(network, { maxRows: 4, kind: 'native', nativeIsa: 'avx9000' }), {
      instanceOf: RangeError,
      message: /nativeIsa 'avx9000'/,
    });
    await t.throwsAsync(createForwardEngine(mismatched, { maxRows: 4, kind: 'native' }), {
      message: /layer 2 takes 6 inputs/,
    });
  }
});

test('predict refuses arrays too short for the rows, for every engine', async (t) => {
  for (const kind of nativeBuilt ? (['js', 'wasm', 'native'] as const) : (['js', 'wasm'] as const)) {
    const engine = await createForwardEngine(network, { maxRows: 4, kind });
    const x = new Float32Array(12);
    t.throws(() => engine.predict(x, 3, new Int32Array(3), new Float32Array(3)), {
      instanceOf: RangeError,
      message: /x holds 12 values/,
    });
    t.throws(() => engine.predict(x, 2, new Int32Array(1), new Float32Array(2)), {
      instanceOf: RangeError,
      message: /predicted/,
    });
    t.throws(() => engine.predict(x, 2, new Int32Array(2), new Float32Array(2), new Float32Array(5)), {
      instanceOf: RangeError,
      message: /probabilities/,
    });
    t.throws(() => engine.predict(x, -1, new Int32Array(2), new Float32Array(2)), {
      instanceOf: RangeError,
      message: /rows/,
    });
    t.notThrows(() => engine.predict(x, 0, new Int32Array(0), new Float32Array(0)));
  }
});

test('prepareForwardKernels loads what the kind may run, for createForwardEngineSync', async (t) => {
  t.is(await prepareForwardKernels('js'), null);
  t.is(await prepareForwardKernels('native'), null, 'native needs no WebAssembly module');
  const auto = await prepareForwardKernels('auto');
  t.true(auto?.ok);
  t.is(createForwardEngineSync(network, { maxRows: 2 }, auto).kind, nativeBuilt ? 'native' : 'wasm');
  t.is(
    createForwardEngineSync(network, { maxRows: 2, kind: 'wasm' }, await prepareForwardKernels('wasm')).kind,
    'wasm',
  );
  await t.throwsAsync(prepareForwardKernels('gpu' as never), { instanceOf: RangeError });
});
