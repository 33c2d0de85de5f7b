// Several input files read as one run (openSource with `inputs`): exact batches across the files' ends,
// every row and bad row located by its file and its line there, `limit` over the whole run, the files'
// layouts checked alike, and the fast path giving what csv-parse (the oracle) gives, gzip files included.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { normalizationTable } from '../../src/data/normalize.js';
import { batchesHere, openSource, type ParserChoice, type SourceOptions } from '../../src/data/source.js';
import type { FileLine } from '../../src/data/line-map.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-files-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const FEATURES = 4;
const header = 'label,a,b,c,d';
/** A good row whose label and pixels say which file and row it is. */
const row = (file: number, i: number) => `${i % 10},${file},${i},${(file * 7 + i) % 256},9`;

function write(name: string, text: string, gzip = false): string {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

const rows = (file: number, count: number) => Array.from({ length: count }, (_, i) => row(file, i));

const base = (inputs: string[], extra: Partial<SourceOptions> = {}): SourceOptions => ({
  input: inputs[0],
  inputs,
  features: FEATURES,
  classes: 10,
  onError: 'fail',
  batchSize: 4,
  table: normalizationTable('none'),
  parser: 'fast',
  ...extra,
});

interface Read {
  /** Rows per batch, in order. */
  sizes: number[];
  /** Every row: where it is, its label and first pixels. */
  rows: { at: FileLine; label: number; pixels: number[] }[];
  errors: { at: FileLine; message: string }[];
  thrown: string | null;
}

async function read(inputs: string[], parser: ParserChoice, extra: Partial<SourceOptions> = {}): Promise<Read> {
  const out: Read = { sizes: [], rows: [], errors: [], thrown: null };
  const errors: { line: number; message: string }[] = [];
  const options = base(inputs, { parser, onRowError: (e) => errors.push(e), ...extra });
  try {
    const source = await openSource(options);
    try {
      for await (const group of batchesHere(source, options))
        for (const batch of group) {
          out.sizes.push(batch.rows);
          for (let i = 0; i < batch.rows; i++)
            out.rows.push({
              at: source.lineMap.locate(batch.lines[i]),
              label: batch.labels[i],
              pixels: Array.from(batch.x.subarray(i * FEATURES, (i + 1) * FEATURES)),
            });
          batch.release();
        }
    } finally {
      out.errors = errors.map((e) => ({ at: source.lineMap.locate(e.line), message: e.message }));
    }
  } catch (error) {
    out.thrown = (error as Error).message;
  }
  return out;
}

test('batches hold exactly batchSize rows across the files but the last; every row keeps its file and line', async (t) => {
  const a = write('a.csv', `${header}\n${rows(1, 7).join('\n')}\n`);
  const b = write('b.csv', `${header}\n${rows(2, 5).join('\n')}`); // no newline at its end
  const c = write('c.csv', `${header}\r\n${rows(3, 9).join('\r\n')}\r\n`);
  for (const parser of ['fast', 'csv-parse'] as const) {
    const got = await read([a, b, c], parser);
    t.is(got.thrown, null, parser);
    t.deepEqual(got.sizes, [4, 4, 4, 4, 4, 1], parser);
    t.deepEqual(got.rows[7], { at: { file: b, line: 2 }, label: 0, pixels: [2, 0, 14, 9] }, parser);
    t.deepEqual(got.rows[12].at, { file: c, line: 2 }, parser);
    t.deepEqual(got.rows.at(-1)!.at, { file: c, line: 10 }, parser);
  }
});

test('the fast path gives what csv-parse gives: rows, bad rows, blank lines, gzip and plain files mixed', async (t) => {
  const bad = [...rows(2, 12)];
  bad[3] = 'x,1,2,3,4';
  bad[7] = `${bad[7]},5`;
  bad[9] = '';
  const files = [
    write('p1.csv', `${header}\n\n${rows(1, 10).join('\n')}\n\n`),
    write('p2.csv.gz', `${header}\n${bad.join('\n')}\n`, true),
    write('p3.csv', `\n${header}\n${rows(3, 3).join('\n')}`),
    write('p4.csv.gz', `${header}\n${rows(4, 6).join('\n')}`, true),
  ];
  for (const batchSize of [1, 3, 4, 100]) {
    const fast = await read(files, 'fast', { onError: 'skip', batchSize });
    const oracle = await read(files, 'csv-parse', { onError: 'skip', batchSize });
    t.is(fast.thrown, null);
    t.deepEqual(fast, oracle, `batch size ${batchSize}`);
    t.deepEqual(
      fast.errors.map((e) => e.at),
      [
        { file: files[1], line: 5 },
        { file: files[1], line: 9 },
      ],
    );
  }
});

test('a lone carriage return ending a file that is not the last is a row, as at the end of one file alone', async (t) => {
  const files = [
    write('cr1.csv', `${header}\n${rows(1, 3).join('\n')}\n\r`),
    write('cr2.csv', `${header}\r\n${rows(2, 2).join('\r\n')}\r\n\r`),
    write('cr3.csv', `${header}\n${rows(3, 2).join('\n')}\n`),
  ];
  for (const batchSize of [1, 4]) {
    const fast = await read(files, 'fast', { onError: 'skip', batchSize });
    t.deepEqual(fast, await read(files, 'csv-parse', { onError: 'skip', batchSize }), `batch size ${batchSize}`);
    t.deepEqual(
      fast.errors.map((e) => e.at),
      [
        { file: files[0], line: 5 },
        { file: files[1], line: 4 },
      ],
    );
  }
});

test('a bad row in the second file under fail names that file and its line, on both paths', async (t) => {
  const a = write('f1.csv', `${header}\n${rows(1, 5).join('\n')}\n`);
  const lines = rows(2, 5);
  lines[2] = '3,1,2,300,4';
  const b = write('f2.csv', `${header}\n${lines.join('\n')}\n`);
  for (const parser of ['fast', 'csv-parse'] as const) {
    const got = await read([a, b], parser);
    t.regex(got.thrown ?? '', new RegExp(`^${b.replace(/[.]/g, '\\.')}:4: `), parser);
  }
});

test('--limit counts good rows across the files', async (t) => {
  const a = write('l1.csv', `${header}\n${rows(1, 3).join('\n')}\n`);
  const b = write('l2.csv', `${header}\n${rows(2, 6).join('\n')}\n`);
  for (const parser of ['fast', 'csv-parse'] as const) {
    const got = await read([a, b], parser, { limit: 6 });
    t.deepEqual(got.sizes, [4, 2], parser);
    t.deepEqual(got.rows.at(-1)!.at, { file: b, line: 4 }, parser);
  }
});

const mismatches: [string, string, RegExp][] = [
  ['another header', 'label,a,b,x,d', /:1: header differs from .*m0\.csv's: column 3 is 'x', there 'c'/],
  ['a column more', `${header},e`, /:1: has 6 columns, .*m0\.csv has 5/],
  ['no header', row(1, 0), /:1: has no header, .*m0\.csv has one/],
];
for (const [what, first, message] of mismatches) {
  test(`a file whose first record is unlike the first file's (${what}) is a data error at its line 1`, async (t) => {
    const a = write('m0.csv', `${header}\n${rows(1, 3).join('\n')}\n`);
    const b = write(`m-${what.replace(/\W/g, '')}.csv`, `${first}\n${rows(2, 3).join('\n')}\n`);
    for (const parser of ['fast', 'csv-parse'] as const) {
      const got = await read([a, b], parser);
      t.regex(got.thrown ?? '', message, parser);
      t.true(got.thrown!.startsWith(b), parser);
      t.deepEqual(got.sizes, [], parser);
    }
  });
}

test('a file with a header and no rows is refused on both paths, as one alone would be', async (t) => {
  const a = write('h1.csv', `${header}\n${rows(1, 3).join('\n')}\n`);
  const b = write('h2.csv', `${header}\n`);
  const c = write('h3.csv', `${header}\n${rows(3, 3).join('\n')}\n`);
  for (const parser of ['fast', 'csv-parse'] as const) {
    const got = await read([a, b, c], parser);
    t.is(got.thrown, `${b}: no rows: the input has a header (line 1) but no data rows`, parser);
  }
});

test('the framer cuts blocks of exactly batchSize rows across the files (what the workers decode and score under fail)', async (t) => {
  const a = write('k1.csv', `${header}\n${rows(1, 6).join('\n')}`);
  const b = write('k2.csv.gz', `${header}\n\n${rows(2, 3).join('\n')}\n`, true);
  const c = write('k3.csv', `${header}\n${rows(3, 4).join('\n')}\n`);
  const source = await openSource(base([a, b, c], { batchSize: 4 }));
  const blocks: number[] = [];
  for await (const item of source.items)
    if (item.kind === 'blocks')
      for (const block of item.blocks) {
        blocks.push(block.rows);
        block.release();
      }
  t.deepEqual(blocks, [4, 4, 4, 1]);
});
