// `npm run experiment` as a child process, the way users run it: usage errors exit 2 before anything is
// measured or written; a small run prints its JSON with --json and writes the three files; a stop signal in
// the middle of a run writes what was measured (partial) and exits 130 / 143.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxThreads } from '../../src/cli/pipeline-options.js';
import { cliEntry, runNode } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-experiment-cli-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');
const experiment = (args: string[]) => runNode(cliEntry('experiment'), args, { timeoutMs: 120_000 });

for (const [args, message] of [
  [['--batch-sizes', '0,10'], "--batch-sizes must list values of at least 1: batch size 0 is not allowed (got '0,10')"],
  [['--batch-sizes', ''], "--batch-sizes is empty: give one or more batch sizes separated by commas (got '')"],
  [['--batch-sizes', '10,10'], "--batch-sizes lists batch size 10 twice (got '10,10')"],
  [['--batch-sizes', '1,x'], "--batch-sizes must list whole numbers: 'x' is not a batch size (got '1,x')"],
  [
    ['--threads', String(maxThreads + 1)],
    `--threads must list thread counts of at most ${maxThreads}` +
      `, the pool maximum (4 per core, at least 16): ${maxThreads + 1}` +
      ` is too many (got '${maxThreads + 1}')`,
  ],
  [
    ['--max-in-flight', '0'],
    "--max-in-flight must list values of at least 1: '0' would allow no batch in flight (got '0')",
  ],
  [
    ['--pool', 'lukewarm'],
    "nnpipe experiment: option '--pool <mode>' argument 'lukewarm' is invalid. Allowed choices are warm, fresh, both.",
  ],
] as const) {
  test(`exit 2 without measuring or writing anything: ${args.join(' ')}`, async (t) => {
    const out = join(dir, `bad-${args.join('-').replace(/[^\w-]/g, '_')}`);
    const run = await experiment([...args, '--input', input, '--model', await modelReady, '--out', out]);
    t.is(run.code, 2, run.stderr);
    t.true(run.stderr.includes(message), run.stderr);
    t.is(run.stdout, '');
    t.false(existsSync(out));
  });
}

test('a batch size past what one worker holds for the model is exit 2 before anything is measured (issue 12)', async (t) => {
  const out = join(dir, 'too-big');
  const run = await experiment([
    '--batch-sizes',
    '10,99999999',
    '--input',
    input,
    '--model',
    await modelReady,
    '--out',
    out,
  ]);
  t.is(run.code, 2, run.stderr);
  t.regex(
    run.stderr,
    /^nnpipe experiment: --batch-sizes 99999999 is more than one worker can hold for this model \(784-16-10\): at most \d+ rows/,
  );
  t.false(existsSync(out));
});

test('--out holding a link to the input or the model is refused (exit 2), nothing replaced (issue 12)', async (t) => {
  const out = join(dir, 'linked');
  mkdirSync(out);
  symlinkSync(await modelReady, join(out, 'experiment.json'));
  const before = readFileSync(await modelReady);
  const run = await experiment(['--batch-sizes', '10', '--input', input, '--model', await modelReady, '--out', out]);
  t.is(run.code, 2, run.stderr);
  t.regex(
    run.stderr,
    /^nnpipe experiment: --out .*experiment\.json is the same file as --model .*; refusing to overwrite the model/,
  );
  t.deepEqual(readFileSync(await modelReady), before);
  t.deepEqual(readdirSync(out), ['experiment.json']);
});

test('--out where no folder can be made (/proc) is exit 2 before anything is measured', async (t) => {
  const run = await experiment([
    '--batch-sizes',
    '10',
    '--input',
    input,
    '--model',
    await modelReady,
    '--out',
    '/proc/nnpipe-x/y',
  ]);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^nnpipe experiment: --out \/proc\/nnpipe-x\/y: \/proc is in proc, a kernel interface/);
});

test('exit 1 with a clear message when the model is missing', async (t) => {
  const run = await experiment([
    '--input',
    input,
    '--model',
    join(dir, 'nope.safetensors'),
    '--out',
    join(dir, 'no-model'),
  ]);
  t.is(run.code, 1);
  t.regex(run.stderr, /nope\.safetensors: the model file does not exist/);
});

test('a small run with --json: one JSON document on stdout, the three files written, exit 0', async (t) => {
  const out = join(dir, 'json');
  const run = await experiment([
    '--input',
    input,
    '--model',
    await modelReady,
    '--batch-sizes',
    '1,50',
    '--threads',
    '1',
    '--min-samples',
    '1',
    '--max-time',
    '0.01',
    '--out',
    out,
    '--json',
  ]);
  t.is(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  t.is(doc.status, 'complete');
  t.is(doc.results.length, 3, '2 warm + 1 fresh probe');
  t.deepEqual(
    doc.results.map((r: { config: { pool: string } }) => r.config.pool),
    ['warm', 'warm', 'fresh'],
  );
  t.deepEqual(JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')), doc);
  t.is(readFileSync(join(out, 'experiment.csv'), 'utf8').trimEnd().split('\n').length, 4);
  t.regex(readFileSync(join(out, 'experiment.html'), 'utf8'), /^<!DOCTYPE html>/);
  // Not a terminal: no progress bar; log lines are JSON (one per measured configuration).
  const logs = run.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(logs.filter((l) => l.msg === 'measured').length, 3);
});

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test.serial(`${signal} in the middle of a run writes what was measured (partial) and exits ${code}`, async (t) => {
    const out = join(dir, `stopped-${signal}`);
    // 20 configurations of a few hundred ms each: long enough to stop in the middle.
    const sizes = Array.from({ length: 20 }, (_, i) => i + 1).join(',');
    const child = spawn(
      process.execPath,
      [
        cliEntry('experiment'),
        '--input',
        input,
        '--model',
        await modelReady,
        '--batch-sizes',
        sizes,
        '--threads',
        '1',
        '--min-samples',
        '2',
        '--max-time',
        '0.05',
        '--out',
        out,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    // Mid-run for sure: the checkpoint after the second configuration is on disk.
    const json = join(out, 'experiment.json');
    const deadline = Date.now() + 90_000;
    while (!(existsSync(json) && JSON.parse(readFileSync(json, 'utf8')).results.length >= 2)) {
      if (Date.now() > deadline) t.fail(`no checkpoint: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stoppedAt = Date.now();
    child.kill(signal);
    t.is(await exited, code, stderr);
    t.true(Date.now() - stoppedAt < 10_000, 'stops promptly (the configuration being measured is dropped)');

    const doc = JSON.parse(readFileSync(json, 'utf8'));
    t.is(doc.status, 'interrupted');
    t.true(doc.partial);
    t.true(doc.results.length >= 2 && doc.results.length < 21, `${doc.results.length} measured`);
    t.is(doc.results.length + doc.notMeasured.length, 21);
    t.is(doc.summary.measured, doc.results.length);
    const csv = readFileSync(join(out, 'experiment.csv'), 'utf8').trimEnd().split('\n');
    t.is(csv.length, 1 + doc.results.length);
    t.true(csv.slice(1).every((l) => l.endsWith(',interrupted,true')));
    t.regex(
      readFileSync(join(out, 'experiment.html'), 'utf8'),
      /<title>nnpipe batch-size experiment: interrupted \(partial\)<\/title>/,
    );
    t.regex(stdout, /^experiment INTERRUPTED \(partial\): \d+ of 21 configurations measured/);
    const logs = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    t.truthy(
      logs.find(
        (l) =>
          l.msg === 'stopping: writing what has been measured (send it again to exit at once)' && l.signal === signal,
      ),
    );
  });
}
