// Reading numpy .npz files (np.savez, np.savez_compressed, odd dtypes and orders) and writing our own.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { readModelFile, writeModelFile } from '../../src/nn/model-files/index.js';
import { decodeNpy, encodeNpy, parsePythonLiteral } from '../../src/nn/model-files/npy.js';
import { NPZ_METADATA_MEMBER } from '../../src/nn/model-files/npz.js';
import { loadTinyFixture, modelFixture, sameBits, tempDir } from './model-test-helpers.js';

const fixtures = {
  'tiny.npz': 'np.savez',
  'tiny-compressed.npz': 'np.savez_compressed',
  'tiny-mixed.npz': 'Fortran-order float64, big-endian float32 and float64 members',
};

for (const [name, how] of Object.entries(fixtures)) {
  test(`${name} (${how}) reads exactly the values numpy stored`, async (t) => {
    const tiny = loadTinyFixture();
    const file = await readModelFile(modelFixture(name));
    t.is(file.format, 'npz');
    t.deepEqual(file.metadata, {});
    t.deepEqual([...file.tensors.keys()].sort(), [...tiny.tensors.keys()].sort());
    for (const [tensor, expected] of tiny.tensors) {
      t.deepEqual(file.tensors.get(tensor)!.shape, expected.shape, tensor);
      t.true(sameBits(file.tensors.get(tensor)!.data, expected.data), tensor);
    }
  });
}

test('round trip through a file: bit-identical tensors, metadata preserved', async (t) => {
  const dir = await tempDir(t);
  const tiny = loadTinyFixture();
  const metadata = {
    activation: 'relu',
    output: 'identity',
    layer_sizes: '[4,3,2]',
    trained: 'seed 7, 3 epochs',
    quote: `"'{}`,
  };
  const path = join(dir, 'tiny.npz');
  await writeModelFile(path, tiny.tensors, metadata);
  const file = await readModelFile(path);
  t.is(file.format, 'npz');
  t.deepEqual(file.metadata, metadata);
  for (const [name, expected] of tiny.tensors) {
    t.deepEqual(file.tensors.get(name)!.shape, expected.shape);
    t.true(sameBits(file.tensors.get(name)!.data, expected.data), name);
  }
});

test('written npz: stored .npy members sorted by name plus the metadata member, same bytes every time', async (t) => {
  const dir = await tempDir(t);
  const tiny = loadTinyFixture();
  await writeModelFile(join(dir, 'a.npz'), tiny.tensors, { activation: 'sigmoid' });
  await writeModelFile(join(dir, 'b.npz'), tiny.tensors, { activation: 'sigmoid' });
  const bytes = await readFile(join(dir, 'a.npz'));
  t.deepEqual(bytes, await readFile(join(dir, 'b.npz')));
  const zip = await yauzl.fromBufferPromise(bytes);
  const members: string[] = [];
  for await (const entry of zip.eachEntry()) {
    members.push(entry.fileName);
    t.is(entry.compressionMethod, 0);
  }
  t.deepEqual(members, ['W1.npy', 'W2.npy', 'b1.npy', 'b2.npy', NPZ_METADATA_MEMBER]);
});

test('encodeNpy writes a version 1.0 header padded to 64 bytes, as numpy does', (t) => {
  const bytes = encodeNpy({ shape: [3], data: Float32Array.from([1, 2, 3]) });
  const headerLength = bytes.readUInt16LE(8);
  t.is((10 + headerLength) % 64, 0);
  t.is(
    bytes
      .subarray(10, 10 + headerLength)
      .toString('latin1')
      .trimEnd(),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
  );
  t.deepEqual([...decodeNpy(bytes, 'x.npy', 'x').data], [1, 2, 3]);
});

test('.npy versions 2.0 and 3.0 are read (u32 header length; 3.0 is UTF-8)', (t) => {
  for (const major of [2, 3]) {
    const header = Buffer.from("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }\n", 'latin1');
    const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, 0, 0, 0, 0]);
    prefix.writeUInt32LE(header.length, 8);
    const data = Buffer.alloc(32);
    [1, 3, 2, 4].forEach((v, i) => data.writeDoubleBE(v, i * 8)); // column-major [[1, 2], [3, 4]]
    const tensor = decodeNpy(Buffer.concat([prefix, header, data]), 'v.npy', 'v');
    t.deepEqual(tensor.shape, [2, 2]);
    t.deepEqual([...tensor.data], [1, 2, 3, 4]);
  }
});

test('the .npy header parser reads literals and evaluates nothing', (t) => {
  t.deepEqual(
    parsePythonLiteral("{'a': (1, 2,), 'b': [], 'c': True, 'd': None, 'e': ()}"),
    new Map<unknown, unknown>([
      ['a', [1, 2]],
      ['b', []],
      ['c', true],
      ['d', null],
      ['e', []],
    ]),
  );
  t.throws(() => parsePythonLiteral("__import__('os').system('echo')"));
  t.throws(() => parsePythonLiteral("{'a': 1} + 1"));
});
