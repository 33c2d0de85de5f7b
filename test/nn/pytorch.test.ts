// PyTorch checkpoints: the committed torch.save fixtures (scripts/make-torch-fixtures.py, torch 1.13) load
// and compute what torch computed; every float dtype and non-contiguous storage reads exactly; the tests'
// own writer round-trips; hostile and malformed archives are refused with a ModelError and nothing run.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forward } from '../../src/nn/forward.js';
import { loadModel } from '../../src/nn/load-model.js';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { randomTensors } from '../helpers/models.js';
import { torchStateDict, transposed, type TorchTensorSpec, type TorchWriterOptions } from '../helpers/torch-writer.js';
import { assertModelError, modelFixture, tempDir } from './model-test-helpers.js';

interface Probe {
  activation: 'relu' | 'sigmoid';
  output: 'softmax' | 'identity';
  rows: number;
  x: number[];
  y: number[];
  tensors?: Record<string, { shape: number[]; data: number[] }>;
  f16_values?: Record<string, number[]>;
  bf16_values?: Record<string, number[]>;
}
const probes = (
  JSON.parse(readFileSync(modelFixture('torch-fixtures.json'), 'utf8')) as { models: Record<string, Probe> }
).models;

/** Our forward pass on the probe rows against torch's output. */
function largestDifference(network: Parameters<typeof forward>[0], probe: Probe): number {
  const y = forward(network, Float32Array.from(probe.x), probe.rows);
  return Math.max(...probe.y.map((value, i) => Math.abs(value - y[i])));
}

for (const [file, probeName] of [
  ['torch-fc-relu.pt', 'torch-fc-relu'],
  ['torch-seq-sigmoid.pt', 'torch-seq-sigmoid'],
  ['torch-tiny-strided.pt', 'torch-tiny'],
] as const) {
  test(`${file} (torch.save) computes what torch computed`, async (t) => {
    const probe = probes[probeName];
    const model = await loadModel(modelFixture(file), { activation: probe.activation, output: probe.output });
    t.is(model.format, 'pt');
    const difference = largestDifference(model.network, probe);
    t.log(`largest |ours - torch| = ${difference.toExponential(2)}`);
    t.true(difference < 1e-5);
  });
}

test('a state_dict in (out, in) layout is transposed, and says so', async (t) => {
  const model = await loadModel(modelFixture('torch-fc-relu.pt'));
  t.deepEqual(model.layerSizes, [784, 16, 10]);
  t.deepEqual(
    model.layerSources.map((source) => [source.weight, source.bias, source.storedShape, source.transposed]),
    [
      ['fc1.weight', 'fc1.bias', [16, 784], true],
      ['fc2.weight', 'fc2.bias', [10, 16], true],
    ],
  );
  t.deepEqual(model.settingSources, { activation: 'default', output: 'default' });
});

test('float64, float16 and bfloat16 storages read exactly; a non-contiguous storage reads like a contiguous one', async (t) => {
  const probe = probes['torch-tiny'];
  const values = (name: string) => Float32Array.from(probe.tensors![name].data);
  const f64 = await readModelFile(modelFixture('torch-tiny-f64.pt'));
  const strided = await readModelFile(modelFixture('torch-tiny-strided.pt'));
  const f16 = await readModelFile(modelFixture('torch-tiny-f16.pt'));
  const bf16 = await readModelFile(modelFixture('torch-tiny-bf16.pt'));
  for (const name of Object.keys(probe.tensors!)) {
    t.deepEqual(f64.tensors.get(name)!.shape, probe.tensors![name].shape);
    t.deepEqual(f64.tensors.get(name)!.data, values(name), `${name} float64 -> float32`);
    t.deepEqual(strided.tensors.get(name)!.data, values(name), `${name} strided`);
    t.deepEqual(f16.tensors.get(name)!.data, Float32Array.from(probe.f16_values![name]), `${name} float16`);
    t.deepEqual(bf16.tensors.get(name)!.data, Float32Array.from(probe.bf16_values![name]), `${name} bfloat16`);
  }
});

