// The CLI's contract with scripts and job runners: exit codes and the messages that go with them.
import test from 'ava';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-cli-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');

test('--help prints the options and exits 0', async (t) => {
  const run = await runPipeline(['--help']);
  t.is(run.code, 0);
  for (const flag of [
    '--input',
    '--model',
    '--batch-size',
    '--threads',
    '--max-in-flight',
    '--normalize',
    '--activation',
    '--output',
    '--limit',
    '--on-error',
    '--report',
    '--predictions',
    '--min-accuracy',
    '--json',
    '--quiet',
  ]) {
    t.true(run.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test('an unknown option is a usage error (exit 2)', async (t) => {
  const run = await runPipeline(['--bogus']);
  t.is(run.code, 2);
  t.regex(run.stderr, /unknown option '--bogus'/);
});

for (const [args, message] of [
  [['--batch-size', '0'], /--batch-size must be a positive integer \(got '0'\)/],
  [['--batch-size', '1.5'], /--batch-size must be a positive integer/],
  [['--threads', '100000'], /--threads must be at most/],
  [['--normalize', 'zscore'], /--normalize|Allowed choices are unit, none/],
  [['--min-accuracy', '1.2'], /--min-accuracy must be a number between 0 and 1/],
  [['--on-error', 'ignore'], /Allowed choices are fail, skip/],
] as const) {
  test(`bad value ${args.join(' ')} is a usage error (exit 2)`, async (t) => {
    const run = await runPipeline([...args, '--input', input]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  });
}

test('a missing model file fails with exit 1 and names the file and --model', async (t) => {
  const run = await runPipeline(['--input', input, '--model', join(dir, 'nope.safetensors')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /nope\.safetensors: the model file does not exist \(give one with --model <file>\)/);
});

test('a missing input file fails with exit 1 and names it', async (t) => {
  const run = await runPipeline(['--input', join(dir, 'missing.csv'), '--model', await modelReady]);
  t.is(run.code, 1);
  t.regex(run.stderr, /missing\.csv: no such file/);
});

test('a folder as the input fails at once with exit 1, one line that names it, no run summary', async (t) => {
  for (const inputs of [[dir], [input, dir]]) {
    const run = await runPipeline(['--input', ...inputs, '--model', await modelReady]);
    t.is(run.code, 1);
    t.is(run.stdout, '', 'no summary');
    t.true(run.stderr.includes(`nnpipe: ${dir}: is a directory, not a CSV file`), run.stderr);
  }
});

test('a bad row under --on-error fail stops with exit 1 and FILE:LINE: problem', async (t) => {
  const lines = readFileSync(input, 'utf8').split('\n');
  lines[4] = lines[4].replace(/,0,/, ',256,');
  const bad = join(dir, 'bad-row.csv');
  writeFileSync(bad, lines.join('\n'));
  const run = await runPipeline(['--input', bad, '--model', await modelReady, '--json']);
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:5: .*'256'`));
  const report = JSON.parse(run.stdout);
  t.is(report.status, 'failed');
  t.true(report.rows <= 4);
});

test('under --on-error skip the bad row is listed and the rest is scored (exit 0)', async (t) => {
  const lines = readFileSync(input, 'utf8').split('\n');
  lines[9] = lines[9].replace(/,0,/, ',x,');
  const bad = join(dir, 'skip-row.csv');
  writeFileSync(bad, lines.join('\n'));
  const run = await runPipeline(['--input', bad, '--model', await modelReady, '--json', '--on-error', 'skip']);
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.is(report.status, 'complete');
  t.is(report.rows, 99);
  t.is(report.skipped, 1);
  t.is(report.errors[0].line, 10);
});

test('accuracy below --min-accuracy exits 3', async (t) => {
  const run = await runPipeline(['--input', input, '--model', await modelReady, '--quiet', '--min-accuracy', '0.99']);
  t.is(run.code, 3);
  t.regex(run.stderr, /below --min-accuracy 0\.99/);
});

test('--report and --predictions may not overwrite the input or the model', async (t) => {
  const model = await modelReady;
  for (const args of [
    ['--report', input],
    ['--predictions', input],
    ['--report', model],
    ['--predictions', model],
  ]) {
    const run = await runPipeline(['--input', input, '--model', model, ...args]);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, /is the same file as --(input|model) .*; refusing to overwrite the (input|model)/);
  }
});
