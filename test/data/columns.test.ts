// --label-column / --drop-columns resolved into a layout, the row decoder with dropped columns against csv-parse, and
// the hint that an unlabeled file's first column looks like labels.
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { looksLabeled, looksLabeledText, parseColumnRef, resolveLayout } from '../../src/data/columns.js';
import { JsRowDecoder } from '../../src/data/row-kernel.js';
import { RowParser } from '../../src/data/row-parser.js';
import type { CsvLayout } from '../../src/data/types.js';

const header = ['id', 'p0', 'p1', 'label', 'p2'];

test('parseColumnRef: digits are a 0-based index, anything else a name; empty and negative are refused', (t) => {
  t.deepEqual([parseColumnRef('784'), parseColumnRef(' id '), parseColumnRef('none')], [784, 'id', 'none']);
  t.like(parseColumnRef(''), { problem: 'is empty' });
  t.like(parseColumnRef('-1'), { problem: "'-1': an index counts from 0" });
});

test('without a choice the layout is detected as before', (t) => {
  t.deepEqual(resolveLayout(['7', '0', '0'], 2, undefined), {
    layout: { hasHeader: false, fieldCount: 3, labelIndex: 0 },
  });
  t.deepEqual(resolveLayout(['7', '0', '0'], 2, {}), { layout: { hasHeader: false, fieldCount: 3, labelIndex: 0 } });
});

test('--drop-columns id with a header: the `label` column is still found, the id left out', (t) => {
  t.deepEqual(resolveLayout(header, 3, { drop: ['id'] }), {
    layout: { hasHeader: true, fieldCount: 5, labelIndex: 3, drop: [0] },
  });
});

test('--drop-columns 0 without a header: the first column kept is the label', (t) => {
  t.deepEqual(resolveLayout(['x', '7', '1', '2'], 2, { drop: [0] }), {
    layout: { hasHeader: false, fieldCount: 4, labelIndex: 1, drop: [0] },
  });
});

test('--label-column by index (the last column) and by name', (t) => {
  t.deepEqual(resolveLayout(['0', '3', '9'], 2, { label: 2 }), {
    layout: { hasHeader: false, fieldCount: 3, labelIndex: 2 },
  });
  t.deepEqual(resolveLayout(header, 3, { label: 'label', drop: ['id'] }), {
    layout: { hasHeader: true, fieldCount: 5, labelIndex: 3, drop: [0] },
  });
});

test('--label-column none reads every column as pixels', (t) => {
  t.deepEqual(resolveLayout(['7', '0', '0'], 3, { label: 'none' }), {
    layout: { hasHeader: false, fieldCount: 3, labelIndex: -1 },
  });
});

test('a name not in the header, an index out of range, a name without a header, a count that does not fit: problems', (t) => {
  t.like(resolveLayout(header, 3, { drop: ['name'] }), {
    problem: "--drop-columns 'name': no column of that name in the header",
  });
  t.like(resolveLayout(['1', '2', '3'], 2, { label: 3 }), {
    problem: '--label-column 3: the rows have 3 columns (indexes 0..2)',
  });
  t.like(resolveLayout(['1', '2', '3'], 2, { label: 'label' }), {
    problem: "--label-column 'label' names a column, but the input has no header",
  });
  t.like(resolveLayout(['1', '2', '3'], 3, { label: 0 }), {
    problem: 'the first row has 3 columns, 0 dropped, a label (column 0): 2 pixel columns, expected 3',
  });
});

const mappedLayout: CsvLayout = { hasHeader: false, fieldCount: 5, labelIndex: 3, drop: [0] };
const table = Float32Array.from({ length: 256 }, (_, i) => i);

/** The JavaScript row decoder's pixels and label for one line, or null when it leaves the line to csv-parse. */
function mapped(line: string): { pixels: number[]; label: number } | null {
  const bytes = Buffer.from(line);
  const spec = { layout: mappedLayout, features: 3, classes: 10, table, maxRecordBytes: 65536 };
  const decoder = new JsRowDecoder([bytes], spec, 1);
  decoder.decode(0, bytes.length, 1, 0, 1);
  return decoder.rows === 0 ? null : { pixels: [...decoder.x], label: decoder.labels[0] };
}

/** What csv-parse + RowParser make of the same line (the oracle). */
function oracle(line: string): { pixels: number[]; label: number } | string {
  const row = new RowParser(mappedLayout, 3, 10).parse(parse(line, { relax_column_count: true })[0], 1);
  return typeof row === 'string' ? row : { pixels: [...row.pixels], label: row.label ?? -1 };
}

for (const line of ['img-1,10,20,7,30\n', ',0,255,0,1\r\n', 'a b;c,1,2,9,3\n', '007,1,2,3,4\n']) {
  test(`with a dropped column, the row decoder reads ${JSON.stringify(line)} as csv-parse + RowParser do`, (t) => {
    t.deepEqual(mapped(line), oracle(line));
  });
}

for (const line of ['"a,b",1,2,3,4\n', 'x,1,2,10,4\n', 'x,1,256,3,4\n', 'x,1,2,3\n', 'x,1,2,3,4,5\n', 'x,1,2,3,4']) {
  test(`with a dropped column, the row decoder leaves ${JSON.stringify(line)} to csv-parse`, (t) => {
    t.is(mapped(line), null);
  });
}

test('with a dropped column, RowParser names a bad pixel by its pixel number', (t) => {
  t.is(oracle('x,1,2,3,y\n'), "field 5 (pixel 3): 'y' is not an integer 0..255");
});

const rows = (firsts: number[]) => firsts.map((label, i) => [String(label), '0', String((i * 40) % 256), '0']);

test('the label hint: first fields 0..9 with several values while other columns hold pixels above 9', (t) => {
  t.true(looksLabeled(rows([7, 2, 1, 0, 4]), 10));
});

test('no label hint for a first column that is one value (a real corner pixel), or holds values above 9', (t) => {
  t.false(looksLabeled(rows([0, 0, 0, 0, 0]), 10));
  t.false(looksLabeled(rows([7, 2, 100, 0, 4]), 10));
});

test('no label hint when every column holds small values only', (t) => {
  t.false(
    looksLabeled(
      [
        ['1', '2', '3'],
        ['4', '5', '6'],
      ],
      10,
    ),
  );
});

test('the label hint on raw text: CRLF lines, a cut last line left out', (t) => {
  t.true(looksLabeledText('7,0,200\r\n2,0,13\r\n1,0,0\r\n3,0,5', 10));
  t.true(looksLabeledText('7,0,200\r\n2,0,13\r\n1,0,0\r\n300,0', 10));
});
