// PredictionsWriter: order and format (CSV and JSON Lines, line and row, probabilities), unlabeled rows,
// float32-exact confidence, atomic commit, discard, large output with bounded buffering.
import test from 'ava';
import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PredictionsWriter } from '../../src/stats/predictions-writer.js';
import { formatFloat32 } from '../../src/stats/float-format.js';

const PREDICTIONS_HEADER = 'line,row,label,predicted,confidence';

/** One batch's arrays, written through the writer (no probabilities). */
const write = (
  w: PredictionsWriter,
  lines: Uint32Array,
  labels: Int16Array,
  predicted: Int32Array,
  confidence: Float32Array,
  rows: number,
) => w.writeBatch({ lines, labels, predicted, confidence, probabilities: null }, rows);

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-predictions-'));
  dirs.push(dir);
  return dir;
}

test.after.always(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('header and lines in input order: line = input line, row = 0-based index over every batch', async (t) => {
  const path = join(await tempDir(), 'predictions.csv');
  const w = await PredictionsWriter.open(path);
  await write(
    w,
    Uint32Array.from([2, 3, 5]),
    Int16Array.from([7, 2, 1]),
    Int32Array.from([7, 2, 8]),
    Float32Array.from([0.5, 1, 0.25]),
    3,
  );
  await write(
    w,
    Uint32Array.from([6, 99]),
    Int16Array.from([0, 0]),
    Int32Array.from([0, 0]),
    Float32Array.from([0.75, 0]),
    1,
  );
  t.is(w.rowsWritten, 4);
  await w.commit();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n2,0,7,7,0.5\n3,1,2,2,1\n5,2,1,8,0.25\n6,3,0,0,0.75\n`);
});

test('the label column is empty for unlabeled rows (-1)', async (t) => {
  const path = join(await tempDir(), 'p.csv');
  const w = await PredictionsWriter.open(path);
  await write(
    w,
    Uint32Array.from([1, 2]),
    Int16Array.from([-1, 4]),
    Int32Array.from([3, 4]),
    Float32Array.from([0.5, 0.5]),
    2,
  );
  await w.commit();
  t.deepEqual((await readFile(path, 'utf8')).split('\n').slice(1, 3), ['1,0,,3,0.5', '2,1,4,4,0.5']);
});

test('confidence is the shortest decimal that reads back as the same float32', (t) => {
  t.is(formatFloat32(Math.fround(0.1)), '0.1');
  t.is(formatFloat32(1), '1');
  t.is(formatFloat32(0), '0');
  t.is(formatFloat32(Math.fround(0.99999994)), '0.99999994');
  t.is(formatFloat32(Math.fround(1e-7)), '1e-7');
  t.is(formatFloat32(Number.NaN), 'NaN');
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const text = formatFloat32(x);
      const back = Math.fround(Number(text));
      // Same float32 (0 and -0 compare equal, which is what a CSV reader sees too), at most 9 significant digits.
      const significant = text.replace(/^-|e.*$|\./g, '').replace(/^0+|0+$/g, '');
      return back === Math.fround(x) && significant.length <= 9;
    }),
    { numRuns: 20_000 },
  );
  t.pass();
});

test('the binary search finds the same digits as a linear search (oracle), powers of two included', (t) => {
  const linear = (x: number): string => {
    const f = Math.fround(x);
    for (let d = 1; d < 9; d++)
      if (Math.fround(Number(f.toPrecision(d))) === f) return String(Number(f.toPrecision(d)));
    return String(Number(f.toPrecision(9)));
  };
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7f7fffff }), (pattern) => {
      bits[0] = pattern; // every finite non-negative float32, subnormals included
      return formatFloat32(asFloat[0]) === linear(asFloat[0]);
    }),
    { numRuns: 50_000 },
  );
  for (let e = -149; e <= 127; e++) t.is(formatFloat32(2 ** e), linear(2 ** e), `2^${e}`);
  for (let i = 0; i <= 1000; i++) t.is(formatFloat32(i / 1000), linear(i / 1000));
});

test('confidence in the file round-trips to the same float32', async (t) => {
  const path = join(await tempDir(), 'p.csv');
  const confidence = Float32Array.from({ length: 1000 }, (_, i) => Math.exp(-i / 37) / (1 + (i % 13)));
  const w = await PredictionsWriter.open(path);
  await write(
    w,
    Uint32Array.from({ length: 1000 }, (_, i) => i + 2),
    new Int16Array(1000),
    new Int32Array(1000),
    confidence,
    1000,
  );
  await w.commit();
  const parsed = (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[4]));
  t.deepEqual(Float32Array.from(parsed), confidence);
});

test('commit is atomic: before commit the target does not exist, then it appears complete', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  await write(w, Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  t.false(existsSync(path));
  t.true(existsSync(w.tempPath!));
  t.true(w.tempPath!.startsWith(`${path}.`), 'the temp file is next to the target');
  await w.commit();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,0,1,1,1\n`);
  t.deepEqual(await readdir(dir), ['p.csv'], 'no temp file left');
});

