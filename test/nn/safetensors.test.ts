// The safetensors reader and writer: layout of what we write, round trips, F64 input.
import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { readModelFile, writeModelFile } from '../../src/nn/model-files/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/model-files/safetensors.js';
import type { Tensor } from '../../src/nn/types.js';
import { loadTinyFixture, sameBits, tempDir } from './model-test-helpers.js';

function headerOf(bytes: Buffer): { length: number; text: string } {
  const length = Number(bytes.readBigUInt64LE(0));
  return { length, text: bytes.subarray(8, 8 + length).toString('utf8') };
}

test('written files follow the reference layout: F32, sorted names, header padded with spaces to a multiple of 8', (t) => {
  const tensors = new Map<string, Tensor>([
    ['b1', { shape: [2], data: Float32Array.from([0.5, -0.5]) }],
    ['W1', { shape: [1, 2], data: Float32Array.from([1, 2]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { note: 'hello', activation: 'relu' });
  const { length, text } = headerOf(bytes);
  t.is(length % 8, 0);
  t.is(text.trimEnd(), text.replace(/ +$/, ''));
  const header = JSON.parse(text);
  t.deepEqual(Object.keys(header), ['__metadata__', 'W1', 'b1']);
  t.deepEqual(header.__metadata__, { activation: 'relu', note: 'hello' });
  t.deepEqual(header.W1, { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] });
  t.deepEqual(header.b1, { dtype: 'F32', shape: [2], data_offsets: [8, 16] });
  t.is(bytes.length, 8 + length + 16);
  t.is(bytes.readFloatLE(8 + length), 1);
  t.is(bytes.readFloatLE(8 + length + 12), -0.5);
});

test('round trip through a file: bit-identical tensors, metadata preserved', async (t) => {
  const dir = await tempDir(t);
  const tiny = loadTinyFixture();
  const metadata = {
    activation: 'sigmoid',
    output: 'softmax',
    normalize: 'unit',
    layer_sizes: '[4,3,2]',
    trained: 'epochs=3; lr=0.1',
    ünïcode: 'ok ✓',
  };
  const path = join(dir, 'tiny.safetensors');
  await writeModelFile(path, tiny.tensors, metadata);
  const file = await readModelFile(path);
  t.is(file.format, 'safetensors');
  t.deepEqual(file.metadata, metadata);
  t.is(file.sizeBytes, (await readFile(path)).length);
  t.regex(file.sha256, /^[0-9a-f]{64}$/);
  for (const [name, expected] of tiny.tensors) {
    t.deepEqual(file.tensors.get(name)!.shape, expected.shape);
    t.true(sameBits(file.tensors.get(name)!.data, expected.data), name);
  }
});

test('round trip of arbitrary float32 values (property): bit-identical, including -0, subnormals, NaN and Infinity', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.float(), { minLength: 0, maxLength: 40 }),
      fc.dictionary(fc.string(), fc.string()),
      (values, metadata) => {
        const tensor = { shape: [values.length], data: Float32Array.from(values) };
        const decoded = decodeSafetensors(encodeSafetensors(new Map([['x', tensor]]), metadata), 'prop.safetensors');
        return (
          sameBits(decoded.tensors.get('x')!.data, tensor.data) &&
          JSON.stringify(decoded.metadata) ===
            JSON.stringify(
              Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
            )
        );
      },
    ),
  );
  t.pass();
});

test('F64 tensors are read and narrowed to float32', (t) => {
  const header = Buffer.from(JSON.stringify({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }));
  const data = Buffer.alloc(16);
  data.writeDoubleLE(0.1, 0);
  data.writeDoubleLE(-3, 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const { tensors, metadata } = decodeSafetensors(Buffer.concat([length, header, data]), 'f64.safetensors');
  t.deepEqual([...tensors.get('x')!.data], [Math.fround(0.1), -3]);
  t.deepEqual(metadata, {});
});
