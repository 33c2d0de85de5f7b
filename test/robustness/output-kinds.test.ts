// Outputs that are not plain files in a plain folder (issue 12, rows 5, 14, 15, 16): devices and FIFOs
// are written in place and never replaced (a full device fails the run, exit 1); directories and
// missing folders are refused before any row is read (exit 2); names of 250 characters work; the temp
// file of a run killed with -9 is removed by the next run, whose report lists it.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';
import { predictionsInProgress, sleep, start, trainCsv, until } from '../jobs/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nnpipe-kinds-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));
const input = fixture('mnist-test-100.csv');
const isRoot = process.getuid?.() === 0;

let count = 0;
function folder(): string {
  const dir = join(root, String(++count));
  mkdirSync(dir);
  return dir;
}

(isRoot ? test.serial : test.skip)(
  'row 5: device nodes made with mknod are written in place, never replaced; a full one fails with exit 1 (needs ' +
    'root: skipped otherwise)',
  async (t) => {
    const dir = folder();
    const nul = join(dir, 'null-node');
    const full = join(dir, 'full-node');
    execFileSync('mknod', [nul, 'c', '1', '3']);
    execFileSync('mknod', [full, 'c', '1', '7']);
    const ok = await runPipeline(['--input', input, '--report', nul, '--predictions', join(dir, 'p.csv'), '--quiet']);
    t.is(ok.code, 0, ok.stderr);
    t.true(statSync(nul).isCharacterDevice(), 'still the device node');
    const failed = await runPipeline(['--input', input, '--report', full, '--quiet']);
    t.is(failed.code, 1, failed.stderr);
    t.regex(failed.stderr, /^nnpipe: cannot write .*full-node: .*ENOSPC/m);
    t.true(statSync(full).isCharacterDevice(), 'still the device node');
    const predictions = await runPipeline(['--input', input, '--predictions', full, '--quiet']);
    t.is(predictions.code, 1, predictions.stderr);
    t.regex(predictions.stderr, /cannot write predictions to .*full-node: .*ENOSPC/);
    t.deepEqual(readdirSync(dir).sort(), ['full-node', 'null-node', 'p.csv'], 'no temp files, no lock directories');
  },
);

test('row 5: /dev/null and /dev/full as outputs: never replaced, ENOSPC fails the run (exit 1)', async (t) => {
  const ok = await runPipeline([
    '--input',
    input,
    '--report',
    '/dev/null',
    '--predictions',
    '/dev/zero',
    '--html',
    '/dev/null/../null',
    '--quiet',
  ]);
  t.is(ok.code, 2, 'the same device twice is refused like any file');
  const one = await runPipeline(['--input', input, '--report', '/dev/null', '--history', '/dev/zero', '--quiet']);
  t.is(one.code, 0, one.stderr);
  t.true(statSync('/dev/null').isCharacterDevice());
  for (const option of ['--report', '--predictions', '--html']) {
    const run = await runPipeline(['--input', input, option, '/dev/full', '--quiet']);
    t.is(run.code, 1, `${option}: ${run.stderr}`);
    t.regex(run.stderr, /\/dev\/full: ENOSPC: no space left on device/);
  }
  t.true(statSync('/dev/full').isCharacterDevice());
  t.false(existsSync('/dev/full.lock') || existsSync('/dev/null.lock'), 'no lock directories in /dev');
});

test('a FIFO gets the predictions as they are written, and stays a FIFO', async (t) => {
  const dir = folder();
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = spawn('cat', [fifo]);
  let read = '';
  reader.stdout.setEncoding('utf8').on('data', (d: string) => (read += d));
  const closed = new Promise((resolve) => reader.on('close', resolve));
  const run = await runPipeline(['--input', input, '--predictions', fifo, '--quiet']);
  await closed;
  t.is(run.code, 0, run.stderr);
  t.is(read.split('\n')[0], 'line,row,label,predicted,confidence');
  t.is(read.trimEnd().split('\n').length, 101);
  t.true(statSync(fifo).isFIFO());
});

test(
  "/dev/stdout is the process's own stdout (written in place, appended to a redirected file), not a file to " +
    'replace',
  async (t) => {
    const run = await runPipeline(['--input', input, '--predictions', '/dev/stdout', '--quiet']);
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout.trimEnd().split('\n').length, 101);
  },
);