const tiny = randomTensors([6, 5, 3], 7);
const tinySpecs = (dtype?: 'float64', columnMajor = false): TorchTensorSpec[] =>
  [1, 2].flatMap((k) => [
    { name: `fc${k}.weight`, tensor: transposed(tiny.get(`W${k}`)!), dtype, columnMajor },
    { name: `fc${k}.bias`, tensor: tiny.get(`b${k}`)!, dtype },
  ]);

async function savePt(
  t: import('ava').ExecutionContext,
  name: string,
  specs: TorchTensorSpec[],
  options?: TorchWriterOptions,
): Promise<string> {
  const path = join(await tempDir(t), name);
  await writeFile(path, await torchStateDict(specs, options));
  return path;
}

test(
  "the tests' writer round-trips: float32, float64, column-major and big-endian (byteorder) storages give the " +
    'same network',
  async (t) => {
    for (const [dtype, columnMajor, bigEndian] of [
      [undefined, false, false],
      ['float64', false, false],
      [undefined, true, false],
      ['float64', true, true],
      [undefined, false, true],
    ] as const) {
      const model = await loadModel(await savePt(t, 'w.pt', tinySpecs(dtype, columnMajor), { bigEndian }));
      t.deepEqual(model.network.layers[0].W.data, tiny.get('W1')!.data);
      t.deepEqual(model.network.layers[1].b, tiny.get('b2')!.data);
    }
  },
);

test('any folder name and a .pth extension are read; a zip without data.pkl named .pt is refused', async (t) => {
  const model = await loadModel(await savePt(t, 'w.pth', tinySpecs(), { folder: 'my_checkpoint' }));
  t.is(model.format, 'pt');
  const dir = await tempDir(t);
  const npzAsPt = join(dir, 'numpy.pt');
  await writeFile(npzAsPt, readFileSync(modelFixture('tiny.npz')));
  await assertModelError(
    t,
    () => readModelFile(npzAsPt),
    npzAsPt,
    /pytorch: the zip holds no FOLDER\/data\.pkl member/,
  );
});

const refusals: [string, string, RegExp, TorchWriterOptions?, TorchTensorSpec[]?][] = [
  ['the real torch.save of a REDUCE of os.system', 'torch-evil-os-system.pt', /forbidden global posix\.system/],
  [
    'a whole pickled module',
    'torch-whole-module.pt',
    /forbidden global __main__\.FcRelu.*It looks like a whole model saved with torch\.save\(model\)/,
  ],
  [
    'a training checkpoint dict',
    'torch-checkpoint.pt',
    /looks like a training checkpoint \(the key model_state_dict holds a dict\)/,
  ],
];
for (const [what, file, pattern] of refusals) {
  test(`refused: ${what}`, async (t) => {
    await assertModelError(t, () => readModelFile(modelFixture(file)), modelFixture(file), pattern);
  });
}

const written: [string, RegExp, TorchWriterOptions, TorchTensorSpec[]?][] = [
  [
    'os.system before any tensor',
    /forbidden global os\.system/,
    { firstItem: (p) => p.global('os', 'system').mark().str('echo').tuple().reduce().pop() },
  ],
  [
    'builtins.eval after the tensors',
    /forbidden global builtins\.eval/,
    { beforeStop: (p) => p.global('builtins', 'eval').mark().str('1').tuple().reduce().pop() },
  ],
  [
    'a storage type called as a function',
    /torch\.FloatStorage is called/,
    { beforeStop: (p) => p.global('torch', 'FloatStorage').emptyTuple().reduce().pop() },
  ],
  [
    'a member name with ..',
    /path traversal.*archive\/\.\.\/x/,
    { extraMembers: [['archive/zz/x', Buffer.from('1')]], renameMember: ['archive/zz/x', 'archive/../x'] },
  ],
  [
    'an absolute member name',
    /path traversal.*\/archive\/x/,
    { extraMembers: [['zarchive/x', Buffer.from('1')]], renameMember: ['zarchive/x', '/archive/x'] },
  ],
  [
    'a storage claiming more values than its member holds',
    /storage 1 claims 6 values of float32 \(24 bytes\), but member archive\/data\/1 holds 20 bytes/,
    { claimedNumel: new Map([[1, 6]]) },
  ],
  [
    'a storage claiming 2^40 values (no allocation)',
    /storage 0 claims 1099511627776 values/,
    { claimedNumel: new Map([[0, 2 ** 40]]) },
  ],
  [
    'a TorchScript archive',
    /TorchScript archive \(torch\.jit\.save\)/,
    { extraMembers: [['archive/constants.pkl', Buffer.from([0x80, 2, 0x29, 0x2e])]] },
  ],
  [
    'a member outside the folder',
    /member other\/x is outside the archive's folder archive\//,
    { extraMembers: [['other/x', Buffer.from('1')]] },
  ],
  [
    'a missing storage member',
    /storage 0 has no member archive\/data\/0/,
    { renameMember: ['archive/data/0', 'archive/data/9'] },
  ],
];
for (const [what, pattern, options, specs] of written) {
  test(`refused: ${what}`, async (t) => {
    const path = await savePt(t, 'bad.pt', specs ?? tinySpecs(), options);
    await assertModelError(t, () => readModelFile(path), path, pattern);
  });
}

