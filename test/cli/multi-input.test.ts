// Several --input files scored as one run, through the real CLI: the MNIST test set cut into three files
// with headers scores as the whole file does (accuracy, predictions, exact batches), every row and bad row
// named by its file and line, and the refusals (the same file twice, stdin among files, a missing file,
// --shard, submit).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { runPipeline } from '../helpers/cli.js';
import { mnistTestCsv } from '../helpers/mnist-data.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-multi-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const mnist = mnistTestCsv;
const all = readFileSync(mnist, 'utf8').split('\n').filter(Boolean);
const header = `label,${Array.from({ length: 784 }, (_, i) => `pixel${i}`).join(',')}`;
const cuts = [0, 3000, 6500, all.length];
const parts = [0, 1, 2].map((k) => {
  const path = join(dir, `part${k + 1}.csv`);
  writeFileSync(path, `${header}\n${all.slice(cuts[k], cuts[k + 1]).join('\n')}\n`);
  return path;
});

interface Report {
  rows: number;
  batches: number;
  accuracy: number;
  skipped: number;
  errors: { file?: string; line: number; message: string }[];
  input: { path: string; files?: { path: string; rows: number; skipped: number }[] };
}

async function score(inputs: string[], extra: string[] = []) {
  const predictions = join(dir, `p-${Math.random().toString(36).slice(2)}.csv`);
  const run = await runPipeline([...inputs, '--predictions', predictions, '--json', '--quiet', ...extra]);
  return {
    run,
    report: run.code === 0 || run.code === 1 ? (JSON.parse(run.stdout) as Report) : null,
    predictions: run.code === 0 ? readFileSync(predictions, 'utf8').trimEnd().split('\n') : [],
  };
}

const whole = score(['--input', mnist, '--batch-size', '128']);
/** A predictions row without its file and line: row, label, predicted, confidence. */
const scoredPart = (line: string, skip: number) => line.split(',').slice(skip).join(',');

for (const extra of [[], ['--parser', 'csv-parse'], ['--threads', '2'], ['--threads', '2', '--on-error', 'skip']]) {
  test(`three MNIST parts as --input a b c score as the whole file (${extra.join(' ') || 'defaults'})`, async (t) => {
    const [one, three] = await Promise.all([whole, score(['--input', ...parts, '--batch-size', '128', ...extra])]);
    t.is(three.run.code, 0, three.run.stderr);
    t.is(three.report!.accuracy, one.report!.accuracy);
    t.is(three.report!.rows, 10_000);
    // 10,000 rows in batches of 128: 78 full ones and one of 16, wherever the files end.
    t.is(three.report!.batches, one.report!.batches);
    t.is(three.predictions[0], 'file,line,row,label,predicted,confidence');
    t.deepEqual(
      three.predictions.slice(1).map((line) => scoredPart(line, 2)),
      one.predictions.slice(1).map((line) => scoredPart(line, 1)),
    );
    // Row 3000 is the first of part 2, on its line 2 (after its header).
    t.is(three.predictions[3001].split(',').slice(0, 3).join(','), `${parts[1]},2,3000`);
    t.deepEqual(
      three.report!.input.files!.map((file) => [file.path, file.rows]),
      parts.map((path, k) => [path, cuts[k + 1] - cuts[k]]),
    );
  });
}

test('--input repeated is the same run as --input with several files', async (t) => {
  const [a, b] = await Promise.all([
    score(['--input', parts[0], '--input', parts[1], '--input', parts[2]]),
    score(['--input', ...parts]),
  ]);
  t.is(a.run.code, 0, a.run.stderr);
  t.deepEqual(a.predictions, b.predictions);
});

test('a gzip file and plain files together score as the plain files do', async (t) => {
  const gzip = join(dir, 'part2.csv.gz');
  writeFileSync(gzip, gzipSync(readFileSync(parts[1])));
  const [plain, mixed] = await Promise.all([
    score(['--input', ...parts]),
    score(['--input', parts[0], gzip, parts[2]]),
  ]);
  t.is(mixed.run.code, 0, mixed.run.stderr);
  t.deepEqual(
    mixed.predictions.map((line) => line.replace(gzip, parts[1])),
    plain.predictions,
  );
});

test('JSON Lines predictions carry a file field', async (t) => {
  const predictions = join(dir, 'p.jsonl');
  const run = await runPipeline(['--input', ...parts, '--predictions', predictions, '--limit', '3001', '--quiet']);
  t.is(run.code, 0, run.stderr);
  const last = JSON.parse(readFileSync(predictions, 'utf8').trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
  t.like(last, { file: parts[1], line: 2, row: 3000 });
});

function withBadRow(name: string, line: number): string {
  const lines = readFileSync(parts[1], 'utf8').split('\n');
  lines[line - 1] = lines[line - 1].replace(/,0,/, ',256,');
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

test('a bad row in the second file is named by that file and its line (fail: exit 1; skip: in the report)', async (t) => {
  const bad = withBadRow('bad2.csv', 7);
  const fail = await runPipeline(['--input', parts[0], bad, parts[2], '--quiet']);
  t.is(fail.code, 1, fail.stderr);
  t.regex(fail.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:7: `));
  const skip = await score(['--input', parts[0], bad, parts[2], '--on-error', 'skip']);
  t.is(skip.run.code, 0, skip.run.stderr);
  t.like(skip.report!.errors[0], { file: bad, line: 7 });
  t.deepEqual(
    skip.report!.input.files!.map((file) => file.skipped),
    [0, 1, 0],
  );
});

test('a file whose header differs from the first one is a data error (exit 1) at its line 1, before any row', async (t) => {
  const other = join(dir, 'other-header.csv');
  writeFileSync(other, readFileSync(parts[1], 'utf8').replace('pixel5,', 'pixel_5,'));
  const run = await runPipeline(['--input', parts[0], other, '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /other-header\.csv:1: header differs from .*part1\.csv's: column 6 is 'pixel_5', there 'pixel5'/);
});

test('the same file twice, also through a link, is refused (exit 2) naming both', async (t) => {
  const twice = await runPipeline(['--input', parts[0], parts[0], '--quiet']);
  t.is(twice.code, 2, twice.stderr);
  t.regex(twice.stderr, /part1\.csv is given twice/);
  const link = join(dir, 'link.csv');
  symlinkSync(parts[0], link);
  const linked = await runPipeline(['--input', parts[0], parts[1], link, '--quiet']);
  t.is(linked.code, 2, linked.stderr);
  t.regex(linked.stderr, /--input .*link\.csv and .*part1\.csv are the same file/);
});

test('stdin among files is refused (exit 2)', async (t) => {
  const run = await runPipeline(['--input', parts[0], '-', '--quiet']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /--input - \(stdin\) must be the only input/);
});

test('a missing file among several fails as a missing single input does (exit 1), naming it', async (t) => {
  const run = await runPipeline(['--input', parts[0], join(dir, 'nope.csv'), '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.regex(run.stderr, /nope\.csv: no such file/);
});

test('--shard with several inputs is refused (exit 2)', async (t) => {
  const run = await runPipeline(['--input', ...parts, '--shard', '1/2', '--quiet']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /--shard cuts one file: it cannot be used with 3 --input files/);
});

test('submit with several inputs is refused (exit 2): it cuts one file into shards', async (t) => {
  const run = await runPipeline(['submit', '--redis', 'redis://127.0.0.1:1', '--input', ...parts, '--shards', '2']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /submit cuts one --input file into shards: 3 files were given/);
});
