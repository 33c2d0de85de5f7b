// Bad rows: under 'fail' a DataError at the exact line naming the problem; under 'skip' the row is
// reported through onRowError and left out, and every other row comes through intact.
import test from 'ava';
import { DataError } from '../../src/errors.js';
import { collect, plain, stdinOf, tempDir, writeTemp } from './helpers.js';

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir()));
test.after.always(() => cleanup());

// 4 pixels, label first, classes 0..9.
const badRows: Array<[name: string, row: string, problem: string]> = [
  ['too few fields', '1,2,3,4', 'expected 5 fields, found 4'],
  ['too many fields', '1,2,3,4,5,6', 'expected 5 fields, found 6'],
  ['a row of spaces is not a blank line', '   ', 'expected 5 fields, found 1'],
  ['decimal point', '3,1.5,0,0,0', "field 2 (pixel 1): '1.5' is not an integer 0..255"],
  ['exponent', '3,0,1e2,0,0', "field 3 (pixel 2): '1e2' is not an integer 0..255"],
  ['negative', '3,0,0,-1,0', "field 4 (pixel 3): '-1' is not an integer 0..255"],
  ['plus sign', '3,+1,0,0,0', "field 2 (pixel 1): '+1' is not an integer 0..255"],
  ['above 255', '3,0,0,0,256', "field 5 (pixel 4): '256' is not an integer 0..255"],
  ['leading space', '3, 12,0,0,0', "field 2 (pixel 1): ' 12' is not an integer 0..255"],
  ['trailing space', '3,12 ,0,0,0', "field 2 (pixel 1): '12 ' is not an integer 0..255"],
  ['hex', '3,0x1f,0,0,0', "field 2 (pixel 1): '0x1f' is not an integer 0..255"],
  ['full-width digits', '3,１２,0,0,0', "field 2 (pixel 1): '１２' is not an integer 0..255"],
  ['empty pixel', '3,,0,0,0', 'field 2 (pixel 1) is empty'],
  ['NUL byte in a pixel', '3,0,0,1\0,0', 'field 4 (pixel 3) contains a NUL byte'],
  ['stray quote inside a field', '3,1"2,0,0,0', `field 2 (pixel 1): '1\\"2' is not an integer 0..255`],
  ['bare CR inside a field', '3,1\r2,0,0,0', "field 2 (pixel 1): '1\\r2' is not an integer 0..255"],
  ['label too big', '10,0,0,0,0', "label '10' is not an integer 0..9"],
  ['negative label', '-1,0,0,0,0', "label '-1' is not an integer 0..9"],
  ['label with a decimal point', '1.0,0,0,0,0', "label '1.0' is not an integer 0..9"],
  ['empty label', ',0,0,0,0', 'label (field 1) is empty'],
  ['NUL byte in the label', '\0,0,0,0,0', 'label (field 1) contains a NUL byte'],
  [
    'long values are cut in messages',
    `3,${'9'.repeat(40)},0,0,0`,
    `field 2 (pixel 1): '${'9'.repeat(24)}…' is not an integer 0..255`,
  ],
];

for (const [name, row, problem] of badRows) {
  test(`fail: ${name}`, async (t) => {
    // A good row, a blank line, then the bad row on line 3, then a good row.
    const input = await writeTemp(dir, `1,1,1,1,1\n\n${row}\n2,2,2,2,2\n`);
    const error = await t.throwsAsync(collect({ input }), { instanceOf: DataError });
    t.is(error?.code, 'PIPE_ERR_DATA');
    t.is(error?.exitCode, 1);
    t.is((error as DataError).file, input);
    t.is((error as DataError).line, 3);
    t.is((error as DataError).problem, problem);
    t.is(error?.message, `${input}:3: ${problem}`);
  });
}

test('fail: labels are checked against `classes`', async (t) => {
  const input = await writeTemp(dir, '2,0,0,0,0\n');
  const error = await t.throwsAsync(collect({ input, classes: 2 }), { instanceOf: DataError });
  t.is(error?.message, `${input}:1: label '2' is not an integer 0..1`);
});

test('fail: with the label column elsewhere, fields and pixels are still named right', async (t) => {
  const input = await writeTemp(dir, 'p1,p2,label,p3,p4\n0,0,1,0,300\n');
  const error = await t.throwsAsync(collect({ input }), { instanceOf: DataError });
  t.is((error as DataError).problem, "field 5 (pixel 4): '300' is not an integer 0..255");
});

