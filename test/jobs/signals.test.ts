// Stop signals, as a job runner sends them: the first SIGTERM / SIGINT stops reading, lets the batches in
// flight finish, writes the interrupted report (and the predictions so far) and the history line, and
// exits 143 / 130; --stop-timeout bounds the wait; a second signal exits at once.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory } from '../../src/jobs/history-file.js';
import {
  logLines,
  predictionsInProgress,
  removeTempDirs,
  sleep,
  start,
  tempDir,
  testCsv,
  trainCsv,
  until,
} from './helpers.js';

test.after.always(removeTempDirs);

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test.serial(
    `${signal}` +
      ` in the middle of a run on the training CSV: interrupted report with the rows so far, history line, exit ` +
      `${code}`,
    async (t) => {
      const dir = tempDir();
      const report = join(dir, 'latest.json');
      const predictions = join(dir, 'predictions.csv');
      const history = join(dir, 'history.jsonl');
      // Small batches on one thread keep the run going for a second or two (by default it takes well under
      // one, and could end between the check below and the signal).
      const slower = ['--batch-size', '20', '--threads', '1'];
      const run = start('pipeline', [
        '--input',
        trainCsv,
        ...slower,
        '--report',
        report,
        '--predictions',
        predictions,
        '--history',
        history,
        '--quiet',
      ]);
      // Mid-run for sure: scored rows are already in the predictions temp file.
      await until(() => predictionsInProgress(predictions), 60_000, 'scored rows');
      run.child.kill(signal);
      const { code: exitCode } = await run.exited;
      t.is(exitCode, code, run.stderr());

      const r = JSON.parse(readFileSync(report, 'utf8'));
      t.is(r.status, 'interrupted');
      // Issue 12, row 12: an interrupted report says why, like a failed one.
      t.deepEqual(r.error, {
        code: 'PIPE_ERR_INTERRUPTED',
        message: `stopped by ${signal} before the end of the input; the report counts the rows scored before the stop`,
      });
      t.true(r.rows > 0 && r.rows < 60000, `rows ${r.rows}`);
      t.is(r.batches, Math.ceil(r.rows / 20)); // full batches, then the partial one cut at the signal
      // The predictions file holds exactly the rows the report counts (committed, not a temp file).
      const lines = readFileSync(predictions, 'utf8').trimEnd().split('\n');
      t.is(lines.length - 1, r.rows);

      const [line] = readHistory(history).records;
      t.like(line, {
        status: 'interrupted',
        exitCode: code,
        signal,
        forced: false,
        rows: r.rows,
        report,
        error: { code: 'PIPE_ERR_INTERRUPTED' },
      });
      t.is(line.accuracy, r.accuracy);

      const stopping = logLines(run.stderr()).find(
        (l) => l.msg === 'stopping: finishing the batches in flight (send it again to exit at once)',
      );
      t.like(stopping, { level: 40, signal });
    },
  );
}

