// The histogram modules latency.ts imports directly give what the package's index gives: the same
// histogram for the same samples, the same wire form, and each reads the other's.
import test from 'ava';
import fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { decodeHistogram, encodeHistogram, newHistogram } from '../../src/stats/latency.js';

const samples = fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 300 });

const indexHistogram = () =>
  hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });

function recorded<H extends { recordValue(v: number): void }>(histogram: H, values: number[]): H {
  for (const value of values) histogram.recordValue(value);
  return histogram;
}

test('the same samples give the same wire form as the index build + encodeIntoCompressedBase64', (t) => {
  fc.assert(
    fc.property(samples, (values) => {
      const ours = encodeHistogram(recorded(newHistogram(), values));
      const theirs = hdr.encodeIntoCompressedBase64(recorded(indexHistogram(), values));
      return ours === theirs;
    }),
  );
  t.pass();
});

test('decodeHistogram reads what the index writes: same count and percentiles', (t) => {
  fc.assert(
    fc.property(samples, (values) => {
      const wire = hdr.encodeIntoCompressedBase64(recorded(indexHistogram(), values));
      const ours = decodeHistogram(wire);
      const theirs = hdr.decodeFromCompressedBase64(wire);
      if (ours.totalCount !== values.length || theirs.totalCount !== values.length) return false;
      return [1, 50, 90, 99, 100].every((p) => ours.getValueAtPercentile(p) === theirs.getValueAtPercentile(p));
    }),
  );
  t.pass();
});

test('the index reads what encodeHistogram writes', (t) => {
  const values = [1, 7, 1_000, 123_456, 9_999_999_999];
  const decoded = hdr.decodeFromCompressedBase64(encodeHistogram(recorded(newHistogram(), values)));
  t.is(decoded.totalCount, values.length);
  t.is(decoded.getValueAtPercentile(100), recorded(indexHistogram(), values).getValueAtPercentile(100));
});
