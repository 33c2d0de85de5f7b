// One record at a time: the field rule (plain ASCII digits, in range) against a regex oracle, header
// detection, and the layouts a first record can fix.
import test from 'ava';
import fc from 'fast-check';
import { detectLayout, looksLikeHeader, parseSmallInt, RowParser } from '../../src/data/row-parser.js';

/** The rule, written the obvious way. */
const oracle = (field: string, max: number) => (/^[0-9]+$/.test(field) && Number(field) <= max ? Number(field) : -1);

test('parseSmallInt agrees with the regex oracle on arbitrary strings', (t) => {
  const fieldish = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.stringMatching(/^[-+ 0-9.eEx\u0660-\u0669\uff10-\uff19]{0,6}$/),
    fc.integer({ min: -10, max: 100_000 }).map(String),
  );
  fc.assert(
    fc.property(
      fieldish,
      fc.integer({ min: 0, max: 32766 }),
      (field, max) => parseSmallInt(field, max) === oracle(field, max),
    ),
    { numRuns: 5000 },
  );
  t.pass();
});

test('parseSmallInt: the examples from the rule', (t) => {
  for (const ok of ['0', '7', '255', '007', '0000000000255']) t.is(parseSmallInt(ok, 255), Number(ok), ok);
  for (const bad of ['', ' 12', '12 ', '1.5', '1e2', '-1', '+1', '256', '0x1f', '١٢', '１２', '1\0'])
    t.is(parseSmallInt(bad, 255), -1, JSON.stringify(bad));
});

test(
  'looksLikeHeader: column names make a header; numbers (even bad ones), empty fields and a few bad values in ' +
    'data do not',
  (t) => {
    t.true(looksLikeHeader(['label', '1', '2']));
    t.true(looksLikeHeader(['', 'pixel0']));
    t.true(looksLikeHeader(['y', ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)]));
    t.true(looksLikeHeader(['y', ...Array.from({ length: 784 }, (_, i) => String(i))]), 'column numbers count up');
    t.true(looksLikeHeader(['1', '2', '3', 'x']), 'numbers that count up');
    t.false(looksLikeHeader(['1', '2', 'x']), 'too few to tell: data with a bad value');
    t.false(looksLikeHeader(['1', '2', '3']));
    // A data row with a bad value stays data (a bad row at line 1), whatever the value.
    const row = ['7', ...Array.from({ length: 784 }, (_, i) => String((i * 37) % 3 === 0 ? 0 : (i * 37) % 256))];
    for (const bad of ['x7', 'abc', '12"', '1\u00002', 'NaN']) {
      const copy = [...row];
      copy[300] = bad;
      t.false(looksLikeHeader(copy), bad);
    }
    t.false(looksLikeHeader(['1.5', '-1', '1e2', '+3', ' 4 ', '.5', '']));
  },
);

test(
  'looksLikeHeader: column numbers alone (0..784, 1..785, as pandas writes them) are a header; short ones can be ' +
    'data',
  (t) => {
    const count = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));
    t.true(looksLikeHeader(count(0, 785)), '0..784');
    t.true(looksLikeHeader(count(1, 785)), '1..785');
    t.true(looksLikeHeader(count(0, 784)), '0..783 (no label column)');
    t.false(looksLikeHeader(count(0, 5)), '0,1,2,3,4 is a valid data row for a 4-pixel model');
    t.false(looksLikeHeader(count(0, 256)), '0..255: every value is a valid pixel');
    t.false(looksLikeHeader(count(2, 785)), 'not from 0 or 1');
    const gap = count(0, 785);
    gap[400] = '401';
    t.false(looksLikeHeader(gap), 'not consecutive');
    t.false(looksLikeHeader(['00', ...count(1, 784)]), 'written as column numbers are');
    t.deepEqual(detectLayout(count(0, 785), 784), { layout: { hasHeader: true, fieldCount: 785, labelIndex: 0 } });
    t.deepEqual(detectLayout(count(1, 784), 784), { layout: { hasHeader: true, fieldCount: 784, labelIndex: -1 } });
  },
);

