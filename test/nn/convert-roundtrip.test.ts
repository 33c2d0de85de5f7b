// Converting between formats keeps every tensor bit for bit: pkl -> safetensors -> npz.
import test from 'ava';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { bookPickle, hasBookPickle } from '../helpers/paths.js';
import { modelFixture, sameBits, tempDir } from './model-test-helpers.js';

const cli = fileURLToPath(new URL('../../src/cli/convert.js', import.meta.url));
const exec = promisify(execFile);

async function roundTrip(t: import('ava').ExecutionContext, source: string) {
  const dir = await tempDir(t);
  const safetensors = join(dir, 'model.safetensors');
  const npz = join(dir, 'model.npz');
  await exec(process.execPath, [cli, source, safetensors, '--normalize', 'unit']);
  await exec(process.execPath, [cli, safetensors, npz]);
  const [original, first, second] = await Promise.all([source, safetensors, npz].map((path) => readModelFile(path)));
  t.deepEqual([first.format, second.format], ['safetensors', 'npz']);
  t.deepEqual([...second.tensors.keys()].sort(), [...original.tensors.keys()].sort());
  for (const [name, tensor] of original.tensors) {
    for (const copy of [first, second]) {
      t.deepEqual(copy.tensors.get(name)!.shape, tensor.shape, name);
      t.true(sameBits(copy.tensors.get(name)!.data, tensor.data), `${name} in ${copy.format}`);
    }
  }
  t.deepEqual(second.metadata, first.metadata);
  return first;
}

(hasBookPickle ? test : test.skip)(
  'book model pkl -> safetensors -> npz is bit-identical (needs ../shared/reference/sample_weight.pkl)',
  async (t) => {
    const converted = await roundTrip(t, bookPickle);
    t.deepEqual(converted.metadata, {
      activation: 'sigmoid',
      output: 'softmax',
      normalize: 'unit',
      layer_sizes: '[784,50,100,10]',
    });
  },
);

test('tiny model pkl (protocol 2) -> safetensors -> npz is bit-identical', async (t) => {
  await roundTrip(t, modelFixture('tiny-p2.pkl'));
});
