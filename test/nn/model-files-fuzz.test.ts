// Randomly corrupted model files (flipped bytes, cuts) either load or fail with a ModelError: never a
// RangeError, TypeError or hang from inside a parser.
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ModelError } from '../../src/errors.js';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { decodeNpz } from '../../src/nn/model-files/npz.js';
import { decodeOnnx } from '../../src/nn/model-files/onnx.js';
import { decodePickle } from '../../src/nn/model-files/pickle.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/model-files/safetensors.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTinyFixture, modelFixture, tempDir } from './model-test-helpers.js';

/** A copy of `original` with a few bytes changed, and sometimes cut short. */
const corrupted = (original: Buffer) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.option(fc.nat({ max: original.length }), { freq: 4 }),
    )
    .map(([edits, cut]) => {
      const copy = Buffer.from(original);
      for (const [at, value] of edits) copy[at] = value;
      return cut === null ? copy : copy.subarray(0, cut);
    });

const onlyModelErrors = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
  }
};

test('corrupted pickles load or give a ModelError', (t) => {
  for (const name of ['tiny-p2.pkl', 'tiny-p4.pkl', 'tiny-p5.pkl']) {
    fc.assert(
      fc.property(corrupted(readFileSync(modelFixture(name))), (bytes) =>
        onlyModelErrors(() => decodePickle(bytes, name)),
      ),
      { numRuns: 300 },
    );
  }
  t.pass();
});

test('corrupted safetensors files load or give a ModelError', (t) => {
  const original = encodeSafetensors(loadTinyFixture().tensors, { activation: 'sigmoid', note: 'x' });
  fc.assert(
    fc.property(corrupted(original), (bytes) => onlyModelErrors(() => decodeSafetensors(bytes, 'f.safetensors'))),
    { numRuns: 500 },
  );
  t.pass();
});

test('corrupted npz files load or give a ModelError; changed member data fails the CRC check', async (t) => {
  for (const name of ['tiny.npz', 'tiny-compressed.npz']) {
    const original = readFileSync(modelFixture(name));
    await fc.assert(
      fc.asyncProperty(corrupted(original), async (bytes) => {
        try {
          await decodeNpz(bytes, name);
        } catch (error) {
          if (!(error instanceof ModelError)) throw error;
        }
      }),
      { numRuns: 150 },
    );
  }
  // One flipped bit in the first member's data (np.savez stores members uncompressed; 128-byte .npy header).
  const original = readFileSync(modelFixture('tiny.npz'));
  const flipped = Buffer.from(original);
  flipped[original.indexOf(Buffer.from('\x93NUMPY', 'latin1')) + 128 + 5] ^= 0x01;
  await t.throwsAsync(decodeNpz(flipped, 'flip.npz'), { instanceOf: ModelError, message: /fails its CRC-32 check/ });
});

test('corrupted ONNX models load or give a ModelError', (t) => {
  for (const name of ['torch-matmul.onnx', 'torch-tanh.onnx']) {
    fc.assert(
      fc.property(corrupted(readFileSync(modelFixture(name))), (bytes) =>
        onlyModelErrors(() => decodeOnnx(bytes, name)),
      ),
      { numRuns: 300 },
    );
  }
  t.pass();
});

test('corrupted PyTorch checkpoints load or give a ModelError', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['torch-tiny-f16.pt', 'torch-tiny-strided.pt', 'torch-evil-os-system.pt']) {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(corrupted(readFileSync(modelFixture(name))), async (bytes) => {
        const path = join(dir, `${run++}.pt`);
        await writeFile(path, bytes);
        try {
          await readModelFile(path);
        } catch (error) {
          if (!(error instanceof ModelError)) throw error;
        }
      }),
      { numRuns: 150 },
    );
  }
  t.pass();
});
