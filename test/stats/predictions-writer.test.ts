// PredictionsWriter: order and format, unlabeled rows, float32-exact confidence, atomic commit, discard,
// large output with bounded buffering.
import test from 'ava';
import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREDICTIONS_HEADER, PredictionsWriter, formatFloat32 } from '../../src/stats/predictions-writer.js';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-predictions-'));
  dirs.push(dir);
  return dir;
}

test.after.always(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('header and lines in input order, row = input line number', async (t) => {
  const path = join(await tempDir(), 'predictions.csv');
  const w = await PredictionsWriter.open(path);
  await w.writeBatch(
    Uint32Array.from([2, 3, 5]),
    Int16Array.from([7, 2, 1]),
    Int32Array.from([7, 2, 8]),
    Float32Array.from([0.5, 1, 0.25]),
    3,
  );
  await w.writeBatch(Uint32Array.from([6, 99]), Int16Array.from([0, 0]), Int32Array.from([0, 0]), Float32Array.from([0.75, 0]), 1);
  t.is(w.rowsWritten, 4);
  await w.commit();
  t.is(
    await readFile(path, 'utf8'),
    `${PREDICTIONS_HEADER}\n2,7,7,0.5\n3,2,2,1\n5,1,8,0.25\n6,0,0,0.75\n`,
  );
  t.is(PREDICTIONS_HEADER, 'row,label,predicted,confidence');
});

test('the label column is empty for unlabeled rows (-1)', async (t) => {
  const path = join(await tempDir(), 'p.csv');
  const w = await PredictionsWriter.open(path);
  await w.writeBatch(Uint32Array.from([1, 2]), Int16Array.from([-1, 4]), Int32Array.from([3, 4]), Float32Array.from([0.5, 0.5]), 2);
  await w.commit();
  t.deepEqual((await readFile(path, 'utf8')).split('\n').slice(1, 3), ['1,,3,0.5', '2,4,4,0.5']);
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
    for (let d = 1; d < 9; d++) if (Math.fround(Number(f.toPrecision(d))) === f) return String(Number(f.toPrecision(d)));
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
  await w.writeBatch(
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
    .map((line) => Number(line.split(',')[3]));
  t.deepEqual(Float32Array.from(parsed), confidence);
});

test('commit is atomic: before commit the target does not exist, then it appears complete', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  await w.writeBatch(Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  t.false(existsSync(path));
  t.true(existsSync(w.tempPath!));
  t.true(w.tempPath!.startsWith(`${path}.`), 'the temp file is next to the target');
  await w.commit();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,1,1,1\n`);
  t.deepEqual(await readdir(dir), ['p.csv'], 'no temp file left');
});

test('commit is atomic: an existing target keeps its old content until commit', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  await writeFile(path, 'old predictions\n');
  const w = await PredictionsWriter.open(path);
  await w.writeBatch(Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([2]), Float32Array.from([0.5]), 1);
  t.is(await readFile(path, 'utf8'), 'old predictions\n');
  await w.commit();
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,1,2,0.5\n`);
});

test('discard removes the temp file and leaves the target alone', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  await writeFile(path, 'old\n');
  const w = await PredictionsWriter.open(path);
  await w.writeBatch(Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  await w.discard();
  await w.discard(); // idempotent
  t.deepEqual(await readdir(dir), ['p.csv']);
  t.is(await readFile(path, 'utf8'), 'old\n');
  await t.throwsAsync(
    w.writeBatch(Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1),
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
  await w.writeBatch(...one, 1);
  const committed = w.commit();
  await t.throwsAsync(w.writeBatch(...one, 1), { message: /already committed/ });
  await committed;
  t.is(await readFile(path, 'utf8'), `${PREDICTIONS_HEADER}\n1,1,1,1\n`);
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
  await t.throwsAsync(PredictionsWriter.open(join(dir, 'p.csv')), { message: /cannot write predictions to .*p\.csv: is a directory/ });
  t.deepEqual(await readdir(dir), ['p.csv']);
});

test('a failing commit (the target became a folder meanwhile) throws PIPE_ERR_OUTPUT and removes the temp file', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'p.csv');
  const w = await PredictionsWriter.open(path);
  await mkdir(join(path, 'inside'), { recursive: true });
  await w.writeBatch(Uint32Array.from([1]), Int16Array.from([1]), Int32Array.from([1]), Float32Array.from([1]), 1);
  const error = await t.throwsAsync(w.commit());
  t.is((error as { code?: string } | undefined)?.code, 'PIPE_ERR_OUTPUT');
  await w.discard(); // what the pipeline does after a failed commit: harmless
  t.deepEqual(await readdir(dir), ['p.csv']);
  t.deepEqual(await readdir(path), ['inside']);
});

test('rows larger than the arrays are refused', async (t) => {
  const w = await PredictionsWriter.open(join(await tempDir(), 'p.csv'));
  await t.throwsAsync(w.writeBatch(new Uint32Array(2), new Int16Array(2), new Int32Array(2), new Float32Array(1), 2), {
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
    await w.writeBatch(lines, labels, predicted, confidence, rows);
    maxBuffered = Math.max(maxBuffered, w.bufferedBytes);
  }
  // After each awaited writeBatch the stream buffer is below its high-water mark.
  t.true(maxBuffered <= w.highWaterMark, `buffered up to ${maxBuffered} bytes`);
  await w.commit();
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  t.is(lines.length, total + 1);
  t.is(lines[1], '2,0,0,0');
  t.is(lines[12_346], `12347,5,5,${formatFloat32(Math.fround(0.345))}`);
  t.is(lines[total], `${total + 1},9,9,${formatFloat32(Math.fround(0.999))}`);
  for (let i = 1; i <= total; i++) {
    if (Number(lines[i].slice(0, lines[i].indexOf(','))) !== i + 1) {
      t.fail(`line ${i} out of order: ${lines[i]}`);
      break;
    }
  }
  t.deepEqual(await readdir(dir), ['p.csv']);
});