test('commit is atomic: an existing target keeps its old content until commit', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  await writeFile(path, 'old predictions\n');
  const w = await PredictionsWriter.open(path);
  await write(w, Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([2]), Float32Array.from([0.5]), 1);
  t.is(await readFile(path, 'utf8'), 'old predictions\n');
  await w.commit();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,0,1,2,0.5\n`);
});

test('discard removes the temp file and leaves the target alone', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  await writeFile(path, 'old\n');
  const w = await PredictionsWriter.open(path);
  await write(w, Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  await w.discard();
  await w.discard(); // idempotent
  t.deepEqual(await readdir(dir), ['p.csv']);
  t.is(await readFile(path, 'utf8'), 'old\n');
  await t.throwsAsync(
    write(w, Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1),
  );
});

test('discard after commit is a no-op; a second commit is the first one; commit after discard throws', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  const first = w.commit();
  t.is(w.commit(), first);
  await first;
  await w.discard();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n`);
  const discarded = await PredictionsWriter.open(join(dir, 'q.csv'));
  await discarded.discard();
  await t.throwsAsync(discarded.commit(), { message: /already discarded/ });
});

test('commit fixes the rows at once: a batch written after it is refused, the file has what came before', async (t) => {
  const path = join(await tempDir(), 'p.csv');
  const w = await PredictionsWriter.open(path);
  const one = [Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1])] as const;
  await write(w, ...one, 1);
  const committed = w.commit();
  await t.throwsAsync(write(w, ...one, 1), { message: /already committed/ });
  await committed;
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,0,1,1,1\n`);
  t.is(w.rowsWritten, 1);
});

test('creates the parent folder; an unusable target fails with PIPE_ERR_OUTPUT', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'out', 'nested', 'p.csv');
  const w = await PredictionsWriter.open(path);
  await w.commit();
  t.true(existsSync(path));
  await writeFile(join(dir, 'file'), 'x');
  await t.throwsAsync(PredictionsWriter.open(join(dir, 'file', 'p.csv')), { message: /cannot write predictions/ });
});

test('a folder as the target is refused at open', async (t) => {
  const dir = await tempDir();
  await mkdir(join(dir, 'p.csv'));
  await t.throwsAsync(PredictionsWriter.open(join(dir, 'p.csv')), {
    message: /cannot write predictions to .*p\.csv: is a directory/,
  });
  t.deepEqual(await readdir(dir), ['p.csv']);
});

test('a failing commit (the target became a folder meanwhile) throws PIPE_ERR_OUTPUT and removes the temp file', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  await mkdir(join(path, 'inside'), { recursive: true });
  await write(w, Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  const error = await t.throwsAsync(w.commit());
  t.is((error as { code?: string } | undefined)?.code, 'PIPE_ERR_OUTPUT');
  await w.discard(); // what the pipeline does after a failed commit: harmless
  t.deepEqual(await readdir(dir), ['p.csv']);
  t.deepEqual(await readdir(path), ['inside']);
});

test('rows larger than the arrays are refused', async (t) => {
  const w = await PredictionsWriter.open(join(await tempDir(), 'p.csv'));
  await t.throwsAsync(write(w, new Uint32Array(2), new Int16Array(2), new Int32Array(2), new Float32Array(1), 2), {
    instanceOf: RangeError,
  });
  await w.discard();
});

test('large output: 100k rows in order with bounded buffering', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  const batchSize = 256;
  const total = 100_000;
  let maxBuffered = 0;
  for (let start = 0; start < total; start += batchSize) {
    const rows = Math.min(batchSize, total - start);
    const lines = Uint32Array.from({ length: rows }, (_, i) => start + i + 2);
    const labels = Int16Array.from({ length: rows }, (_, i) => (start + i) % 10);
    const predicted = Int32Array.from(labels);
    const confidence = Float32Array.from({ length: rows }, (_, i) => ((start + i) % 1000) / 1000);
    await write(w, lines, labels, predicted, confidence, rows);
    maxBuffered = Math.max(maxBuffered, w.bufferedBytes);
  }
  // After each awaited writeBatch the stream buffer is below its high-water mark.
  t.true(maxBuffered <= w.highWaterMark, `buffered up to ${maxBuffered} bytes`);
  await w.commit();
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  t.is(lines.length, total + 1);
  t.is(lines[1], '2,0,0,0,0');
  t.is(lines[12_346], `12347,12345,5,5,${formatFloat32(Math.fround(0.345))}`);
  t.is(lines[total], `${total + 1},${total - 1},9,9,${formatFloat32(Math.fround(0.999))}`);
  for (let i = 1; i <= total; i++) {
    if (Number(lines[i].slice(0, lines[i].indexOf(','))) !== i + 1) {
      t.fail(`line ${i} out of order: ${lines[i]}`);
      break;
    }
  }
  t.deepEqual(await readdir(dir), ['p.csv']);
});

test('JSON Lines: no header, one object per row, null for a missing label', async (t) => {
  const path = join(await tempDir(), 'p.jsonl');
  const w = await PredictionsWriter.open(path, { format: 'jsonl', probabilities: 0 });
  await write(
    w,
    Uint32Array.from([2, 4]),
    Int16Array.from([7, -1]),
    Int32Array.from([7, 3]),
    Float32Array.from([0.5, 1]),
    2,
  );
  await write(
    w,
    Uint32Array.from([9]),
    Int16Array.from([1]),
    Int32Array.from([2]),
    Float32Array.from([Math.fround(0.1)]),
    1,
  );
  await w.commit();
  const text = await readFile(path, 'utf8');
  t.is(
    text,
    '{"line":2,"row":0,"label":7,"predicted":7,"confidence":0.5}\n{"line":4,"row":1,"label":null,"predicted":3,"confidence":1}\n{"line":9,"row":2,"label":1,"predicted":2,"confidence":0.1}\n',
  );
  t.deepEqual(JSON.parse(text.split('\n')[1]), { line: 4, row: 1, label: null, predicted: 3, confidence: 1 });
});

test('probabilities: p0..pK-1 columns in CSV, a `probabilities` array in JSON Lines, float32-exact', async (t) => {
  const dir = await tempDir();
  const probabilities = Float32Array.from([0.25, 0.75, 0, Math.fround(1 / 3), Math.fround(2 / 3), 1e-7]);
  const batch = {
    lines: Uint32Array.from([2, 3]),
    labels: Int16Array.from([1, -1]),
    predicted: Int32Array.from([1, 1]),
    confidence: Float32Array.from([0.75, Math.fround(2 / 3)]),
    probabilities,
  };
  const csv = await PredictionsWriter.open(join(dir, 'p.csv'), { format: 'csv', probabilities: 3 });
  await csv.writeBatch(batch, 2);
  await csv.commit();
  t.deepEqual((await readFile(join(dir, 'p.csv'), 'utf8')).split('\n'), [
    'line,row,label,predicted,confidence,p0,p1,p2',
    '2,0,1,1,0.75,0.25,0.75,0',
    '3,1,,1,0.6666667,0.33333334,0.6666667,1e-7',
    '',
  ]);
  const jsonl = await PredictionsWriter.open(join(dir, 'p.jsonl'), { format: 'jsonl', probabilities: 3 });
  await jsonl.writeBatch(batch, 2);
  await jsonl.commit();
  const rows = (await readFile(join(dir, 'p.jsonl'), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { probabilities: number[] });
  t.deepEqual(Float32Array.from(rows.flatMap((row) => row.probabilities)), probabilities);
});

test('probabilities asked for but missing from the batch are refused', async (t) => {
  const w = await PredictionsWriter.open(join(await tempDir(), 'p.csv'), { format: 'csv', probabilities: 10 });
  const one = {
    lines: Uint32Array.from([1]),
    labels: Int16Array.from([1]),
    predicted: Int32Array.from([1]),
    confidence: Float32Array.from([1]),
  };
  await t.throwsAsync(w.writeBatch({ ...one, probabilities: null }, 1), { instanceOf: RangeError });
  await t.throwsAsync(w.writeBatch({ ...one, probabilities: new Float32Array(9) }, 1), { instanceOf: RangeError });
  await w.discard();
});

test('JSON Lines writes NaN and Infinity as null (JSON has neither)', async (t) => {
  const path = join(await tempDir(), 'p.jsonl');
  const w = await PredictionsWriter.open(path, { format: 'jsonl', probabilities: 2 });
  await w.writeBatch(
    {
      lines: Uint32Array.from([1]),
      labels: Int16Array.from([0]),
      predicted: Int32Array.from([0]),
      confidence: Float32Array.from([Number.NaN]),
      probabilities: Float32Array.from([Number.NaN, Infinity]),
    },
    1,
  );
  await w.commit();
  t.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    line: 1,
    row: 0,
    label: 0,
    predicted: 0,
    confidence: null,
    probabilities: [null, null],
  });
});