test('refused: a tensor whose offset, size and strides reach past its storage', async (t) => {
  // fc0.bias: 5 values from offset 1 of the 5-value storage 0 (fc1.bias's).
  const reaching = await savePt(t, 'strides2.pt', [{ name: 'fc1.bias', tensor: tiny.get('b1')! }], {
    firstItem: (p) =>
      p
        .str('fc0.bias')
        .global('torch._utils', '_rebuild_tensor_v2')
        .mark()
        .mark()
        .str('storage')
        .global('torch', 'FloatStorage')
        .str('0')
        .str('cpu')
        .int(5)
        .tuple()
        .binPersId()
        .int(1)
        .intTuple([5])
        .intTuple([1])
        .bool(false)
        .global('collections', 'OrderedDict')
        .emptyTuple()
        .reduce()
        .tuple()
        .reduce(),
  });
  await assertModelError(
    t,
    () => readModelFile(reaching),
    reaching,
    /tensor fc0\.bias: offset 1, size \(5\) and stride \(1\) reach element 5 of a storage of 5/,
  );
});

test('refused: integer tensors, naming the dtype; a legacy (non-zip) .pt, saying how to re-save', async (t) => {
  const path = await savePt(t, 'int.pt', tinySpecs(), {
    firstItem: (p) =>
      p
        .str('bn.num_batches_tracked')
        .global('torch._utils', '_rebuild_tensor_v2')
        .mark()
        .mark()
        .str('storage')
        .global('torch', 'LongStorage')
        .str('7')
        .str('cpu')
        .int(1)
        .tuple()
        .binPersId()
        .int(0)
        .emptyTuple()
        .emptyTuple()
        .bool(false)
        .global('collections', 'OrderedDict')
        .emptyTuple()
        .reduce()
        .tuple()
        .reduce(),
    extraMembers: [['archive/data/7', Buffer.alloc(8)]],
  });
  await assertModelError(
    t,
    () => readModelFile(path),
    path,
    /tensor bn\.num_batches_tracked has dtype int64; only float32, float64, float16 and bfloat16/,
  );
  const legacy = join(await tempDir(t), 'legacy.pt');
  await writeFile(legacy, readFileSync(modelFixture('tiny-p2.pkl')));
  await assertModelError(
    t,
    () => readModelFile(legacy),
    legacy,
    /legacy \(non-zip\) PyTorch format .* torch\.save\(model\.state_dict\(\), 'model\.pt'\)/,
  );
});

test('refused: one storage referred to with two dtypes', async (t) => {
  // fc0.bias reads storage 1 (fc1.bias's float32 values) as float64.
  const path = await savePt(t, 'shared.pt', tinySpecs(), {
    beforeStop: (p) =>
      p
        .mark()
        .str('fc0.bias')
        .global('torch._utils', '_rebuild_tensor_v2')
        .mark()
        .mark()
        .str('storage')
        .global('torch', 'DoubleStorage')
        .str('1')
        .str('cpu')
        .int(5)
        .tuple()
        .binPersId()
        .int(0)
        .intTuple([5])
        .intTuple([1])
        .bool(false)
        .global('collections', 'OrderedDict')
        .emptyTuple()
        .reduce()
        .tuple()
        .reduce()
        .setItems(),
  });
  await assertModelError(
    t,
    () => readModelFile(path),
    path,
    /storage 1 is referred to as 5 values of float32 and as 5 of float64/,
  );
});
