// Decoding in the workers (fast-csv/line-batches.ts) against the main-thread fast path on inputs that
// are wrong as a whole (empty, blank lines only, header only, binary, over-long lines, a bad layout,
// unreadable, a read error), on records whose quoted field runs across a line end (a clear DataError),
// on the regressions found in review, and on the controls of a read: limit, abort, a consumer that
// stops, backpressure (bounded read-ahead, for stdin and for files), progress.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openBatchSource, type BatchSourceOptions } from '../../src/data/batch-source.js';
import { decodeBlock } from '../../src/data/fast-csv/block.js';
import { fastCsvLineBatches, LINE_BATCH_READ_CHUNK, quotedAcrossLines } from '../../src/data/fast-csv/line-batches.js';
import { prepareMnistCsv } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { isLineBatch, type LineBatch, type WorkItem } from '../../src/data/types.js';
import { DataError } from '../../src/errors.js';
import { fixture } from '../helpers/paths.js';
import { everyN } from './fast-csv-harness.js';
import { assertAgree, runPlaced, type Feeding, type RunOptions, type RunRecord } from './line-batches-harness.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-lines-errors-'));
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

/** Every way of feeding the bytes: the file, stdin in one go, stdin in 3-byte chunks, a trickle. */
async function feedings(content: string | Uint8Array): Promise<Feeding[]> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return [
    { kind: 'file', path: await temp(bytes) },
    { kind: 'stdin', bytes, cuts: [] },
    { kind: 'stdin', bytes, cuts: everyN(bytes.length, 3) },
    { kind: 'trickle', bytes, cuts: everyN(bytes.length, 7) },
  ];
}

/** Workers and main agree on the input, for every feeding; returns main's record (file feeding). */
async function agree(t: ExecutionContext, content: string | Uint8Array, options: Partial<RunOptions> = {}): Promise<RunRecord> {
  const merged = { ...base, ...options };
  let first: RunRecord | null = null;
  for (const feeding of await feedings(content)) {
    const main = await runPlaced('main', feeding, merged);
    const workers = await runPlaced('workers', feeding, merged);
    t.notThrows(() => assertAgree(workers, main, merged, `${feeding.kind} ${feeding.kind === 'file' ? '' : JSON.stringify(feeding.cuts.slice(0, 3))}`));
    first ??= main;
  }
  return first!;
}

async function fatal(t: ExecutionContext, content: string | Uint8Array, line: number, problem: string, options: Partial<RunOptions> = {}) {
  const main = await agree(t, content, options);
  t.is(main.error?.name, 'DataError');
  t.is(main.error?.code, 'PIPE_ERR_DATA');
  t.is(main.error?.line, line);
  t.true(main.error?.message.endsWith(problem), main.error?.message);
}

// ---- whole-input errors -------------------------------------------------------------------------------

test('empty input, blank lines only, a BOM only, a header only', async (t) => {
  for (const onError of ['fail', 'skip'] as const) {
    await fatal(t, '', 0, 'no rows: the input is empty (or only blank lines)', { onError });
    await fatal(t, '\n\r\n\n\r\n', 0, 'no rows: the input is empty (or only blank lines)', { onError });
    await fatal(t, Buffer.from([0xef, 0xbb, 0xbf]), 0, 'no rows: the input is empty (or only blank lines)', { onError });
    await fatal(t, Buffer.from('\xef\xbb\xbf\n\r\n', 'latin1'), 0, 'no rows: the input is empty (or only blank lines)', { onError });
    await fatal(t, 'label,a,b,c,d\n', 0, 'no rows: the input has a header (line 1) but no data rows', { onError });
    await fatal(t, '\n\nlabel,a,b,c,d\r\n\r\n\n', 0, 'no rows: the input has a header (line 3) but no data rows', { onError });
    await fatal(t, '"label","a","b","c","d"', 0, 'no rows: the input has a header (line 1) but no data rows', { onError });
  }
});

