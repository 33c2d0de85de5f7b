// `npm run convert`: the compiled CLI run as a child process (exit 0 written, 1 bad model, 2 bad usage).
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/nn/load-model.js';
import { readModelFile, writeModelFile } from '../../src/nn/model-files/index.js';
import { loadTinyFixture, modelFixture, sameBits, tempDir } from './model-test-helpers.js';

// dist/test/nn/ -> dist/src/cli/convert.js (or the same inside any other build folder).
const cli = fileURLToPath(new URL('../../src/cli/convert.js', import.meta.url));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

test('converts a pickle to safetensors, records metadata and prints one line', async (t) => {
  const out = join(await tempDir(t), 'tiny.safetensors');
  const input = modelFixture('tiny-p4.pkl');
  const result = await run(input, out, '--normalize', 'unit');
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  t.is(result.stdout.split('\n').length, 2);
  t.regex(
    result.stdout,
    /^wrote .*tiny\.safetensors \(safetensors, layers 4-3-2, activation sigmoid, output softmax, normalize unit, \d+ bytes, sha256 [0-9a-f]{64}\) from .*tiny-p4\.pkl \(pkl\)\n$/,
  );
  const file = await readModelFile(out);
  t.deepEqual(file.metadata, { activation: 'sigmoid', output: 'softmax', normalize: 'unit', layer_sizes: '[4,3,2]' });
  for (const [name, expected] of loadTinyFixture().tensors)
    t.true(sameBits(file.tensors.get(name)!.data, expected.data), name);
});

test('writes npz when OUT ends in .npz; options and free-form metadata are carried into the next conversion', async (t) => {
  const dir = await tempDir(t);
  const start = join(dir, 'start.safetensors');
  await writeModelFile(start, loadTinyFixture().tensors, { trained: 'seed 1', normalize: 'none' });
  const npz = join(dir, 'step1.npz');
  const first = await run(start, npz, '--activation', 'relu', '--output', 'identity');
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /\(npz, layers 4-3-2, activation relu, output identity, normalize none,/);
  const back = join(dir, 'step2.safetensors');
  const second = await run(npz, back);
  t.is(second.code, 0, second.stderr);
  t.deepEqual((await readModelFile(back)).metadata, {
    activation: 'relu',
    output: 'identity',
    normalize: 'none',
    layer_sizes: '[4,3,2]',
    trained: 'seed 1',
  });
});

test('without --normalize and none in the input, normalize is not recorded', async (t) => {
  const out = join(await tempDir(t), 'plain.safetensors');
  const result = await run(modelFixture('tiny.npz'), out);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /normalize not recorded/);
  t.false('normalize' in (await readModelFile(out)).metadata);
});

for (const [what, args] of [
  ['an unknown option', ['--bogus']],
  ['a bad --activation value', ['--activation', 'tanh']],
  ['a bad --normalize value', ['--normalize', 'zscore']],
] as const) {
  test(`${what} is a usage error: message and exit 2`, async (t) => {
    const out = join(await tempDir(t), 'x.safetensors');
    const result = await run(modelFixture('tiny.npz'), out, ...args);
    t.is(result.code, 2);
    t.regex(result.stderr, /^nnpipe convert: /);
    t.is(result.stdout, '');
  });
}

test('a missing argument, an OUT that is not .safetensors/.npz, and OUT == IN are usage errors (exit 2)', async (t) => {
  const dir = await tempDir(t);
  t.is((await run(modelFixture('tiny.npz'))).code, 2);
  const badExt = await run(modelFixture('tiny.npz'), join(dir, 'x.bin'));
  t.is(badExt.code, 2);
  t.regex(badExt.stderr, /OUT must end in \.safetensors or \.npz/);
  const copy = join(dir, 'same.npz');
  await copyFile(modelFixture('tiny.npz'), copy);
  const same = await run(copy, `${dir}/./same.npz`);
  t.is(same.code, 2);
  t.regex(same.stderr, /OUT .* is the same file as IN .*; refusing to overwrite the input model/);
  const link = join(dir, 'link.npz');
  await symlink(copy, link);
  const throughLink = await run(copy, link);
  t.is(throughLink.code, 2);
  t.regex(throughLink.stderr, /OUT .* is the same file as IN .*; refusing to overwrite the input model/);
});

test('a bad model exits 1 with "nnpipe convert: <message>"', async (t) => {
  const dir = await tempDir(t);
  const evil = modelFixture('evil-os-system-p2.pkl');
  const result = await run(evil, join(dir, 'x.safetensors'));
  t.is(result.code, 1);
  t.is(
    result.stderr,
    `nnpipe convert: ${evil}: pickle: refusing to load: the pickle references the forbidden global posix.system ` +
      `(only the globals numpy uses to rebuild arrays are allowed)\n`,
  );
  const missing = await run(join(dir, 'missing.pkl'), join(dir, 'y.safetensors'));
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^nnpipe convert: .*missing\.pkl: cannot read the model file \(ENOENT\)\n$/);
});

test('--help exits 0', async (t) => {
  const result = await run('--help');
  t.is(result.code, 0);
  t.regex(result.stdout, /Usage: nnpipe convert/);
});

test(
  'freezes a PyTorch state_dict and an ONNX graph as safetensors with canonical names, (in, out) weights and ' +
    'metadata',
  async (t) => {
    const dir = await tempDir(t);
    for (const [input, args, activation, output] of [
      ['torch-fc-relu.pt', ['--activation', 'relu'], 'relu', 'softmax'],
      ['torch-seq-sigmoid.onnx', [], 'sigmoid', 'identity'],
    ] as const) {
      const out = join(dir, `${input}.safetensors`);
      const result = await run(modelFixture(input), out, ...args, '--normalize', 'unit');
      t.is(result.code, 0, result.stderr);
      t.regex(
        result.stdout,
        new RegExp(`activation ${activation}, output ${output}, .*\\((pt|onnx); transposed [0-9a-z.]+\\.weight, `),
      );
      const original = await loadModel(modelFixture(input), { activation });
      const frozen = await readModelFile(out);
      t.deepEqual(
        [...frozen.tensors.keys()].sort(),
        original.network.layers.flatMap((_, k) => [`W${k + 1}`, `b${k + 1}`]).sort(),
      );
      t.is(frozen.metadata.activation, activation);
      t.is(frozen.metadata.output, output);
      t.is(frozen.metadata.normalize, 'unit');
      const reloaded = await loadModel(out);
      t.deepEqual(
        reloaded.layerSources.map((source) => source.transposed),
        original.network.layers.map(() => false),
      );
      reloaded.network.layers.forEach((layer, k) =>
        t.true(sameBits(layer.W.data, original.network.layers[k].W.data), `W${k + 1}`),
      );
    }
  },
);