// Issue 12, row 9: on a stop timeout the predictions file is replaced with exactly the rows the report
// counts, every time (it used to keep its old content or not, depending on timing).
for (const attempt of [1, 2, 3]) {
  test.serial(
    `the wait after a signal is bounded by --stop-timeout: the report counts what came back and says why; the ` +
      `predictions file holds exactly those rows (${attempt})`,
    async (t) => {
      const dir = tempDir();
      const report = join(dir, 'latest.json');
      const history = join(dir, 'history.jsonl');
      const predictions = join(dir, 'predictions.csv');
      writeFileSync(predictions, `row,label,predicted,confidence\n${'1,1,1,1\n'.repeat(99_999)}`);
      // Big batches, one at a time on one thread, with the JavaScript kernel (so the run lasts seconds,
      // not a fraction of one): whatever is in flight at the signal takes far longer than 1 ms.
      const size = [3000, 10000, 30000][attempt - 1];
      const args = [
        '--input',
        trainCsv,
        '--batch-size',
        String(size),
        '--threads',
        '1',
        '--max-in-flight',
        '1',
        '--stop-timeout',
        '1',
        '--kernel',
        'js',
      ];
      const run = start('pipeline', [...args, '--report', report, '--history', history, '--predictions', predictions]);
      await run.waitFor(/"msg":"scoring"/);
      await sleep(300 + 200 * attempt);
      run.child.kill('SIGTERM');
      const { code } = await run.exited;
      t.is(code, 143, run.stderr());
      const r = JSON.parse(readFileSync(report, 'utf8'));
      t.is(r.status, 'interrupted');
      t.is(r.error.code, 'PIPE_ERR_STOP_TIMEOUT');
      t.regex(r.error.message, /did not finish within --stop-timeout 1 ms/);
      t.true(r.rows < 60000);
      const lines = readFileSync(predictions, 'utf8').split('\n');
      t.is(lines.pop(), '', 'ends with a newline');
      t.is(lines.length - 1, r.rows, 'the predictions file has exactly the rows of the report');
      t.deepEqual(
        readdirSync(dir).sort(),
        ['history.jsonl', 'latest.json', 'predictions.csv'],
        'no temp file, no lock left',
      );
      t.like(readHistory(history).records[0], {
        status: 'interrupted',
        exitCode: 143,
        rows: r.rows,
        error: { code: 'PIPE_ERR_STOP_TIMEOUT' },
      });
    },
  );
}

test.serial('several inputs: a report cut short by --stop-timeout and its history line list every file', async (t) => {
  const dir = tempDir();
  const report = join(dir, 'latest.json');
  const history = join(dir, 'history.jsonl');
  const args = ['--input', trainCsv, testCsv, '--batch-size', '10000', '--threads', '1', '--max-in-flight', '1'];
  const run = start('pipeline', [
    ...args,
    '--stop-timeout',
    '1',
    '--kernel',
    'js',
    '--report',
    report,
    '--history',
    history,
  ]);
  await run.waitFor(/"msg":"scoring"/);
  await sleep(500);
  run.child.kill('SIGTERM');
  t.is((await run.exited).code, 143, run.stderr());
  const r = JSON.parse(readFileSync(report, 'utf8'));
  t.is(r.error.code, 'PIPE_ERR_STOP_TIMEOUT');
  t.deepEqual(
    r.input.files.map((file: { path: string }) => file.path),
    [trainCsv, testCsv],
  );
  t.is(
    r.input.files.reduce((sum: number, file: { rows: number }) => sum + file.rows, 0),
    r.rows,
  );
  t.deepEqual(readHistory(history).records[0].input.files, [trainCsv, testCsv]);
});

test.serial('a second signal exits at once, after a last history line (no report)', async (t) => {
  const dir = tempDir();
  const report = join(dir, 'latest.json');
  const history = join(dir, 'history.jsonl');
  // Half the file per batch: after the first signal, the batch in flight keeps the run going for a while.
  const args = ['--input', trainCsv, '--batch-size', '30000', '--threads', '1', '--max-in-flight', '1'];
  const run = start('pipeline', [...args, '--report', report, '--history', history]);
  await run.waitFor(/"msg":"scoring"/);
  await sleep(500);
  run.child.kill('SIGTERM');
  await run.waitFor(/stopping: finishing the batches in flight/);
  const second = Date.now();
  run.child.kill('SIGINT'); // a different signal, so the two cannot merge into one pending signal
  const { code, at } = await run.exited;
  t.is(code, 130, run.stderr()); // the code of the signal that forced the exit
  t.true(at - second < 1500, `exited ${at - second} ms after the second signal`);
  t.false(existsSync(report));
  const { records, tornTail } = readHistory(history);
  t.is(tornTail, null);
  t.like(records[0], {
    status: 'interrupted',
    exitCode: 130,
    signal: 'SIGTERM',
    forced: true,
    report: null,
    error: { code: 'PIPE_ERR_FORCED_STOP' },
  });
  t.regex(records[0].error!.message, /a second SIGINT ended the run at once/);
  // The lock was released on exit: the same outputs can be used again at once.
  t.false(existsSync(`${report}.lock`));
  t.false(existsSync(`${history}.lock`));
});
