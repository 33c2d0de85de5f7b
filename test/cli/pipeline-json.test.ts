// --json: one JSON document on stdout and nothing else; logs (and never a progress bar) on stderr.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-json-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');

test('--json prints exactly one JSON report with the contract fields', async (t) => {
  const run = await runPipeline([
    '--input',
    input,
    '--model',
    await modelReady,
    '--json',
    '--batch-size',
    '7',
    '--threads',
    '2',
  ]);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  t.is(lines.length, 1);
  const report = JSON.parse(lines[0]);
  for (const key of [
    'status',
    'rows',
    'labeled',
    'correct',
    'accuracy',
    'skipped',
    'errors',
    'imagesPerSecond',
    'batchLatencyMs',
    'confusionMatrix',
    'perClass',
    'config',
    'startedAt',
    'durationMs',
  ]) {
    t.true(key in report, `report has ${key}`);
  }
  t.is(report.status, 'complete');
  t.is(report.rows, 100);
  t.is(report.labeled, 100);
  t.is(report.batches, 15);
  t.is(report.config.batchSize, 7);
  t.is(report.config.threads, 2);
  t.is(report.config.maxInFlight, 4);
  t.deepEqual(report.model.layerSizes, [784, 16, 10]);
  t.regex(report.model.sha256, /^[0-9a-f]{64}$/);
  for (const p of ['p50', 'p90', 'p99', 'max']) t.true(report.batchLatencyMs[p] > 0);
  t.notRegex(run.stderr, /\u001b\[/, 'no progress bar or colours when stderr is not a terminal');
  // Logs on stderr are JSON lines when stderr is not a terminal.
  for (const line of run.stderr.trim().split('\n').filter(Boolean)) t.notThrows(() => JSON.parse(line), line);
});

test('stdin input (--input -) works and the report file matches the stdout report', async (t) => {
  mkdirSync(join(dir, 'out')); // outputs go into existing folders
  const report = join(dir, 'out', 'report.json');
  const run = await runPipeline(['--input', '-', '--model', await modelReady, '--json', '--report', report], {
    stdin: readFileSync(input),
  });
  t.is(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  const written = JSON.parse(readFileSync(report, 'utf8'));
  t.deepEqual(written, printed);
  t.is(written.input.path, '-');
  t.is(written.input.bytes, null);
});

test('unlabeled input reports accuracy as not available', async (t) => {
  const unlabeled = readFileSync(input, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf(',') + 1))
    .join('\n');
  const run = await runPipeline(['--input', '-', '--model', await modelReady, '--json'], { stdin: unlabeled });
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.is(report.rows, 100);
  t.is(report.labeled, 0);
  t.is(report.accuracy, null);
  t.is(report.confusionMatrix, null);
});

test('the human summary goes to stdout with the key figures', async (t) => {
  const run = await runPipeline(['--input', input, '--model', await modelReady]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /accuracy/i);
  t.regex(run.stdout, /p99/);
  t.regex(run.stdout, /100/);
});