test('detectLayout: every accepted layout and every rejected one', (t) => {
  const f = 3;
  t.deepEqual(detectLayout(['1', '2', '3', '4'], f), { layout: { hasHeader: false, fieldCount: 4, labelIndex: 0 } });
  t.deepEqual(detectLayout(['1', '2', '3'], f), { layout: { hasHeader: false, fieldCount: 3, labelIndex: -1 } });
  t.deepEqual(detectLayout(['a', 'b', 'LaBeL', 'c'], f), { layout: { hasHeader: true, fieldCount: 4, labelIndex: 2 } });
  t.deepEqual(detectLayout(['y', 'b', 'c', 'd'], f), { layout: { hasHeader: true, fieldCount: 4, labelIndex: 0 } });
  t.deepEqual(detectLayout(['a', 'b', 'c'], f), { layout: { hasHeader: true, fieldCount: 3, labelIndex: -1 } });
  t.deepEqual(detectLayout(['1', '2'], f), {
    problem: 'the first row has 2 fields; expected 3 (pixels only) or 4 (a label and 3 pixels)',
  });
  t.deepEqual(detectLayout(['1'], f), {
    problem: 'the first row has 1 field; expected 3 (pixels only) or 4 (a label and 3 pixels)',
  });
  t.deepEqual(detectLayout(['a', 'b'], f), {
    problem: 'the header has 2 columns; expected 3 (pixels only) or 4 (a label and 3 pixels)',
  });
  t.deepEqual(detectLayout(['label', 'b', 'c'], f), {
    problem: "the header has a 'label' column and 2 pixel columns; expected 3 pixel columns",
  });
  t.deepEqual(detectLayout(['label', 'b', 'label', 'd'], f), {
    problem: "the header has 2 columns named 'label' (fields 1, 3)",
  });
});

test('RowParser: a good row, labelled or not, with the label anywhere', (t) => {
  const first = new RowParser({ hasHeader: false, fieldCount: 4, labelIndex: 0 }, 3, 10);
  t.deepEqual(first.parse(['9', '0', '128', '255'], 5), { line: 5, label: 9, pixels: Uint8Array.from([0, 128, 255]) });
  const middle = new RowParser({ hasHeader: true, fieldCount: 4, labelIndex: 1 }, 3, 10);
  t.deepEqual(middle.parse(['1', '2', '3', '4'], 2), { line: 2, label: 2, pixels: Uint8Array.from([1, 3, 4]) });
  t.is(middle.parse(['1', '2', '3', '256'], 2), "field 4 (pixel 3): '256' is not an integer 0..255");
  t.is(middle.parse(['256', '2', '3', '4'], 2), "field 1 (pixel 1): '256' is not an integer 0..255");
  const none = new RowParser({ hasHeader: false, fieldCount: 3, labelIndex: -1 }, 3, 10);
  t.deepEqual(none.parse(['1', '2', '3'], 1), { line: 1, label: null, pixels: Uint8Array.from([1, 2, 3]) });
  t.is(none.parse(['1', '2', 'x'], 1), "field 3 (pixel 3): 'x' is not an integer 0..255");
  t.throws(() => new RowParser({ hasHeader: false, fieldCount: 3, labelIndex: 0 }, 3, 10), { instanceOf: RangeError });
});

test('RowParser shows a bad value quoted, with control characters visible and a long value cut', (t) => {
  const parser = new RowParser({ hasHeader: false, fieldCount: 2, labelIndex: 0 }, 1, 10);
  t.is(parser.parse(['1', '1\r\t'], 1), "field 2 (pixel 1): '1\\r\\t' is not an integer 0..255");
  t.is(parser.parse(['x'.repeat(30), '1'], 1), `label '${'x'.repeat(24)}…' is not an integer 0..9`);
});
