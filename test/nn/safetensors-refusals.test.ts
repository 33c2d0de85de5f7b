// Malformed and hostile safetensors files are refused before any large allocation, with a ModelError
// that names the file (and the tensor where there is one).
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/model-files/safetensors.js';
import { assertModelError, loadTinyFixture, tempDir } from './model-test-helpers.js';

/** A safetensors file from a header object (or raw header text), data bytes, and optionally a lying length. */
function build(header: unknown, data: Buffer, declaredLength?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(text.length));
  return Buffer.concat([length, text, data]);
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

async function refuses(t: import('ava').ExecutionContext, bytes: Buffer, ...patterns: RegExp[]) {
  const path = join(await tempDir(t), 'bad.safetensors');
  await writeFile(path, bytes);
  return assertModelError(t, () => readModelFile(path), path, ...patterns);
}

test('a header length larger than the file is refused', async (t) => {
  await refuses(
    t,
    build({ x: f32([1], 0, 4) }, Buffer.alloc(4), 1000n),
    /header length 1000 is larger than the \d+ bytes/,
  );
});

test('a huge header length (2^60) is refused before allocating', async (t) => {
  await refuses(t, build({ x: f32([1], 0, 4) }, Buffer.alloc(4), 2n ** 60n), /header length 1152921504606846976/);
});

test('a header over 100 MB is refused even when the file is that large', (t) => {
  const bytes = Buffer.alloc(8 + 100_000_008, 0x20); // the declared header: '{}' and spaces
  bytes.writeBigUInt64LE(100_000_008n);
  bytes.write('{}', 8);
  t.throws(() => decodeSafetensors(bytes, 'big.safetensors'), {
    code: 'PIPE_ERR_MODEL',
    message: /^big\.safetensors: .*exceeds the 100000000-byte limit/,
  });
});

test('data_offsets past the end of the data are refused, naming the tensor', async (t) => {
  await refuses(
    t,
    build({ W1: f32([2], 0, 8), b1: f32([1], 8, 12) }, Buffer.alloc(8)),
    /tensor b1: data_offsets \[8, 12\] run past the end/,
  );
});

test('overlapping tensors are refused, naming both', async (t) => {
  await refuses(t, build({ W1: f32([2], 0, 8), b1: f32([2], 4, 12) }, Buffer.alloc(12)), /tensors W1 and b1 overlap/);
});

test('a gap or trailing bytes in the data section are refused', async (t) => {
  await refuses(
    t,
    build({ W1: f32([1], 0, 4), b1: f32([1], 8, 12) }, Buffer.alloc(12)),
    /belong to no tensor \(before tensor b1\)/,
  );
  await refuses(t, build({ W1: f32([1], 0, 4) }, Buffer.alloc(8)), /4 trailing bytes/);
});

for (const dtype of ['I64', 'I8']) {
  test(`dtype ${dtype} is refused, naming the tensor and the dtype`, async (t) => {
    await refuses(
      t,
      build({ W1: { dtype, shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      new RegExp(`tensor W1 has dtype ${dtype}`),
    );
  });
}

test('a byte length that does not match the shape is refused', async (t) => {
  await refuses(
    t,
    build({ W1: f32([2, 3], 0, 20) }, Buffer.alloc(24)),
    /tensor W1: data_offsets \[0, 20\] hold 20 bytes, but shape \[2, 3\] of F32 needs 24/,
  );
});

test('a shape claiming more elements than the file holds is refused without overflow', async (t) => {
  await refuses(
    t,
    build({ W1: f32([2 ** 40, 2 ** 40], 0, 4) }, Buffer.alloc(4)),
    /tensor W1: shape .* has more elements than the file can hold/,
  );
});

test('a truncated file is refused with a clear message at every cut', async (t) => {
  const whole = encodeSafetensors(loadTinyFixture().tensors, { activation: 'sigmoid' });
  for (const length of [0, 5, 8, 20, whole.length - 4]) {
    const error = await refuses(t, whole.subarray(0, length), /safetensors: /);
    t.false(error?.message.includes('RangeError'));
  }
  await refuses(
    t,
    whole.subarray(0, whole.length - 4),
    /run past the end of the \d+-byte data section \(truncated file\?\)/,
  );
});

test('non-JSON headers, non-string metadata and a header not starting with { are refused', async (t) => {
  await refuses(t, build('{"W1": ', Buffer.alloc(0)), /not valid UTF-8 JSON/);
  await refuses(
    t,
    build({ __metadata__: { epochs: 3 } }, Buffer.alloc(0)),
    /__metadata__ value for 'epochs' is not a string/,
  );
  await refuses(t, build(' {}', Buffer.alloc(0)), /does not start with "\{"/);
  await refuses(t, build('[1, 2]', Buffer.alloc(0)), /does not start with "\{"/);
});
