// Outputs that stop taking data part-way: a reader that closes stdout early (`| head`) ends the run quietly
// with exit 141, as a program killed by SIGPIPE would; a predictions file that fails part-way (a full
// device) fails the run cleanly, with its report, however many batches were written before.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineEntry, runPipeline } from '../helpers/cli.js';
import { mnistTestCsv } from '../helpers/mnist-data.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-closed-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Runs nnpipe with a stdout reader that takes `keep` bytes (0: none), then closes its end of the pipe. */
function withEarlyClosingReader(args: string[], keep: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [pipelineEntry(), ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (keep === 0) child.stdout.destroy();
    else
      child.stdout.setEncoding('utf8').on('data', (data: string) => {
        stdout += data;
        if (stdout.length >= keep) child.stdout.destroy();
      });
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const noStack = /\n\s+at |Node\.js v|Unhandled/;

test('--predictions - read by a reader that stops early: exit 141, one line naming stdout, no summary', async (t) => {
  const report = join(dir, 'stopped.json');
  const run = await withEarlyClosingReader(
    ['--input', mnistTestCsv, '--predictions', '-', '--log-format', 'json', '--report', report],
    100,
  );
  t.is(run.code, 141, run.stderr);
  t.true(run.stdout.startsWith('line,row,label,predicted,confidence\n'));
  const lines = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
  t.deepEqual(lines, [`nnpipe: wrote ${report}`, 'nnpipe: cannot write predictions to stdout: its reader closed it']);
  const written = JSON.parse(readFileSync(report, 'utf8'));
  t.is(written.status, 'failed');
  t.is(written.error.code, 'PIPE_ERR_OUTPUT_CLOSED');
  t.true(written.rows < 10_000, `stopped early: ${written.rows} rows`);
});

for (const args of [['--help'], ['history', '--help'], ['--limit', '300']]) {
  test(`nnpipe ${args.join(' ')} with stdout closed before it prints: exit 141, no stack trace`, async (t) => {
    const run = await withEarlyClosingReader(args, 0);
    t.is(run.code, 141, run.stderr);
    t.notRegex(run.stderr, noStack);
  });
}

test('predictions to a full device after many batches: a failed run with its report (exit 1), no crash', async (t) => {
  const report = join(dir, 'full.json');
  // 5,000 rows in batches of 100: the failing writes come within one group of batches (source.ts).
  const run = await runPipeline([
    '--input',
    mnistTestCsv,
    '--limit',
    '5000',
    '--predictions',
    '/dev/full',
    '--report',
    report,
    '--quiet',
  ]);
  t.is(run.code, 1, run.stderr);
  t.notRegex(run.stderr, noStack);
  t.regex(run.stderr, /^nnpipe: cannot write predictions to \/dev\/full: .*ENOSPC/m);
  const written = JSON.parse(readFileSync(report, 'utf8'));
  t.is(written.status, 'failed');
  t.is(written.error.code, 'PIPE_ERR_OUTPUT');
});