test('row 16: a directory or a missing folder is refused before any row is read (exit 2; stdin never read)', async (t) => {
  const dir = folder();
  mkdirSync(join(dir, 'a-folder'));
  writeFileSync(join(dir, 'a-file'), 'x');
  for (const [option, path, message] of [
    ['--report', join(dir, 'a-folder'), /--report .*a-folder: is a directory; give a file name/],
    ['--predictions', `${join(dir, 'a-folder')}/`, /--predictions .*a-folder\/: is a directory/],
    ['--html', join(dir, 'missing', 'run.html'), /--html .*run\.html: the folder .*missing does not exist/],
    ['--history', join(dir, 'a-file', 'h.jsonl'), /--history .*h\.jsonl: .*a-file is not a folder/],
    ['--report', '/proc/self/status', /--report \/proc\/self\/status: .* is in proc, a kernel interface/],
  ] as const) {
    // stdin stays open and silent: a run that read it would wait until the helper's timeout kills it.
    const run = await runPipeline(['--input', '-', option, path, '--quiet'], {
      stdin: () => undefined,
      timeoutMs: 20_000,
    });
    t.is(run.code, 2, `${option} ${path}: ${run.stderr}`);
    t.regex(run.stderr, message);
  }
  t.deepEqual(readdirSync(dir).sort(), ['a-file', 'a-folder']);
  t.deepEqual(readdirSync(join(dir, 'a-folder')), []);
});

test('row 15: output names of 250 characters work; no sidecar name passes NAME_MAX', async (t) => {
  const dir = folder();
  const name = (ext: string) => join(dir, `${'n'.repeat(250 - ext.length)}${ext}`);
  const outputs = { report: name('.json'), predictions: name('.csv'), html: name('.html'), history: name('.jsonl') };
  const run = await runPipeline([
    '--input',
    input,
    '--quiet',
    ...Object.entries(outputs).flatMap(([k, v]) => [`--${k}`, v]),
  ]);
  t.is(run.code, 0, run.stderr);
  t.is(JSON.parse(readFileSync(outputs.report, 'utf8')).rows, 100);
  t.is(readFileSync(outputs.predictions, 'utf8').trimEnd().split('\n').length, 101);
  t.deepEqual(
    readdirSync(dir).sort(),
    Object.values(outputs)
      .map((p) => p.slice(dir.length + 1))
      .sort(),
    'locks and temp files are gone',
  );
  // While a run holds the locks, their names fit too.
  const running = start('pipeline', [
    '--input',
    trainCsv,
    '--batch-size',
    '20',
    '--threads',
    '1',
    '--predictions',
    outputs.predictions,
    '--history',
    outputs.history,
    '--quiet',
  ]);
  // Mid-run: the locks are taken and the predictions temp file has scored rows in it.
  await until(
    () => readdirSync(dir).some((entry) => entry.endsWith('.tmp') && statSync(join(dir, entry)).size > 1000),
    60_000,
    'scored rows',
  );
  const sidecars = readdirSync(dir).filter((entry) => !Object.values(outputs).some((p) => p.endsWith(entry)));
  t.true(sidecars.length >= 2, sidecars.join(', '));
  for (const entry of sidecars) t.true(Buffer.byteLength(entry) <= 255, `${entry.length} bytes: ${entry}`);
  running.child.kill('SIGINT');
  t.is((await running.exited).code, 130, running.stderr());
});

test.serial(
  'row 14: the temp file of a run killed with -9 is removed by the next run, and its report says so',
  async (t) => {
    const dir = folder();
    const predictions = join(dir, 'k.csv');
    const report = join(dir, 'r.json');
    const killed = start('pipeline', [
      '--input',
      trainCsv,
      '--batch-size',
      '20',
      '--threads',
      '1',
      '--predictions',
      predictions,
      '--report',
      report,
      '--lock-stale',
      '2000',
      '--quiet',
    ]);
    await until(() => predictionsInProgress(predictions), 60_000, 'scored rows');
    killed.child.kill('SIGKILL');
    await killed.exited;
    const left = readdirSync(dir).filter((entry) => entry.endsWith('.tmp'));
    t.is(left.length, 1, readdirSync(dir).join(', '));
    t.regex(left[0], new RegExp(`^k\\.csv\\.nnpipe-${killed.child.pid}-[0-9a-f]{12}\\.tmp$`));
    // An older nnpipe's temp file (no pid in the name), untouched for longer than --lock-stale.
    const legacy = join(dir, 'k.csv.0123456789ab.tmp');
    writeFileSync(legacy, 'row,label,predicted,confidence\n');
    const old = new Date(Date.now() - 60_000);
    (await import('node:fs')).utimesSync(legacy, old, old);
    await sleep(3500); // the dead run's lock goes stale (2 s, plus proper-lockfile's whole-second mtimes)
    const next = await runPipeline([
      '--input',
      input,
      '--predictions',
      predictions,
      '--report',
      report,
      '--lock-stale',
      '2000',
      '--json',
    ]);
    t.is(next.code, 0, next.stderr);
    const printed = JSON.parse(next.stdout);
    t.deepEqual([...printed.removedTempFiles].sort(), [join(dir, left[0]), legacy].sort());
    t.deepEqual(JSON.parse(readFileSync(report, 'utf8')).removedTempFiles, printed.removedTempFiles);
    t.regex(next.stderr, /removed a temp file that a dead run had left next to an output/);
    t.deepEqual(readdirSync(dir).sort(), ['k.csv', 'r.json']);
    // The run after that has nothing to remove.
    const again = await runPipeline(['--input', input, '--predictions', predictions, '--json']);
    t.deepEqual(JSON.parse(again.stdout).removedTempFiles, []);
  },
);
