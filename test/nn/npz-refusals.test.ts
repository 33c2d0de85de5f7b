// Malformed and hostile npz files are refused, before inflating anything large, with a ModelError
// naming the file and the member or tensor.
import test, { type ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import { loadModel } from '../../src/nn/load-model.js';
import { readModelFile, writeModelFile } from '../../src/nn/model-files/index.js';
import { encodeNpy } from '../../src/nn/model-files/npy.js';
import type { Tensor } from '../../src/nn/types.js';
import { assertModelError, loadTinyFixture, tempDir } from './model-test-helpers.js';

async function zipOf(members: [string, Buffer][], compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of members) zip.addBuffer(data, name, { compress, forceDosTimestamp: true });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Makes both the local and the central header of every member lie about its uncompressed size. */
function claimUncompressedSize(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i + 4 <= out.length; i++) {
    const signature = out.readUInt32LE(i);
    if (signature === 0x04034b50) out.writeUInt32LE(size, i + 22);
    if (signature === 0x02014b50) out.writeUInt32LE(size, i + 24);
  }
  return out;
}

async function saveAs(t: ExecutionContext, name: string, bytes: Buffer): Promise<string> {
  const path = join(await tempDir(t), name);
  await writeFile(path, bytes);
  return path;
}

const tinyW1 = () => encodeNpy(loadTinyFixture().tensors.get('W1')!);

test('a member claiming a huge uncompressed size (zip bomb) is refused before inflating', async (t) => {
  const bomb = claimUncompressedSize(await zipOf([['W1.npy', tinyW1()]]), 0xf0000000);
  const path = await saveAs(t, 'bomb.npz', bomb);
  await assertModelError(
    t,
    () => readModelFile(path),
    path,
    /member W1\.npy declares 4026531840 bytes uncompressed, more than the 512 MiB limit/,
  );
});

test('members whose declared sizes add up to too much are refused before inflating', async (t) => {
  const zip = claimUncompressedSize(
    await zipOf([
      ['W1.npy', tinyW1()],
      ['b1.npy', tinyW1()],
    ]),
    300 * 1024 * 1024,
  );
  const path = await saveAs(t, 'total.npz', zip);
  await assertModelError(t, () => readModelFile(path), path, /declare more than 512 MiB uncompressed in total/);
});

test('a member declaring more bytes than its .npy header implies is refused after reading the header only', async (t) => {
  const zip = claimUncompressedSize(await zipOf([['W1.npy', tinyW1()]]), 50_000_000);
  const path = await saveAs(t, 'liar.npz', zip);
  await assertModelError(
    t,
    () => readModelFile(path),
    path,
    /member W1\.npy declares 50000000 bytes uncompressed, but its \.npy header \(shape \(4, 3\), '<f4'\) implies 176/,
  );
});

test('a truncated npz is refused with a clear message', async (t) => {
  const whole = await zipOf([['W1.npy', tinyW1()]]);
  for (const length of [3, 30, Math.floor(whole.length / 2), whole.length - 1]) {
    const path = await saveAs(t, `cut-${length}.npz`, whole.subarray(0, length));
    await assertModelError(t, () => readModelFile(path), path, /npz: not a readable zip archive, truncated or corrupt/);
  }
});

test('a member that is not NAME.npy is refused', async (t) => {
  const path = await saveAs(
    t,
    'extra.npz',
    await zipOf([
      ['W1.npy', tinyW1()],
      ['notes.txt', Buffer.from('hi')],
    ]),
  );
  await assertModelError(t, () => readModelFile(path), path, /unexpected member 'notes\.txt'/);
});

test('an integer .npy member is refused, naming the tensor and dtype', async (t) => {
  const npy = tinyW1();
  npy.write("'<i4'", npy.indexOf("'<f4'"), 'latin1');
  const path = await saveAs(t, 'ints.npz', await zipOf([['W1.npy', npy]]));
  await assertModelError(t, () => readModelFile(path), path, /tensor W1: \.npy dtype '<i4' is not supported/);
});

test('an unknown extension with unknown magic is refused, listing the supported formats', async (t) => {
  const path = await saveAs(t, 'model.bin', Buffer.from('just some text, not a model'));
  await assertModelError(t, () => readModelFile(path), path, /unrecognised model file/, /safetensors.*npz.*pickle/);
});

test('a missing file is a ModelError naming it', async (t) => {
  const path = join(await tempDir(t), 'nope.npz');
  await assertModelError(t, () => readModelFile(path), path, /cannot read the model file \(ENOENT\)/);
});

// Network-level problems, in npz files written with our own writer.
async function npzWith(t: ExecutionContext, change: (tensors: Map<string, Tensor>) => void): Promise<string> {
  const tensors = new Map(loadTinyFixture().tensors);
  change(tensors);
  const path = join(await tempDir(t), 'net.npz');
  await writeModelFile(path, tensors, {});
  return path;
}

test('an npz with a missing tensor is refused, naming it', async (t) => {
  const path = await npzWith(t, (tensors) => tensors.delete('b2'));
  await assertModelError(t, () => loadModel(path), path, /tensor b2 is missing/);
});

test('an npz whose W2 has 51 rows after a 3-output layer is refused, naming W2', async (t) => {
  const path = await npzWith(t, (tensors) => tensors.set('W2', { shape: [51, 2], data: new Float32Array(102) }));
  await assertModelError(
    t,
    () => loadModel(path),
    path,
    /the layers do not chain: W1 \(4, 3\) gives 3 outputs, but the next layer, W2 \(51, 2\), takes 51 inputs/,
  );
});

test('an npz with NaN in b2 is refused, naming b2 and the index', async (t) => {
  const path = await npzWith(t, (tensors) =>
    tensors.set('b2', { shape: [2], data: Float32Array.from([0.5, Number.NaN]) }),
  );
  await assertModelError(t, () => loadModel(path), path, /tensor b2 has a non-finite value \(NaN\) at index 1/);
});
