// Gzip input through the real CLI: the same predictions and counts as the plain file, whichever parser
// reads it, from a file or stdin; a truncated one fails naming the file; --shard refuses it.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-gzip-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 24, 10], 5);
const plain = fixture('mnist-test-100.csv');
const compressed = gzipSync(readFileSync(plain));
// Named .csv: gzip is found by its contents.
const gzipped = join(dir, 'mnist-100.csv');
writeFileSync(gzipped, compressed);

let runs = 0;

async function score(input: string, extra: string[], stdin?: Buffer) {
  const predictions = join(dir, `predictions-${++runs}.csv`);
  const result = await runPipeline(
    [
      '--input',
      input,
      '--model',
      await modelReady,
      '--kernel',
      'js',
      '--threads',
      '2',
      '--json',
      '--predictions',
      predictions,
      ...extra,
    ],
    { stdin },
  );
  return { ...result, predictions: result.code === 0 ? readFileSync(predictions, 'utf8') : null };
}

/** The report's counts (what must not depend on how the input is stored). */
const counts = (stdout: string) => {
  const report = JSON.parse(stdout) as Record<string, unknown>;
  return {
    rows: report.rows,
    skipped: report.skipped,
    batches: report.batches,
    correct: report.correct,
    accuracy: report.accuracy,
    confusion: report.confusionMatrix,
  };
};

for (const parser of ['fast', 'csv-parse']) {
  for (const from of ['file', 'stdin']) {
    test(`--parser ${parser}, gzip from ${from}: the predictions and counts of the plain file`, async (t) => {
      const extra = ['--parser', parser];
      const [expected, got] = await Promise.all([
        score(plain, extra),
        from === 'file' ? score(gzipped, extra) : score('-', extra, compressed),
      ]);
      t.is(expected.code, 0, expected.stderr);
      t.is(got.code, 0, got.stderr);
      t.is(counts(got.stdout).rows, 100);
      t.deepEqual(counts(got.stdout), counts(expected.stdout));
      t.is(got.predictions, expected.predictions);
    });
  }
}

test('a truncated gzip file fails with exit 1 naming the file', async (t) => {
  const truncated = join(dir, 'truncated.csv.gz');
  writeFileSync(truncated, compressed.subarray(0, Math.floor(compressed.length / 2)));
  for (const parser of ['fast', 'csv-parse']) {
    const result = await runPipeline([
      '--input',
      truncated,
      '--model',
      await modelReady,
      '--parser',
      parser,
      '--quiet',
    ]);
    t.is(result.code, 1, result.stderr);
    t.true(result.stderr.includes(`${truncated}: is not a complete gzip file (unexpected end of file)`), result.stderr);
  }
});

test('--shard refuses a gzip file (exit 2: it cannot be read from a byte position)', async (t) => {
  const result = await runPipeline(['--input', gzipped, '--model', await modelReady, '--shard', '1/2', '--quiet']);
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /--shard cannot cut .*mnist-100\.csv: it is gzip-compressed/);
});

test('--threads auto does not take a gzip file size for its text size', async (t) => {
  const result = await runPipeline(['--input', gzipped, '--model', await modelReady, '--kernel', 'js', '--json']);
  t.is(result.code, 0, result.stderr);
  t.regex(
    (JSON.parse(result.stdout) as { config: { threadsReason: string } }).config.threadsReason,
    /input of unknown size/,
  );
});