test('fail: a record with a quoted line break names all the lines it covers', async (t) => {
  const input = await writeTemp(dir, '1,1,1,1,1\n2,"1\n2",0,0,0\n3,3,3,3,3\n');
  const error = await t.throwsAsync(collect({ input }), { instanceOf: DataError });
  t.is(error?.message, `${input}:2: a quoted field contains a line break (the record runs from line 2 to 3)`);
});

test('skip: every bad row is reported at its line, the good rows are all there', async (t) => {
  const lines: string[] = [];
  const expectedErrors: Array<{ line: number; message: string }> = [];
  const expectedRows: Array<{ line: number; label: number; pixels: number[] }> = [];
  badRows.forEach(([, row, problem], i) => {
    lines.push(`${i % 10},${i},${i + 1},${i + 2},${i + 3}`);
    expectedRows.push({ line: lines.length, label: i % 10, pixels: [i, i + 1, i + 2, i + 3] });
    if (i % 3 === 0) lines.push('');
    lines.push(row);
    expectedErrors.push({ line: lines.length, message: problem });
  });
  // A record spanning lines 2 physical lines, reported once, at its first line.
  lines.push('4,"1', '2",0,0,0');
  expectedErrors.push({
    line: lines.length - 1,
    message: `a quoted field contains a line break (the record runs from line ${lines.length - 1} to ${lines.length})`,
  });
  lines.push('9,9,9,9,9');
  expectedRows.push({ line: lines.length, label: 9, pixels: [9, 9, 9, 9] });
  const text = lines.join('\n');
  const input = await writeTemp(dir, text);

  const { rows, errors } = await collect({ input, onError: 'skip' });
  t.deepEqual(errors, expectedErrors);
  t.deepEqual(plain(rows), expectedRows);

  // The same from stdin in small chunks, so every record and line end straddles a chunk boundary;
  // and with CRLF line ends.
  for (const chunkSize of [1, 2, 3, 5, 8]) {
    for (const eol of ['\n', '\r\n']) {
      const fromStdin = await collect({ input: '-', stdin: stdinOf(lines.join(eol), chunkSize), onError: 'skip' });
      t.deepEqual(fromStdin.errors, expectedErrors, `chunks of ${chunkSize}, ${JSON.stringify(eol)}`);
      t.deepEqual(plain(fromStdin.rows), expectedRows, `chunks of ${chunkSize}, ${JSON.stringify(eol)}`);
    }
  }
});

test('skip: a bad first data row still fixes the layout by its field count', async (t) => {
  const input = await writeTemp(dir, '3,1.5,0,0,0\n1,2,3,4\n1,2,3,4,5\n');
  const { rows, errors, layouts } = await collect({ input, onError: 'skip' });
  t.deepEqual(layouts, [{ hasHeader: false, fieldCount: 5, labelIndex: 0 }]);
  t.deepEqual(errors, [
    { line: 1, message: "field 2 (pixel 1): '1.5' is not an integer 0..255" },
    // never silently read as an unlabeled row
    { line: 2, message: 'expected 5 fields, found 4' },
  ]);
  t.deepEqual(plain(rows), [{ line: 3, label: 1, pixels: [2, 3, 4, 5] }]);
});

test('skip: an unclosed quote is still fatal (csv-parse cannot tell where the next record starts)', async (t) => {
  const input = await writeTemp(dir, '1,1,1,1,1\n\n2,"2,2,2,2\n3,3,3,3,3\n');
  const error = await t.throwsAsync(collect({ input, onError: 'skip' }), { instanceOf: DataError });
  t.is(error?.message, `${input}:3: unclosed quote: a quoted field starts in this record and never ends`);
});

test('fail: an unclosed quote that runs past the record size limit is reported as an unclosed quote', async (t) => {
  const rows = Array.from({ length: 200 }, (_, i) => `${i % 10},1,2,3,4`);
  rows[5] = '5,"1,2,3,4';
  const input = await writeTemp(dir, `${rows.join('\n')}\n`);
  const error = await t.throwsAsync(collect({ input, maxRecordBytes: 500 }), { instanceOf: DataError });
  t.is(
    error?.message,
    `${input}:6: unclosed quote: a quoted field starts in this record and does not end within 500 bytes ` +
      `(maxRecordBytes)`,
  );
});

test(
  'skip: when every data row is bad, no row comes and each is reported (the pipeline then says there is nothing ' +
    'to score)',
  async (t) => {
    const input = await writeTemp(dir, 'label,a,b,c,d\n1,2,3,4\n10,0,0,0,0\n');
    const { rows, errors } = await collect({ input, onError: 'skip' });
    t.deepEqual(rows, []);
    t.deepEqual(
      errors.map((e) => e.line),
      [2, 3],
    );
  },
);
