// The data side of the training kernels: gathering sparse rows (with and without translations) gives
// exactly the inference pipeline's normalised pixels.
import test from 'ava';
import { normalizationTable } from '../../src/data/normalize.js';
import { gatherSparseRows, createSparseRows, shiftOfCode, type SparseRows } from '../../src/train/layers.js';
import { Xoshiro128StarStar } from '../../src/train/prng.js';

const width = 6;
const height = 5;
const features = width * height;
const count = 4;
const rng = Xoshiro128StarStar.fromSeed(77);
const pixels = Uint8Array.from({ length: count * features }, () => (rng.nextBelow(3) === 0 ? rng.nextBelow(256) : 0));
const table = normalizationTable('unit');

function densify(sparse: SparseRows): Float32Array {
  const dense = new Float32Array(sparse.rows * sparse.cols);
  for (let r = 0; r < sparse.rows; r++) {
    let previous = -1;
    for (let p = sparse.rowStart[r]; p < sparse.rowStart[r + 1]; p++) {
      if (sparse.index[p] <= previous) throw new Error('indices must ascend');
      previous = sparse.index[p];
      dense[r * sparse.cols + sparse.index[p]] = sparse.value[p];
    }
  }
  return dense;
}

test('gatherSparseRows picks the ordered images and normalises with the inference table', (t) => {
  const order = Int32Array.from([2, 0, 3, 1]);
  const out = createSparseRows(3, features);
  gatherSparseRows(pixels, features, order, 1, 3, table, out);
  const dense = densify(out);
  for (let r = 0; r < 3; r++) {
    const image = order[1 + r];
    for (let k = 0; k < features; k++) t.is(dense[r * features + k], table[pixels[image * features + k]]);
  }
  t.is(
    out.rowStart[3],
    [0, 3, 1].reduce((n, i) => n + pixels.subarray(i * features, (i + 1) * features).filter((v) => v !== 0).length, 0),
  );
});

test('translations move every pixel by (dx, dy) and fill with zeros', (t) => {
  const max = 2;
  const side = 2 * max + 1;
  const order = Int32Array.from({ length: side * side }, (_, i) => i % count);
  const codes = Uint8Array.from({ length: side * side }, (_, i) => i);
  const out = createSparseRows(side * side, features);
  gatherSparseRows(pixels, features, order, 0, side * side, table, out, { max, width, height, codes });
  const dense = densify(out);
  for (let i = 0; i < side * side; i++) {
    const { dx, dy } = shiftOfCode(codes[i], max);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sy = y - dy;
        const sx = x - dx;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        const expected = inside ? table[pixels[order[i] * features + sy * width + sx]] : 0;
        t.is(dense[i * features + y * width + x], expected, `code ${i} (dx ${dx}, dy ${dy}) at (${x}, ${y})`);
      }
    }
  }
  t.deepEqual(shiftOfCode(max * side + max, max), { dx: 0, dy: 0 });
  t.deepEqual(shiftOfCode(0, max), { dx: -2, dy: -2 });
});