test('binary input: NUL bytes or invalid UTF-8 on the first line', async (t) => {
  const nul = 'does not look like a CSV text file (it contains NUL bytes: binary data, or UTF-16 text?)';
  const utf8 = 'does not look like a CSV text file (it is not valid UTF-8: binary data, or another encoding?)';
  await fatal(t, 'label,a\0,b,c,d\n1,2,3,4,5\n', 1, nul);
  await fatal(t, Buffer.from('\n\n1,2,\xff,4,5\n', 'latin1'), 3, utf8);
  // Past the first line they are bad rows, not a binary input.
  await agree(t, Buffer.from('label,a,b,c,d\n1,2,3,4,5\n\0\xff\n', 'latin1'), { onError: 'skip' });
  const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x0a, 0x00]);
  const main = await agree(t, gzip);
  t.is(main.error?.name, 'DataError');
});

test('over-long lines: at the start, after good rows, after a bad row (fail and skip)', async (t) => {
  const tooLong = (limit: number) => `line is longer than the limit of ${limit} bytes (maxRecordBytes); is this a CSV file of images?`;
  await fatal(t, '1234567890'.repeat(10_000), 1, tooLong(65536));
  // Past the first 64 KiB of a file, which rows come before such an error depends on how far each path
  // has read (64 KiB on the main thread, LINE_BATCH_READ_CHUNK here), as on the csv-parse path: the
  // error is the same.
  const big = await temp(`1,1,1,1,1\n2,2,2,2,2\n${','.repeat(70_000)}\n3,3,3,3,3\n`);
  for (const onError of ['fail', 'skip'] as const) {
    const [main, workers] = await Promise.all([runPlaced('main', { kind: 'file', path: big }, { ...base, onError }), runPlaced('workers', { kind: 'file', path: big }, { ...base, onError })]);
    t.deepEqual(workers.error, main.error);
    t.is(main.error?.message, `${big}:3: ${tooLong(65536)}`);
  }
  await fatal(t, `1,1,1,1,1\n2,2,2,2,2\n${','.repeat(65_001)}\n3,3,3,3,3\n`, 3, tooLong(65000), { maxRecordBytes: 65_000 });
  await fatal(t, `1,1,1,1,1\n2,${'0'.repeat(120)},2,2,2\n`, 2, tooLong(100), { maxRecordBytes: 100 });
  // A bad row before it: which error wins, and which rows come first, as on the main-thread path.
  for (const onError of ['fail', 'skip'] as const) {
    for (const batchSize of [1, 2, 3, 100]) {
      await agree(t, `1,1,1,1,1\nx\n2,2,2,2,2\n3,3,3,3,3\n${'7'.repeat(200)}\n4,4,4,4,4\n`, { onError, batchSize, maxRecordBytes: 100 });
    }
  }
});

test('layout problems of the first row or header; a quoted header; one over two lines', async (t) => {
  await fatal(t, '\n1,2,3\n1,2,3\n', 2, 'the first row has 3 fields; expected 4 (pixels only) or 5 (a label and 4 pixels)');
  await fatal(t, 'a,b,c\n1,2,3\n', 1, 'the header has 3 columns; expected 4 (pixels only) or 5 (a label and 4 pixels)');
  await fatal(t, 'a,label,b,c\n1,2,3,4\n', 1, "the header has a 'label' column and 3 pixel columns; expected 4 pixel columns");
  await fatal(t, 'label,a,b,Label,d\n', 1, "the header has 2 columns named 'label' (fields 1, 4)");
  await fatal(t, '"a,b,c,d,e\n1,2,3,4,5\n', 1, 'unclosed quote: a quoted field starts in this record and never ends');
  // Regressions: the first record was split at every comma, quotes and all. A quoted first row was
  // taken for a header (and dropped), a quoted `label` column was not recognised (labels from pixels).
  const quotedRow = await agree(t, '"5",1,2,3,4\n6,1,2,3,4\n');
  t.deepEqual((quotedRow.rows as Array<{ line: number; label: number }>).map((r) => [r.line, r.label]), [[1, 5], [2, 6]]);
  const quotedHeader = await agree(t, '"a","label","b","c","d"\n1,7,2,3,4\n');
  t.deepEqual(quotedHeader.layouts, [{ hasHeader: true, fieldCount: 5, labelIndex: 1 }]);
  t.deepEqual((quotedHeader.rows as Array<{ label: number }>).map((r) => r.label), [7]);
  const twoLines = await agree(t, '"a\nb",c,d,e,f\n1,2,3,4,5\n');
  t.deepEqual((twoLines.rows as Array<{ line: number }>).map((r) => r.line), [3]);
});

