// --label-column, --drop-columns, the label hint and a repeated --input, through the real CLI.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-columns-'));
const rows = readFileSync(fixture('mnist-test-100.csv'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split(','));

function write(name: string, lines: string[][]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((fields) => fields.join(',')).join('\n')}\n`);
  return path;
}

const pixelNames = Array.from({ length: 784 }, (_, i) => `p${i}`);
const withId = write('with-id.csv', [['id', 'label', ...pixelNames], ...rows.map((r, i) => [`img-${i}`, ...r])]);
const labelLast = write(
  'label-last.csv',
  rows.map((r) => [...r.slice(1), r[0]]),
);
const onePixelShort = write(
  'one-pixel-short.csv',
  rows.map((r) => r.slice(0, 784)),
);

const report = async (args: string[]) => {
  const run = await runPipeline([...args, '--json', '--threads', '0']);
  return {
    run,
    doc: run.code === 0 ? (JSON.parse(run.stdout) as { rows: number; labeled: number; correct: number }) : null,
  };
};
const plain = report(['--input', fixture('mnist-test-100.csv')]);

for (const parser of ['fast', 'csv-parse']) {
  test(`--drop-columns id (${parser}): the id column is left out, the rows score as without it`, async (t) => {
    const { run, doc } = await report(['--input', withId, '--drop-columns', 'id', '--parser', parser]);
    t.is(run.code, 0, run.stderr);
    t.like(doc, { rows: 100, labeled: 100, correct: (await plain).doc!.correct });
  });
}

test('--drop-columns with workers decoding: the same rows', async (t) => {
  const run = await runPipeline([
    '--input',
    withId,
    '--drop-columns',
    '0',
    '--json',
    '--threads',
    '2',
    '--decode',
    'workers',
  ]);
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { rows: 100, labeled: 100, correct: (await plain).doc!.correct });
});

test('--label-column 784 reads the label from the last of 785 columns', async (t) => {
  const { run, doc } = await report(['--input', labelLast, '--label-column', '784']);
  t.is(run.code, 0, run.stderr);
  t.like(doc, { rows: 100, labeled: 100, correct: (await plain).doc!.correct });
});

test('a labeled file one column short is read as unlabeled with one warning naming --label-column', async (t) => {
  const { run, doc } = await report(['--input', onePixelShort]);
  t.is(run.code, 0, run.stderr);
  t.like(doc, { labeled: 0 });
  t.is(run.stderr.match(/first column looks like labels.*--label-column/g)?.length, 1, run.stderr);
});

test('the label hint on the csv-parse path too', async (t) => {
  const { run } = await report(['--input', onePixelShort, '--parser', 'csv-parse']);
  t.regex(run.stderr, /one-pixel-short\.csv: read as unlabeled .*--label-column/);
});

test('--label-column none: read as pixels, no warning', async (t) => {
  const { run, doc } = await report(['--input', onePixelShort, '--label-column', 'none']);
  t.is(run.code, 0, run.stderr);
  t.like(doc, { labeled: 0 });
  t.notRegex(run.stderr, /looks like labels/);
});

test('no warning for a real unlabeled file', async (t) => {
  const unlabeled = write(
    'unlabeled.csv',
    rows.map((r) => r.slice(1)),
  );
  const { run } = await report(['--input', unlabeled]);
  t.is(run.code, 0, run.stderr);
  t.notRegex(run.stderr, /looks like labels/);
});

for (const [args, message] of [
  [['--label-column', '-1'], /--label-column: '-1': an index counts from 0/],
  [['--label-column', ''], /--label-column: an empty column/],
  [['--drop-columns', 'id,,x'], /--drop-columns: an empty column/],
  [['--drop-columns', '0', '--label-column', '0'], /--label-column 0 is also in --drop-columns/],
] as const) {
  test(`bad value ${args.join(' ')}: exit 2 naming the option`, async (t) => {
    const run = await runPipeline(['--input', withId, ...args]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  });
}

test('a name not in the header: exit 1 naming the file and the option', async (t) => {
  const run = await runPipeline(['--input', withId, '--drop-columns', 'name', '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /with-id\.csv:1: --drop-columns 'name': no column of that name in the header/);
});

test('an index out of range: exit 1 naming the file', async (t) => {
  const run = await runPipeline(['--input', labelLast, '--label-column', '785', '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /label-last\.csv:1: --label-column 785: the rows have 785 columns/);
});

test('--input given twice scores both files as one run, not the last file alone', async (t) => {
  const { run, doc } = await report([
    '--input',
    labelLast,
    '--input',
    write(
      'label-last-2.csv',
      rows.map((r) => [...r.slice(1), r[0]]),
    ),
  ]);
  t.is(run.code, 0, run.stderr);
  t.is(doc!.rows, 200);
});

test('--input a.csv b.csv (a shell glob) of files laid out differently is a data error (exit 1) naming the second', async (t) => {
  const run = await runPipeline(['--input', labelLast, withId, '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /with-id\.csv:1: has 786 columns, .*label-last\.csv has 785/);
});
