// csvRows on every accepted layout and text variant: rows, labels, pixels and physical line numbers.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { fixture } from '../helpers/paths.js';
import { collect, plain, stdinOf, tempDir, writeTemp } from './helpers.js';

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir()));
test.after.always(() => cleanup());

test('no header, label first, LF, final newline (fixture)', async (t) => {
  const { rows, layouts, errors } = await collect({ input: fixture('csv/label-first.csv') });
  t.deepEqual(layouts, [{ hasHeader: false, fieldCount: 5, labelIndex: 0 }]);
  t.deepEqual(errors, []);
  t.deepEqual(plain(rows), [
    { line: 1, label: 7, pixels: [0, 12, 255, 3] },
    { line: 2, label: 2, pixels: [1, 0, 0, 9] },
    { line: 3, label: 1, pixels: [255, 254, 253, 252] },
  ]);
  t.true(rows.every((r) => r.pixels instanceof Uint8Array));
});

test('BOM, CRLF, header with a `Label` column in the middle, blank line, no final newline (fixture)', async (t) => {
  const { rows, layouts } = await collect({ input: fixture('csv/bom-crlf-label-column.csv') });
  t.deepEqual(layouts, [{ hasHeader: true, fieldCount: 5, labelIndex: 2 }]);
  t.deepEqual(plain(rows), [
    { line: 2, label: 3, pixels: [0, 1, 2, 3] },
    // line 3 is blank; '007' is plain digits with leading zeros: 7
    { line: 4, label: 9, pixels: [255, 7, 0, 10] },
  ]);
});

test('unlabeled with a header, blank lines at the start, middle and end (fixture)', async (t) => {
  const { rows, layouts } = await collect({ input: fixture('csv/unlabeled-header-blank-lines.csv') });
  t.deepEqual(layouts, [{ hasHeader: true, fieldCount: 4, labelIndex: -1 }]);
  t.deepEqual(plain(rows), [
    { line: 5, label: null, pixels: [10, 20, 30, 40] },
    { line: 8, label: null, pixels: [0, 0, 0, 0] },
  ]);
});

test('unlabeled without a header (fixture)', async (t) => {
  const { rows, layouts } = await collect({ input: fixture('csv/unlabeled.csv') });
  t.deepEqual(layouts, [{ hasHeader: false, fieldCount: 4, labelIndex: -1 }]);
  t.deepEqual(plain(rows), [
    { line: 1, label: null, pixels: [1, 2, 3, 4] },
    { line: 2, label: null, pixels: [5, 6, 7, 8] },
  ]);
});

test('header with the label column last, any case; other header names are free text', async (t) => {
  const input = await writeTemp(dir, 'a,b,c,d,LABEL\n1,2,3,4,5\n');
  const { rows, layouts } = await collect({ input });
  t.deepEqual(layouts, [{ hasHeader: true, fieldCount: 5, labelIndex: 4 }]);
  t.deepEqual(plain(rows), [{ line: 2, label: 5, pixels: [1, 2, 3, 4] }]);
});

test('header of features+1 columns without a `label` column: the label is the first column', async (t) => {
  const input = await writeTemp(dir, 'digit,p1,p2,p3,p4\n3,1,2,3,4\n');
  const { rows, layouts } = await collect({ input });
  t.deepEqual(layouts, [{ hasHeader: true, fieldCount: 5, labelIndex: 0 }]);
  t.deepEqual(plain(rows), [{ line: 2, label: 3, pixels: [1, 2, 3, 4] }]);
});

test('quoted fields are CSV syntax, not part of the value', async (t) => {
  const input = await writeTemp(dir, '"label","p1","p2","p3","p4"\n"1","2",3,"4",5\n');
  const { rows } = await collect({ input });
  t.deepEqual(plain(rows), [{ line: 2, label: 1, pixels: [2, 3, 4, 5] }]);
});

test('a file that mixes LF and CRLF line ends reads line by line', async (t) => {
  const input = await writeTemp(dir, '1,1,1,1,1\r\n2,2,2,2,2\n\r\n3,3,3,3,3\r\n');
  const { rows } = await collect({ input });
  t.deepEqual(
    rows.map((r) => [r.line, r.label]),
    [
      [1, 1],
      [2, 2],
      [4, 3],
    ],
  );
});

test('stdin: "-" reads the given stream and names it <stdin>', async (t) => {
  const text = '\ufeffp1,p2,label,p3,p4\r\n0,1,2,3,4\r\n\r\n5,6,7,8,9';
  const { rows, layouts } = await collect({ input: '-', stdin: stdinOf(text, 3) });
  t.deepEqual(layouts, [{ hasHeader: true, fieldCount: 5, labelIndex: 2 }]);
  t.deepEqual(plain(rows), [
    { line: 2, label: 2, pixels: [0, 1, 3, 4] },
    { line: 4, label: 7, pixels: [5, 6, 8, 9] },
  ]);
  const error = await t.throwsAsync(collect({ input: '-', stdin: stdinOf('1,2,3,4,5\n1,2,3\n') }));
  t.is(error?.message, '<stdin>:2: expected 5 fields, found 3');
});

test('MNIST rows (784 pixels, label first) match the text of the file', async (t) => {
  const path = fixture('csv/mnist-test-head.csv');
  const { rows, layouts } = await collect({ input: path, features: 784 });
  t.deepEqual(layouts, [{ hasHeader: false, fieldCount: 785, labelIndex: 0 }]);
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  t.is(rows.length, lines.length);
  t.deepEqual(
    rows.map((r) => r.label),
    [7, 2, 1, 0, 4],
  );
  rows.forEach((row, i) => {
    t.is(row.line, i + 1);
    t.deepEqual(Array.from(row.pixels), lines[i].split(',').slice(1).map(Number));
  });
});
