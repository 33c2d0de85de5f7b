// The scheduler (`npm run schedule`), started as a child process like a service manager does: it never
// runs two pipelines at once (an overlapping tick is skipped and logged), it keeps going after a failed
// run, and SIGTERM stops it the way it stops a pipeline.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory } from '../../src/jobs/history-file.js';
import { cliEntry, runNode } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';
import { logLines, removeTempDirs, slowRunArgs, start, tempDir, trainCsv } from './helpers.js';

test.after.always(removeTempDirs);

const everySecond = '* * * * * *';

test.serial('a run still going when the next one is due is skipped and logged; runs never overlap', async (t) => {
  const dir = tempDir();
  const history = join(dir, 'history.jsonl');
  const run = start('schedule', ['--cron', everySecond, '--tz', 'Europe/Berlin', '--max-runs', '2', '--', ...slowRunArgs(), '--history', history]);
  const { code } = await run.exited;
  t.is(code, 0, run.stderr());
  const logs = logLines(run.stderr());
  t.like(logs[0], { name: 'nnpipe-schedule', msg: 'scheduler started', cron: everySecond, timezone: 'Europe/Berlin' });
  const skipped = logs.filter((l) => l.msg === 'skipped a run: the previous run is still going');
  t.true(skipped.length >= 1, 'at least one tick skipped');
  for (const line of skipped) {
    t.is(line.level, 40);
    t.regex(String(line.skipped), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    t.true(typeof (line.running as { run?: unknown } | null)?.run === 'number', 'names the run that is going');
  }
  t.deepEqual(
    logs.filter((l) => l.msg === 'run complete').map((l) => [l.run, l.exitCode]),
    [
      [1, 0],
      [2, 0],
    ],
  );
  const runs = readHistory(history).records;
  t.is(runs.length, 2);
  t.true(Date.parse(runs[0].finishedAt) <= Date.parse(runs[1].startedAt), 'the second run started after the first ended');
  // Every skipped tick fell while a run was going.
  for (const line of skipped) {
    const at = Date.parse(String(line.skipped));
    t.true(runs.some((r) => Date.parse(r.startedAt) - 1000 <= at && at <= Date.parse(r.finishedAt)), `skipped ${String(line.skipped)}`);
  }
  t.like(logs.at(-1), { msg: 'scheduler stopped', runs: 2, exitCode: 0 });
});

test.serial('the scheduler stays up after a failed run, logs why, and goes on', async (t) => {
  const dir = tempDir();
  const input = join(dir, 'incoming.csv'); // does not exist yet
  const history = join(dir, 'history.jsonl');
  const run = start('schedule', ['--cron', everySecond, '--max-runs', '3', '--', '--input', input, '--quiet', '--history', history]);
  await run.waitFor(/"msg":"run failed; the schedule goes on"/);
  copyFileSync(fixture('mnist-test-100.csv'), input); // the file arrives
  const { code } = await run.exited;
  t.is(code, 0, run.stderr());
  const outcomes = logLines(run.stderr()).filter((l) => typeof l.exitCode === 'number' && typeof l.run === 'number');
  t.like(outcomes[0], { level: 50, run: 1, exitCode: 1, meaning: 'failed (bad input, model, worker, output)' });
  t.regex(String(outcomes[0].error), /incoming\.csv: no such file/);
  t.like(outcomes.at(-1), { level: 30, msg: 'run complete', exitCode: 0, error: null });
  t.is(outcomes.length, 3);
  const statuses = readHistory(history).records.map((r) => [r.status, r.exitCode]);
  t.deepEqual(statuses[0], ['failed', 1]);
  t.deepEqual(statuses.at(-1), ['complete', 0]);
});

test.serial('SIGTERM to the scheduler: no more runs, the current run writes its interrupted report, exit 143', async (t) => {
  const dir = tempDir();
  const report = join(dir, 'latest.json');
  const history = join(dir, 'history.jsonl');
  // Batches of one row on one thread: several seconds for the training CSV (a default run takes well
  // under one, and could end before the signal).
  const slow = ['--input', trainCsv, '--batch-size', '1', '--threads', '1'];
  const run = start('schedule', ['--cron', everySecond, '--', ...slow, '--report', report, '--history', history]);
  await run.waitFor(/"msg":"scoring"/); // the pipeline's own log line: the run is under way
  await new Promise((resolve) => setTimeout(resolve, 800));
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  t.is(code, 143, run.stderr());
  const logs = logLines(run.stderr());
  t.like(
    logs.find((l) => l.name === 'nnpipe-schedule' && typeof l.msg === 'string' && l.msg.startsWith('stopping')),
    { level: 40, signal: 'SIGTERM', running: true },
  );
  t.like(logs.find((l) => l.msg === 'run interrupted'), { exitCode: 143, meaning: 'interrupted by SIGTERM' });
  t.like(logs.at(-1), { msg: 'scheduler stopped', runs: 1, exitCode: 143 });
  const r = JSON.parse(readFileSync(report, 'utf8'));
  t.is(r.status, 'interrupted');
  t.true(r.rows > 0 && r.rows < 60000);
  t.like(readHistory(history).records, [{ status: 'interrupted', exitCode: 143, signal: 'SIGTERM' }]);
});

for (const [args, message] of [
  [['--cron', 'every minute', '--', '--input', trainCsv], /--cron \/ --tz: .*invalid configuration format/],
  [['--cron', '* * * * *', '--tz', 'Mars/Olympus', '--', '--input', trainCsv], /--cron \/ --tz: .*Mars\/Olympus/],
  [['--cron', '* * * * *', '--', '--batch-size', '0'], /pipeline options: --batch-size must be a positive integer/],
  [['--cron', '* * * * *', '--', '--bogus'], /pipeline options: unknown option '--bogus'/],
  [['--cron', '* * * * *', '--', '--input', '-'], /--input - \(stdin\) cannot be scheduled/],
  [['--', '--input', trainCsv], /required option '--cron <expr>' not specified/],
  [['--cron', '* * * * *', '--', '--input', trainCsv, '--report', '/nonexistent-folder/r.json'], /pipeline options: --report \/nonexistent-folder\/r\.json: the folder \/nonexistent-folder does not exist/],
  [['--cron', '* * * * *', '--', '--input', trainCsv, '--history', trainCsv], /pipeline options: --history .* is the same file as --input .*; refusing to overwrite the input/],
] as const) {
  test(`bad options are refused at start-up with exit 2: ${args.join(' ')}`, async (t) => {
    const run = await runNode(cliEntry('schedule'), [...args]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  });
}

test('--help lists the exit codes', async (t) => {
  const run = await runNode(cliEntry('schedule'), ['--help']);
  t.is(run.code, 0);
  for (const code of ['0', '1', '2', '3', '75', '130', '143']) t.regex(run.stdout, new RegExp(`^\\s+${code}  `, 'm'));
});

// Issue 12, row 17: on a terminal every run added pino-pretty listeners to stderr (a
// MaxListenersExceededWarning by the third run). `script` gives the scheduler a real terminal.
const hasScript = existsSync('/usr/bin/script');
(hasScript ? test.serial : test.skip)('on a terminal, runs share one log stream: no listener piles up over 12 runs (skipped without util-linux script)', async (t) => {
  const dir = tempDir();
  const input = join(dir, 'in.csv');
  writeFileSync(input, `${readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').slice(0, 5).join('\n')}\n`);
  const command = [process.execPath, cliEntry('schedule'), '--cron', `'${everySecond}'`, '--max-runs', '12', '--', '--input', input, '--quiet'].join(' ');
  const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } });
  t.is(result.status, 0, result.stdout);
  t.is((result.stdout.match(/run complete/g) ?? []).length, 12, result.stdout);
  t.notRegex(result.stdout, /MaxListenersExceededWarning|memory leak/);
});

test('createLogger on a terminal stream: one pretty destination per stream, however many loggers', async (t) => {
  const { createLogger } = await import('../../src/cli/logger.js');
  const { PassThrough } = await import('node:stream');
  const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
  createLogger({ name: 'a', stream: tty }).info('first');
  const listeners = () => tty.eventNames().reduce((sum, event) => sum + tty.listenerCount(event), 0);
  const after = listeners();
  for (let i = 0; i < 30; i++) createLogger({ name: `run ${i}`, stream: tty, quiet: i % 2 === 0 }).warn('again');
  t.is(listeners(), after);
});
