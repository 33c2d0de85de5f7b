// The normalisation table: exactly float32(i / 255), bit for bit what numpy computes.
import test from 'ava';
import { createHash } from 'node:crypto';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Normalization } from '../../src/data/normalize.js';

const bits = (table: Float32Array) => Array.from(new Uint32Array(table.buffer, table.byteOffset, table.length));

test("'unit' is Math.fround(i / 255) for all 256 bytes", (t) => {
  const table = normalizationTable('unit');
  t.true(table instanceof Float32Array);
  t.is(table.length, 256);
  for (let i = 0; i < 256; i++) t.is(table[i], Math.fround(i / 255), `entry ${i}`);
  t.is(table[0], 0);
  t.is(table[255], 1);
});

// Pinned from numpy 2.4.6:
//   a = np.arange(256, dtype=np.float32) / np.float32(255.0)   (== np.float32(i) / 255.0 per element,
//   == the book's `x = x.astype(np.float32); x /= 255.0`)
//   hashlib.sha256(a.astype('<f4').tobytes()).hexdigest(); a.view(np.uint32)[i]
test("'unit' equals numpy's float32 values bit for bit", (t) => {
  const table = normalizationTable('unit');
  const numpyBits: Record<number, number> = {
    1: 0x3b808081,
    2: 0x3c008081,
    3: 0x3c40c0c1,
    51: 0x3e4ccccd,
    127: 0x3efefeff,
    128: 0x3f008081,
    200: 0x3f48c8c9,
    254: 0x3f7efeff,
    255: 0x3f800000,
  };
  const tableBits = bits(table);
  for (const [i, expected] of Object.entries(numpyBits)) t.is(tableBits[Number(i)], expected, `entry ${i}`);
  t.is(table[1], 0.003921568859368563); // float(a[1]) in Python
  const le = Buffer.alloc(256 * 4);
  table.forEach((v, i) => le.writeFloatLE(v, i * 4));
  t.is(
    createHash('sha256').update(le).digest('hex'),
    '010413efe9fc4438fee48de66c4d09f377b28af6a9fe2522201e8c1dbb831fc8',
  );
});

test("'none' is the byte itself", (t) => {
  const table = normalizationTable('none');
  t.deepEqual(
    Array.from(table),
    Array.from({ length: 256 }, (_, i) => i),
  );
});

test('each call returns a new table (callers may keep or transfer it)', (t) => {
  t.not(normalizationTable('unit'), normalizationTable('unit'));
});

test('an unknown mode is rejected', (t) => {
  t.throws(() => normalizationTable('minmax' as Normalization), { instanceOf: RangeError });
});
