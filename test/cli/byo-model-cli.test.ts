// Bring your own model through the real CLI: the committed torch.save / torch.onnx.export fixtures give the
// same predictions in every format; an unsupported ONNX op, hostile .pt files and a mismatched chain end
// with a clear message and exit 1, with nothing executed; `nnpipe inspect` describes every format.
import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModelFile } from '../../src/nn/model-files/index.js';
import { runPipeline } from '../helpers/cli.js';
import { randomTensors, writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';
import { torchStateDict, transposed } from '../helpers/torch-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-byo-cli-'));
const input = fixture('mnist-test-100.csv');
const model = (name: string) => fixture(`models/${name}`);

async function predictions(modelPath: string, extra: string[] = []): Promise<string[]> {
  const out = join(
    dir,
    `${createHash('sha256')
      .update(modelPath + extra.join(' '))
      .digest('hex')
      .slice(0, 12)}.csv`,
  );
  const run = await runPipeline(['--input', input, '--model', modelPath, '--quiet', '--predictions', out, ...extra]);
  if (run.code !== 0) throw new Error(`${modelPath}: exit ${run.code}: ${run.stderr}`);
  return readFileSync(out, 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(',')[3]);
}

test(
  'torch.save and torch.onnx.export of one network predict alike: .pt (--activation relu) and .onnx (relu from ' +
    'the graph)',
  async (t) => {
    const [pt, onnx] = await Promise.all([
      predictions(model('torch-fc-relu.pt'), ['--activation', 'relu']),
      predictions(model('torch-fc-relu.onnx')),
    ]);
    t.is(pt.length, 100);
    t.deepEqual(pt, onnx);
  },
);

test('a Sequential saved as .pt, as numpy .npz and exported to ONNX (Flatten, logits) predicts alike', async (t) => {
  const [pt, npz, onnx] = await Promise.all([
    predictions(model('torch-seq-sigmoid.pt')),
    predictions(model('torch-seq-sigmoid.npz')),
    predictions(model('torch-seq-sigmoid.onnx')),
  ]);
  t.is(pt.length, 100);
  t.deepEqual(npz, pt);
  t.deepEqual(onnx, pt);
});

async function refused(t: import('ava').ExecutionContext, modelPath: string, ...patterns: RegExp[]) {
  const run = await runPipeline(['--input', input, '--model', modelPath, '--quiet']);
  t.is(run.code, 1, run.stderr);
  for (const pattern of patterns) t.regex(run.stderr, pattern);
  t.notRegex(run.stderr, /unexpected error|heap out of memory|FATAL|TypeError|RangeError/);
}

test('an unsupported ONNX op (a real export with Tanh) is refused, naming the op, its node and what is supported', async (t) => {
  await refused(
    t,
    model('torch-tanh.onnx'),
    /torch-tanh\.onnx: onnx: unsupported op Tanh at node "\/1\/Tanh"/,
    /Gemm or MatMul \+ Add .* Relu or Sigmoid .* Softmax/,
  );
});

test('a .pt whose pickle reduces os.system (real torch.save) is refused, naming the global', async (t) => {
  await refused(t, model('torch-evil-os-system.pt'), /forbidden global posix\.system/);
});

test('a .pt running os.system after valid tensors is refused and nothing runs', async (t) => {
  const marker = join(dir, 'pwned-by-os-system');
  const tensors = randomTensors([784, 16, 10]);
  const specs = [1, 2].flatMap((k) => [
    { name: `fc${k}.weight`, tensor: transposed(tensors.get(`W${k}`)!) },
    { name: `fc${k}.bias`, tensor: tensors.get(`b${k}`)! },
  ]);
  const path = join(dir, 'evil-after-tensors.pt');
  writeFileSync(
    path,
    await torchStateDict(specs, {
      beforeStop: (p) => p.global('os', 'system').mark().str(`touch ${marker}`).tuple().reduce().pop(),
    }),
  );
  await refused(t, path, /forbidden global os\.system/);
  t.false(existsSync(marker));
});

test('a whole pickled module (torch.save(model)) is refused with how to save the state_dict', async (t) => {
  await refused(
    t,
    model('torch-whole-module.pt'),
    /forbidden global __main__\.FcRelu/,
    /torch\.save\(model\.state_dict\(\), 'model\.pt'\)/,
  );
});

test('a .pt with a path-traversal member name is refused', async (t) => {
  const tensors = randomTensors([784, 16, 10]);
  const path = join(dir, 'traversal.pt');
  const bytes = await torchStateDict(
    [
      { name: 'fc1.weight', tensor: transposed(tensors.get('W1')!) },
      { name: 'fc1.bias', tensor: tensors.get('b1')! },
    ],
    {
      extraMembers: [['archive/zz/zz/evil', Buffer.from('x')]],
      renameMember: ['archive/zz/zz/evil', 'archive/../../evil'],
    },
  );
  writeFileSync(path, bytes);
  await refused(t, path, /path traversal/, /archive\/\.\.\/\.\.\/evil/);
});

