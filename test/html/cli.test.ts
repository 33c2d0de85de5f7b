// `--html` end to end through the CLI: written next to --json/--report/--predictions, for complete,
// failed and interrupted runs; never over the input or the model.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, pipelineEntry } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';
import { runPage } from './page-data.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-html-cli-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');

test('--html is listed in --help', async (t) => {
  const run = await runPipeline(['--help']);
  t.is(run.code, 0);
  t.regex(run.stdout, /--html <file>/);
});

test('--html with --json, --report and --predictions: all four written, stdout is still one JSON document', async (t) => {
  const out = join(dir, 'all');
  mkdirSync(out); // an output's folder must exist
  const paths = {
    html: join(out, 'run.html'),
    report: join(out, 'report.json'),
    predictions: join(out, 'predictions.csv'),
  };
  const run = await runPipeline([
    '--input',
    input,
    '--model',
    await modelReady,
    '--batch-size',
    '9',
    '--json',
    '--html',
    paths.html,
    '--report',
    paths.report,
    '--predictions',
    paths.predictions,
  ]);
  t.is(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  t.deepEqual(JSON.parse(readFileSync(paths.report, 'utf8')), printed);
  t.is(printed.config.html, paths.html);
  t.is(readFileSync(paths.predictions, 'utf8').trim().split('\n').length, 101, 'header + 100 rows');
  const html = readFileSync(paths.html, 'utf8');
  t.regex(html, /^<!DOCTYPE html>/);
  // The accuracy is added to the title in the page (its digits stay out of the markup).
  t.regex(html, /<title>nnpipe run: complete<\/title>/);
  const data = runPage(html);
  t.is(data.status, 'complete');
  t.is(data.run.kind, 'mistakes');
  t.is(data.images.length, 100, 'min(T, rows): every row');
  t.is(
    data.images.filter((i) => i.label !== i.predicted).length,
    printed.labeled - printed.correct,
    'all mistakes, then close calls',
  );
  t.deepEqual(data.figures.rows, [printed.rows]);
  t.deepEqual(data.figures.correct, [printed.correct]);
  t.deepEqual(data.figures.confusion, printed.confusionMatrix.flat());
  t.true(html.includes(printed.model.sha256));
});

for (const [what, target] of [
  ['the input', () => input],
  ['the model', () => join(dir, 'tiny.safetensors')],
] as const) {
  test(`--html refuses to overwrite ${what} (exit 2)`, async (t) => {
    await modelReady;
    const before = readFileSync(target());
    const run = await runPipeline(['--input', input, '--model', await modelReady, '--html', target()]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, new RegExp(`--html .* is the same file as --(input|model) .*; refusing to overwrite ${what}`));
    t.deepEqual(readFileSync(target()), before);
  });
}

test('--html and --report naming the same file is a usage error', async (t) => {
  const same = join(dir, 'same.out');
  const run = await runPipeline(['--input', input, '--model', await modelReady, '--html', same, '--report', same]);
  t.is(run.code, 2);
  t.regex(run.stderr, /--report .*same\.out and --html .*same\.out are the same file/);
  t.false(existsSync(same));
});

test('a failed run still writes its page, with the error and its line', async (t) => {
  const rows = readFileSync(input, 'utf8').split('\n');
  rows[49] = rows[49].replace(/,0,/, ',999,');
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, rows.join('\n'));
  mkdirSync(join(dir, 'failed'));
  const html = join(dir, 'failed', 'run.html');
  const run = await runPipeline([
    '--input',
    bad,
    '--model',
    await modelReady,
    '--batch-size',
    '10',
    '--html',
    html,
    '--quiet',
  ]);
  t.is(run.code, 1, run.stderr);
  const page = readFileSync(html, 'utf8');
  t.is(runPage(page).status, 'failed');
  t.regex(page, /Run <strong>failed<\/strong>/);
  t.regex(page, /bad\.csv:50:/);
});

test('an interrupted run (SIGTERM) writes its page with what was scored', async (t) => {
  mkdirSync(join(dir, 'interrupted'));
  const html = join(dir, 'interrupted', 'run.html');
  const child = spawn(
    process.execPath,
    [pipelineEntry(), '--input', '-', '--model', await modelReady, '--batch-size', '10', '--html', html],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  const lines = readFileSync(input, 'utf8').split('\n').filter(Boolean);
  // Half the rows, and stdin stays open: the run is waiting for more when the signal comes.
  child.stdin.write(`${lines.slice(0, 50).join('\n')}\n`);
  const code = await new Promise<number | null>((resolve) => {
    let signalled = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // The 'scoring' log line comes after the stop handlers are installed.
      if (!signalled && stderr.includes('scoring')) {
        signalled = true;
        setTimeout(() => child.kill('SIGTERM'), 1500);
      }
    });
    child.stdout.resume();
    child.on('close', (c) => resolve(c));
  });
  child.stdin.destroy();
  t.is(code, 143, stderr);
  const page = readFileSync(html, 'utf8');
  t.is(runPage(page).status, 'interrupted');
  t.regex(page, /Run <strong>interrupted<\/strong>: stopped early/);
});