test('an input that cannot be read; a stream that fails part way', async (t) => {
  await fatal(t, '', 0, 'no rows: the input is empty (or only blank lines)');
  const missing = join(dir, 'no-such-file.csv');
  for (const decodeIn of ['main', 'workers'] as const) {
    const run = await runPlaced(decodeIn, { kind: 'file', path: missing }, base);
    t.is(run.error?.message, `${missing}: cannot read the input (ENOENT: open failed)`, decodeIn);
    const folder = await runPlaced(decodeIn, { kind: 'file', path: dir }, base);
    t.is(folder.error?.message, `${dir}: cannot read the input (EISDIR: read failed)`, decodeIn);
  }
  // A read error after some rows (with or without a bad one): the same outcome (under 'skip' up to the
  // batch boundaries).
  for (const bad of ['x\n', '']) {
    for (const onError of ['fail', 'skip'] as const) {
      for (const batchSize of [1, 2, 5]) {
        const outcomes: Record<string, unknown> = {};
        for (const decodeIn of ['main', 'workers'] as const) {
          const chunks = ['label,a,b,c,d\n1,1,1,1,1\n', `2,2,2,2,2\n${bad}3,3,3`, ',3,3\n4,4,4,4,4\n'];
          const stdin = new Readable({
            read() {
              setImmediate(() => {
                const next = chunks.shift();
                if (next !== undefined) this.push(next);
                else this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' }));
              });
            },
          });
          const run = await runOn(decodeIn, stdin, { ...base, onError, batchSize });
          outcomes[decodeIn] = run;
          if (bad === '' || onError === 'skip') t.is(run.error?.message, '<stdin>: cannot read the input (EIO: read failed)');
        }
        const [main, workers] = [outcomes.main, outcomes.workers] as Array<Awaited<ReturnType<typeof runOn>>>;
        const what = `${JSON.stringify(bad)} ${onError} ${batchSize}`;
        t.deepEqual(workers.error, main.error, what);
        t.deepEqual(workers.rowErrors, main.rowErrors, what);
        if (onError === 'fail') t.deepEqual([workers.rows, workers.batches], [main.rows, main.batches], what);
        // Under 'skip' the rows scored before the error follow from the batch boundaries (difference 1).
        else t.true(workers.rows.every((line, i) => main.rows[i] === line) || main.rows.every((line, i) => workers.rows[i] === line), what);
      }
    }
  }
});