test('a .pt whose storage claims more bytes than its member holds is refused before reading it', async (t) => {
  const tensors = randomTensors([784, 16, 10]);
  const path = join(dir, 'liar.pt');
  const specs = [
    { name: 'fc1.weight', tensor: transposed(tensors.get('W1')!) },
    { name: 'fc1.bias', tensor: tensors.get('b1')! },
  ];
  writeFileSync(path, await torchStateDict(specs, { claimedNumel: new Map([[0, 2 ** 40]]) }));
  await refused(
    t,
    path,
    /storage 0 claims 1099511627776 values of float32 \(4398046511104 bytes\), but member archive\/data\/0 holds 50176 bytes/,
  );
});

test('PyTorch-named layers that do not chain are refused, naming both', async (t) => {
  const path = join(dir, 'mismatch.safetensors');
  const tensors = randomTensors([784, 16, 10]);
  await writeModelFile(
    path,
    new Map([
      ['fc1.weight', transposed(tensors.get('W1')!)],
      ['fc1.bias', tensors.get('b1')!],
      ['fc2.weight', { shape: [10, 20], data: new Float32Array(200) }],
      ['fc2.bias', tensors.get('b2')!],
    ]),
    {},
  );
  await refused(
    t,
    path,
    /the layers do not chain: fc1\.weight \(16, 784, read as \(outputs, inputs\)\) gives 16 outputs, but the next layer, fc2\.weight \(10, 20, read as \(outputs, inputs\)\), takes 20 inputs/,
  );
});

const inspect = (args: string[]) => runPipeline(['inspect', ...args]);

test('nnpipe inspect describes every format, as text and as JSON', async (t) => {
  const safetensors = await writeRandomModel(join(dir, 'random.safetensors'), [784, 16, 10], 3, { note: 'kept' });
  const cases: [string, string, number[], string[]][] = [
    [safetensors, 'safetensors', [784, 16, 10], []],
    [model('tiny.npz'), 'npz', [4, 3, 2], []],
    [model('tiny-p4.pkl'), 'pkl', [4, 3, 2], []],
    [model('torch-seq-sigmoid.pt'), 'pt', [784, 16, 16, 10], ['1.weight', '3.weight', '5.weight']],
    [model('torch-matmul.onnx'), 'onnx', [784, 16, 10], []],
    [model('torch-fc-relu.onnx'), 'onnx', [784, 16, 10], ['fc1.weight', 'fc2.weight']],
  ];
  for (const [path, format, sizes, transposedNames] of cases) {
    const text = await inspect([path]);
    t.is(text.code, 0, text.stderr);
    t.regex(text.stdout, new RegExp(`^format      ${format}: `, 'm'));
    t.regex(text.stdout, new RegExp(`^layers      ${sizes.join('-')}: ${sizes.length - 1} dense`, 'm'));
    const json = await inspect([path, '--json']);
    t.is(json.code, 0, json.stderr);
    const description = JSON.parse(json.stdout);
    t.is(description.format, format);
    t.is(description.sha256, createHash('sha256').update(readFileSync(path)).digest('hex'));
    t.deepEqual(description.layerSizes, sizes);
    const pairs = sizes.slice(1).map((out, k) => [sizes[k], out]);
    t.is(
      description.parameters,
      pairs.reduce((sum, [a, b]) => sum + a * b + b, 0),
    );
    t.is(
      description.flopsPerImage,
      pairs.reduce((sum, [a, b]) => sum + 2 * a * b + b, 0),
    );
    t.deepEqual(description.transposed, transposedNames);
  }
});

test('nnpipe inspect says where settings come from and what was renamed', async (t) => {
  const onnx = JSON.parse((await inspect([model('torch-seq-sigmoid.onnx'), '--json'])).stdout);
  t.deepEqual(onnx.activation, { value: 'sigmoid', from: 'graph' });
  t.deepEqual(onnx.output, { value: 'identity', from: 'graph' });
  t.deepEqual(onnx.renamed.slice(0, 2), [
    { from: '1.weight', to: 'W1' },
    { from: '1.bias', to: 'b1' },
  ]);
  t.true(onnx.notes.some((note: string) => /flattened by node "\/0\/Flatten"/.test(note)));
  const safetensors = JSON.parse(
    (await inspect([await writeRandomModel(join(dir, 'meta.safetensors')), '--json'])).stdout,
  );
  t.deepEqual(safetensors.activation, { value: 'sigmoid', from: 'metadata' });
  t.is(safetensors.normalize, 'unit');
  t.deepEqual(safetensors.renamed, []);
  const pt = (await inspect([model('torch-fc-relu.pt')])).stdout;
  t.regex(pt, /^ {2}1 {2}fc1\.weight \(16, 784\) transposed, fc1\.bias {2}784 -> 16 {2}sigmoid$/m);
  t.regex(pt, /^activation {2}sigmoid \(the default: the file does not say; the pipeline takes --activation\)$/m);
  t.regex(pt, /^renamed {5}fc1\.weight -> W1, fc1\.bias -> b1, fc2\.weight -> W2, fc2\.bias -> b2$/m);
});

test('nnpipe inspect: a file it cannot use exits 1 with the reason; a bad command line exits 2', async (t) => {
  const bad = await inspect([model('torch-whole-module.pt')]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^nnpipe inspect: .*torch-whole-module\.pt: .*save it with torch\.save\(model\.state_dict\(\)/);
  t.is((await inspect([join(dir, 'missing.onnx')])).code, 1);
  t.is((await inspect([])).code, 2);
  t.is((await inspect([model('tiny.npz'), '--bogus'])).code, 2);
  t.is((await inspect(['--help'])).code, 0);
});
