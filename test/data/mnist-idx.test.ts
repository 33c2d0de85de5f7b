// The strict IDX reader (synthetic files for every way a file can be wrong, plus the real ones) and the
// CSV encoder, checked against `[label, ...pixels].join(',')`.
import test from 'ava';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../../src/errors.js';
import { encodeCsvRows, mnistSourceDir } from '../../src/data/mnist.js';
import { checkIdxPair, parseIdxImages, parseIdxLabels } from '../../src/data/mnist-idx.js';

function idxImages(
  count: number,
  rows: number,
  cols: number,
  fill = (i: number) => i % 256,
  magic = 0x803,
): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 16; i < bytes.length; i++) bytes[i] = fill(i - 16);
  return bytes;
}

function idxLabels(labels: number[], magic = 0x801): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, labels.length);
  bytes.set(labels, 8);
  return bytes;
}

test('a well-formed pair parses into views of the data', (t) => {
  const images = parseIdxImages(idxImages(3, 2, 2), 'img');
  t.deepEqual({ count: images.count, rows: images.rows, cols: images.cols }, { count: 3, rows: 2, cols: 2 });
  t.deepEqual(
    Array.from(images.pixels),
    Array.from({ length: 12 }, (_, i) => i),
  );
  const labels = parseIdxLabels(idxLabels([3, 0, 9]), 'lab');
  t.deepEqual(Array.from(labels.labels), [3, 0, 9]);
  t.notThrows(() => checkIdxPair(images, labels, 'img', 'lab'));
});

function rejects(t: import('ava').ExecutionContext, fn: () => unknown, message: string) {
  const error = t.throws(fn, { instanceOf: DataError });
  t.is(error?.code, 'PIPE_ERR_MNIST');
  t.is(error?.message, message);
}

test('every malformed file is rejected with a message naming it', (t) => {
  rejects(
    t,
    () => parseIdxImages(idxImages(1, 2, 2, undefined, 0x801), 'f'),
    'f: magic number 0x00000801 is not 0x00000803 (IDX images)',
  );
  rejects(
    t,
    () => parseIdxLabels(idxLabels([1], 0x803), 'f'),
    'f: magic number 0x00000803 is not 0x00000801 (IDX labels)',
  );
  rejects(
    t,
    () => parseIdxImages(new Uint8Array(10), 'f'),
    'f: too short for an IDX images file (10 bytes, the header alone is 16)',
  );
  rejects(
    t,
    () => parseIdxLabels(new Uint8Array(3), 'f'),
    'f: too short for an IDX labels file (3 bytes, the header alone is 8)',
  );
  rejects(
    t,
    () => parseIdxImages(idxImages(2, 2, 2).subarray(0, 23), 'f'),
    'f: size 23 bytes does not match its header (2 images of 2x2 need 24 bytes)',
  );
  const longer = new Uint8Array(25);
  longer.set(idxImages(2, 2, 2));
  rejects(
    t,
    () => parseIdxImages(longer, 'f'),
    'f: size 25 bytes does not match its header (2 images of 2x2 need 24 bytes)',
  );
  rejects(t, () => parseIdxImages(idxImages(2, 0, 2), 'f'), 'f: image size 0x2 is empty');
  rejects(
    t,
    () => parseIdxLabels(idxLabels([1, 2]).subarray(0, 9), 'f'),
    'f: size 9 bytes does not match its header (2 labels need 10 bytes)',
  );
  rejects(t, () => parseIdxLabels(idxLabels([1, 10]), 'f'), 'f: label 1 is 10, not 0..9');
  rejects(
    t,
    () => checkIdxPair(parseIdxImages(idxImages(2, 1, 1)), parseIdxLabels(idxLabels([1])), 'img', 'lab'),
    'img: holds 2 images but lab holds 1 labels',
  );
});

test('the real MNIST files parse, with the published counts and first labels', async (t) => {
  const dir = mnistSourceDir();
  for (const [prefix, count, first] of [
    ['t10k', 10_000, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]],
    ['train', 60_000, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]],
  ] as const) {
    const images = parseIdxImages(await readFile(join(dir, `${prefix}-images-idx3-ubyte`)));
    const labels = parseIdxLabels(await readFile(join(dir, `${prefix}-labels-idx1-ubyte`)));
    t.deepEqual([images.count, images.rows, images.cols, labels.count], [count, 28, 28, count]);
    t.deepEqual(Array.from(labels.labels.subarray(0, 10)), [...first]);
  }
});

test('encodeCsvRows writes exactly what join(",") writes', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }).chain((features) =>
        fc.record({
          features: fc.constant(features),
          rows: fc.array(
            fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: features, maxLength: features })),
            { minLength: 1, maxLength: 8 },
          ),
        }),
      ),
      ({ features, rows }) => {
        const pixels = new Uint8Array(rows.length * features);
        rows.forEach(([, px], i) => pixels.set(px, i * features));
        const labels = Uint8Array.from(rows.map(([label]) => label));
        const out = new Uint8Array(rows.length * (4 + features * 4));
        const length = encodeCsvRows(pixels, labels, features, 0, rows.length, out);
        const expected = rows.map(([label, px]) => `${[label, ...px].join(',')}\n`).join('');
        return Buffer.from(out.subarray(0, length)).toString('latin1') === expected;
      },
    ),
    { numRuns: 500 },
  );
  // Every byte value, once: 0..9 (one digit), 10..99 (two), 100..255 (three).
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const out = new Uint8Array(2000);
  const length = encodeCsvRows(all, Uint8Array.of(5), 256, 0, 1, out);
  t.is(Buffer.from(out.subarray(0, length)).toString(), `5,${Array.from(all).join(',')}\n`);
});