/** runPlaced for a given stream (the harness makes its own from bytes). */
async function runOn(decodeIn: 'main' | 'workers', stdin: Readable, options: RunOptions) {
  const rows: number[] = [];
  const rowErrors: unknown[] = [];
  const batches: Array<[number, number]> = [];
  let error: string | null = null;
  const source = openBatchSource({ ...options, input: '-', stdin, parser: 'fast', onRowError: (e) => rowErrors.push(e) }, decodeIn);
  try {
    for await (const item of source.batches) {
      const batch = isLineBatch(item) ? decoded(item, options, rowErrors) : item;
      if (batch === null) continue;
      batches.push([batch.index, batch.rows]);
      rows.push(...batch.lines);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  return { rows, rowErrors, batches, error: error === null ? null : { message: error } };
}

function decoded(item: LineBatch, options: RunOptions, rowErrors: unknown[]) {
  const { batch, errors } = decodeBlock(item.bytes, item.firstLine, item.index, item.spec);
  if (errors.length > 0 && options.onError === 'fail') throw new DataError('<stdin>', errors[0].line, errors[0].message);
  rowErrors.push(...errors);
  return batch;
}

// ---- a quoted field across a line end ---------------------------------------------------------------

test('a quoted field across a line end: a clear DataError naming the line, after the rows before it', async (t) => {
  const text = 'label,a,b,c,d\n1,1,1,1,1\nx\n2,"2\n2",2,2,2\n3,3,3,3,3\n';
  for (const feeding of await feedings(text)) {
    const file = feeding.kind === 'file' ? feeding.path : '<stdin>';
    for (const batchSize of [1, 2, 100]) {
      const skip = await runPlaced('workers', feeding, { ...base, onError: 'skip', batchSize });
      t.is(skip.error?.name, 'DataError');
      t.is(skip.error?.code, 'PIPE_ERR_DATA');
      t.is(skip.error?.line, 4);
      t.is(skip.error?.message, `${file}:4: ${quotedAcrossLines}`);
      // The rows before it were delivered, as the main-thread path delivers them (which goes on).
      t.deepEqual((skip.rows as Array<{ line: number }>).map((r) => r.line), [2]);
      t.deepEqual(skip.rowErrors, [{ line: 3, message: 'expected 5 fields, found 1' }]);
      const main = await runPlaced('main', feeding, { ...base, onError: 'skip', batchSize });
      t.deepEqual(main.rowErrors[1], { line: 4, message: 'a quoted field contains a line break (the record runs from line 4 to 5)' });
      // Under 'fail' the bad row before it is the run's error, as on the main-thread path.
      const fail = await runPlaced('workers', feeding, { ...base, batchSize });
      t.deepEqual(fail, await runPlaced('main', feeding, { ...base, batchSize }));
    }
  }
  // Without the bad row, under 'fail': no rows are delivered past the batch before it.
  const path = await temp('1,1,1,1,1\n2,2,2,2,2\n3,3,3,3,3\n4,"4\n",4,4,4\n5,5,5,5,5\n');
  const run = await runPlaced('workers', { kind: 'file', path }, { ...base, batchSize: 2 });
  t.is(run.error?.message, `${path}:4: ${quotedAcrossLines}`);
  t.deepEqual(run.batches, [{ index: 0, rows: 2 }]);
  // The fixture of odd rows has one (line 8): under 'fail' its earlier bad row is the error, as on the
  // main-thread path; under 'skip' the rows before line 8 come first.
  const odd = fixture('csv/fast-csv-odd-rows.csv');
  t.deepEqual(await runPlaced('workers', { kind: 'file', path: odd }, base), await runPlaced('main', { kind: 'file', path: odd }, base));
  const oddSkip = await runPlaced('workers', { kind: 'file', path: odd }, { ...base, onError: 'skip', batchSize: 100 });
  t.is(oddSkip.error?.message, `${odd}:8: ${quotedAcrossLines}`);
  t.deepEqual((oddSkip.rows as Array<{ line: number }>).map((r) => r.line), [1, 3, 4]);
  t.deepEqual(oddSkip.rowErrors.map((e) => e.line), [5, 6]);
  // Quotes that stay within their line are fine.
  await agree(t, 'label,a,b,c,d\n"1","2","3","4","5"\n6,"1""2",3,4,5\n7,"",3,4,"5"\n8,9",3,4,5\n', { onError: 'skip' });
});

test("auto with decoding in the workers: a quote past the first chunk fails clearly (the first chunk's quote picks csv-parse)", async (t) => {
  const rows = Array.from({ length: 40_000 }, (_, i) => `${i % 10},1,2,3,4`);
  rows[30_000] = '5,"1\n2",3,4,5';
  const path = await temp(`${rows.join('\n')}\n`);
  t.true((await stat(path)).size > LINE_BATCH_READ_CHUNK);
  const source = openBatchSource({ ...base, input: path, parser: 'auto', onError: 'skip', batchSize: 1000 }, 'workers');
  let delivered = 0;
  const error = await t.throwsAsync(async () => {
    for await (const item of source.batches) delivered += (item as LineBatch).rows;
  });
  t.is(await source.parser, 'fast');
  t.true(error instanceof DataError);
  t.is(error?.message, `${path}:30001: ${quotedAcrossLines}`);
  t.is(delivered, 30_000);
  const quotedFirst = await temp('"label",a,b,c,d\n1,2,3,4,5\n');
  const csvParse = openBatchSource({ ...base, input: quotedFirst, parser: 'auto' }, 'workers');
  const items: WorkItem[] = [];
  for await (const item of csvParse.batches) items.push(item);
  t.is(await csvParse.parser, 'csv-parse');
  t.false(isLineBatch(items[0]));
});

// ---- regressions --------------------------------------------------------------------------------------

test('regressions: limit with several batches in one chunk, a lone "\\r" as the last line', async (t) => {
  // Every batch of a push was cut at the batch size: limit 3 with batch size 2 gave 4 rows.
  const five = '1,1,1,1,1\n2,2,2,2,2\n3,3,3,3,3\n4,4,4,4,4\n5,5,5,5,5\n';
  for (const limit of [1, 2, 3, 4, 5, 6]) {
    for (const batchSize of [1, 2, 3, 7]) {
      const main = await agree(t, five, { limit, batchSize });
      t.is((main.rows as unknown[]).length, Math.min(limit, 5));
    }
  }
  // The splitter took a last line of just "\r" for a blank line; csv-parse reads a record there.
  for (const batchSize of [1, 2]) {
    const lone = await agree(t, '1,1,1,1,1\n\r', { batchSize });
    t.is(lone.error?.message.endsWith(':2: expected 5 fields, found 1'), true);
    await agree(t, 'label,a,b,c,d\n\r', { batchSize, onError: 'skip' });
    await agree(t, '1,1,1,1,1\n\n\r', { batchSize, onError: 'skip' });
    await agree(t, '1,1,1,1,1\n2,2,2,2,2\n\r', { batchSize, limit: 2 });
  }
  // After the limit, csv-parse (so the main-thread path) still reads what arrived: its errors win.
  await agree(t, '1,1,1,1,1\n"2,2,2,2,2\n', { limit: 1, maxRecordBytes: 30 });
  await agree(t, `1,1,1,1,1\n${'2,'.repeat(100)}\n`, { limit: 1, maxRecordBytes: 50 });
});

test('limit under skip is refused (the pipeline decodes on the main thread then)', async (t) => {
  const input = fixture('csv/label-first.csv');
  const error = await t.throwsAsync(drain(openBatchSource({ ...base, input, parser: 'fast', onError: 'skip', limit: 3 }, 'workers').batches));
  t.true(error instanceof RangeError);
  t.regex(error!.message, /limit is only supported under onError 'fail'/);
});

// ---- controls ------------------------------------------------------------------------------------------

async function drain(batches: AsyncIterable<WorkItem>): Promise<number> {
  let rows = 0;
  for await (const batch of batches) rows += batch.rows;
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

const workersSource = (options: Partial<BatchSourceOptions>) => openBatchSource({ ...base, input: '-', parser: 'fast', ...options } as BatchSourceOptions, 'workers');

test('limit under fail: stops after that many rows and stops reading', async (t) => {
  const stdin = endlessCsv();
  const got: LineBatch[] = [];
  for await (const item of workersSource({ batchSize: 100, stdin, limit: 250 }).batches) got.push(item as LineBatch);
  t.deepEqual(got.map((b) => [b.index, b.rows, b.firstLine]), [[0, 100, 2], [1, 100, 102], [2, 50, 202]]);
  t.true(stdin.destroyed);
  t.true(stdin.produced < 100_000, `produced ${stdin.produced} rows`);
});

test('abort: returns with the rows so far and closes the input; already aborted reads nothing', async (t) => {
  const stdin = endlessCsv();
  const controller = new AbortController();
  let rows = 0;
  for await (const item of workersSource({ batchSize: 10, stdin, signal: controller.signal }).batches) {
    rows += item.rows;
    if (rows >= 120) controller.abort();
  }
  t.true(rows >= 120);
  t.true(stdin.destroyed);

  const stalled = new Readable({ read() {} });
  stalled.push('label,a,b,c,d\n1,1,1,1,1\n2,2');
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  const started = Date.now();
  // Like the main-thread path: the complete rows delivered so far make the last batch.
  t.is(await drain(workersSource({ batchSize: 10, stdin: stalled, signal: stop.signal }).batches), 1);
  t.true(Date.now() - started < 2000);
  t.true(stalled.destroyed);

  const untouched = endlessCsv();
  t.is(await drain(workersSource({ stdin: untouched, signal: AbortSignal.abort() }).batches), 0);
  t.is(untouched.produced, 0);
});

test('a consumer that breaks out early closes the input', async (t) => {
  const stdin = endlessCsv();
  for await (const item of workersSource({ stdin }).batches) {
    if (item.index === 3) break;
  }
  t.true(stdin.destroyed);
});

test('stdin: reading stays a bounded distance ahead of a slow consumer', async (t) => {
  const stdin = endlessCsv();
  let consumed = 0;
  let furthestAhead = 0;
  for await (const item of workersSource({ batchSize: 100, stdin }).batches) {
    consumed += item.rows;
    furthestAhead = Math.max(furthestAhead, stdin.produced - consumed);
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (consumed >= 60_000) break;
  }
  // ~16 bytes a row: the read-ahead (READ_AHEAD plus the stream's own buffer) is ~20,000 rows.
  t.true(furthestAhead < 40_000, `${furthestAhead} rows ahead`);
  t.true(stdin.destroyed);
});

// Serial: it counts the bytes fs.read() returns, in this process.
test.serial('a file: at most ~2 MiB read ahead of a slow consumer (reads in flight included)', async (t) => {
  const { path } = await prepareMnistCsv('train');
  const original = fs.read;
  let read = 0;
  (fs as { read: unknown }).read = function patched(...args: unknown[]) {
    const callback = args.pop() as (error: Error | null, bytes: number, buffer: Buffer) => void;
    return (original as (...a: unknown[]) => void).apply(fs, [
      ...args,
      (error: Error | null, bytes: number, buffer: Buffer) => {
        if (!error) read += bytes;
        callback(error, bytes, buffer);
      },
    ]);
  };
  syncBuiltinESMExports();
  let handed = 0;
  let furthest = 0;
  try {
    for await (const item of fastCsvLineBatches({ ...base, features: 784, input: path, batchSize: 100 })) {
      handed += item.bytes.length;
      furthest = Math.max(furthest, read - handed);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (handed > 24 * 2 ** 20) break;
    }
  } finally {
    (fs as { read: unknown }).read = original;
    syncBuiltinESMExports();
  }
  t.true(read > 0);
  t.log(`furthest ahead: ${(furthest / 2 ** 20).toFixed(2)} MiB`);
  t.true(furthest <= 2.5 * 2 ** 20, `${furthest} bytes read ahead`);
});

test('onBytes: increasing, at least ~64 KB apart, ending at the input size; onLayout once', async (t) => {
  const big = await temp(Array.from({ length: 40 }, () => '1,2,3,4,5\n'.repeat(1000)).join(''));
  const size = (await stat(big)).size;
  const reports: number[] = [];
  const layouts: unknown[] = [];
  await drain(
    openBatchSource({ ...base, input: big, parser: 'fast', onBytes: (b) => reports.push(b), onLayout: (l) => layouts.push(l) }, 'workers').batches,
  );
  t.is(layouts.length, 1);
  t.is(reports.at(-1), size);
  for (let i = 1; i < reports.length; i++) {
    t.true(reports[i] > reports[i - 1]);
    if (i < reports.length - 1) t.true(reports[i] - reports[i - 1] >= 64 * 1024);
  }
  const head = fixture('csv/mnist-test-head.csv');
  const small: number[] = [];
  await drain(openBatchSource({ ...base, features: 784, input: head, parser: 'fast', onBytes: (b) => small.push(b) }, 'workers').batches);
  t.deepEqual(small, [(await stat(head)).size]);
});

test('fixtures: every batch size, fail and skip, file and stdin in small chunks', async (t) => {
  for (const [name, features] of [
    ['csv/label-first.csv', 4],
    ['csv/bom-crlf-label-column.csv', 4],
    ['csv/unlabeled-header-blank-lines.csv', 4],
    ['csv/unlabeled.csv', 4],
    ['csv/mnist-test-head.csv', 784],
  ] as const) {
    const bytes = await readFile(fixture(name));
    for (const onError of ['fail', 'skip'] as const) {
      for (const batchSize of [1, 2, 3, 100]) {
        for (const feeding of [{ kind: 'file', path: fixture(name) }, { kind: 'stdin', bytes, cuts: everyN(bytes.length, 5) }, { kind: 'trickle', bytes, cuts: everyN(bytes.length, 97) }] as Feeding[]) {
          const options = { ...base, features, onError, batchSize };
          const main = await runPlaced('main', feeding, options);
          const workers = await runPlaced('workers', feeding, options);
          t.notThrows(() => assertAgree(workers, main, options, `${name} ${onError} ${batchSize} ${feeding.kind}`));
        }
      }
    }
  }
});
