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
import { heldOpenInput, logLines, removeTempDirs, start, tempDir, trainCsv, until } from './helpers.js';

test.after.always(removeTempDirs);

const everySecond = '* * * * * *';

test.serial('a run still going when the next one is due is skipped and logged; runs never overlap', async (t) => {
  const dir = tempDir();
  const history = join(dir, 'history.jsonl');
  // Each run reads for 2.5 s, so at least two 1-second ticks fall while it is going.
  const input = heldOpenInput(dir, fixture('mnist-test-100.csv'), 2, 2500);
  const run = start('schedule', [
    '--cron',
    everySecond,
    '--tz',
    'Europe/Berlin',
    '--max-runs',
    '2',
    '--',
    '--input',
    input.path,
    '--quiet',
    '--history',
    history,
  ]);
  const { code } = await run.exited;
  input.writer.kill();
  t.is(code, 0, run.stderr());
  const logs = logLines(run.stderr());
  t.like(logs[0], { name: 'nnpipe-schedule', msg: 'scheduler started', cron: everySecond, timezone: 'Europe/Berlin' });
  const skipped = logs.filter((l) => l.msg === 'skipped a run: the previous run is still going');
  t.true(skipped.length >= 1, 'at least one tick skipped');
  for (const line of skipped) {
    t.is(line.level, 40);
    t.regex(String(line.skipped), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/, "in the schedule's zone (Berlin)");
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
  t.true(
    Date.parse(runs[0].finishedAt) <= Date.parse(runs[1].startedAt),
    'the second run started after the first ended',
  );
  // Every skipped tick fell while a run was going.
  for (const line of skipped) {
    const at = Date.parse(String(line.skipped));
    t.true(
      runs.some((r) => Date.parse(r.startedAt) - 1000 <= at && at <= Date.parse(r.finishedAt)),
      `skipped ${String(line.skipped)}`,
    );
  }
  t.like(logs.at(-1), { msg: 'scheduler stopped', runs: 2, exitCode: 0 });
});

test.serial('the scheduler stays up after a failed run, logs why, and goes on', async (t) => {
  const dir = tempDir();
  const input = join(dir, 'incoming.csv'); // does not exist yet
  const history = join(dir, 'history.jsonl');
  const run = start('schedule', [
    '--cron',
    everySecond,
    '--max-runs',
    '3',
    '--',
    '--input',
    input,
    '--quiet',
    '--history',
    history,
  ]);
  await run.waitFor(/"msg":"run failed; the schedule goes on"/);
  copyFileSync(fixture('mnist-test-100.csv'), input); // the file arrives
  const { code } = await run.exited;
  t.is(code, 0, run.stderr());
  const outcomes = logLines(run.stderr()).filter((l) => typeof l.exitCode === 'number' && typeof l.run === 'number');
  t.like(outcomes[0], { level: 50, run: 1, exitCode: 1, meaning: 'failed (bad input, model, worker, output)' });
  t.regex(String(outcomes[0].error), /incoming\.csv: no such file/);
  t.like(outcomes.at(-1), { level: 30, msg: 'run complete', exitCode: 0, rows: 100, accuracy: 1 });
  t.false('error' in outcomes.at(-1)!, 'no stray `error: null` on a successful run');
  t.is(outcomes.length, 3);
  // Warned at start: the folder exists, the file does not (yet).
  t.like(
    logLines(run.stderr()).find((l) => l.level === 40),
    { input, msg: 'the input does not exist yet: runs fail (exit 1) until it does' },
  );
  const statuses = readHistory(history).records.map((r) => [r.status, r.exitCode]);
  t.deepEqual(statuses[0], ['failed', 1]);
  t.deepEqual(statuses.at(-1), ['complete', 0]);
});

test.serial(
  'SIGTERM to the scheduler: no more runs, the current run writes its interrupted report, exit 143',
  async (t) => {
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
    t.like(
      logs.find((l) => l.msg === 'run interrupted'),
      { exitCode: 143, meaning: 'interrupted by SIGTERM' },
    );
    t.like(logs.at(-1), { msg: 'scheduler stopped', runs: 1, exitCode: 143 });
    const r = JSON.parse(readFileSync(report, 'utf8'));
    t.is(r.status, 'interrupted');
    t.true(r.rows > 0 && r.rows < 60000);
    t.like(readHistory(history).records, [{ status: 'interrupted', exitCode: 143, signal: 'SIGTERM' }]);
  },
);

for (const [args, message] of [
  [['--cron', 'every minute', '--', '--input', trainCsv], /--cron \/ --tz: .*invalid configuration format/],
  [['--cron', '* * * * *', '--tz', 'Mars/Olympus', '--', '--input', trainCsv], /--cron \/ --tz: .*Mars\/Olympus/],
  [['--cron', '* * * * *', '--', '--batch-size', '0'], /pipeline options: --batch-size must be a positive integer/],
  [['--cron', '* * * * *', '--', '--bogus'], /pipeline options: unknown option '--bogus'/],
  [['--cron', '* * * * *', '--', '--input', '-'], /--input - \(stdin\) cannot be scheduled/],
  [['--cron', '* * * * *', '--', '--predictions', '-'], /--predictions - cannot be scheduled/],
  [['--', '--input', trainCsv], /required option '--cron <expr>' not specified/],
  [
    ['--cron', '* * * * *', '--', '--input', trainCsv, '--report', '/nonexistent-folder/r.json'],
    /pipeline options: --report \/nonexistent-folder\/r\.json: the folder \/nonexistent-folder does not exist/,
  ],
  [
    ['--cron', '* * * * *', '--', '--input', '/nonexistent-folder/in.csv'],
    /pipeline options: --input \/nonexistent-folder\/in\.csv: the folder \/nonexistent-folder does not exist/,
  ],
  [
    ['--cron', '* * * * *', '--summary', 'short', '--', '--input', trainCsv],
    /option '--summary <mode>' argument 'short' is invalid/,
  ],
  [
    ['--cron', '* * * * *', '--', '--input', trainCsv, '--history', trainCsv],
    /pipeline options: --history .* is the same file as --input .*; refusing to overwrite the input/,
  ],
] as const) {
  test(`bad options are refused at start-up with exit 2: ${args.join(' ')}`, async (t) => {
    const run = await runNode(cliEntry('schedule'), [...args]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  });
}

// Issue 17: the full confusion matrix repeated every tick, and the next times printed in UTC whatever --tz.
const kathmandu = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:45$/; // an offset no system zone here has by accident
test.serial(
  "stdout: one line per run by default, in the schedule's time zone; --summary full prints the whole summary",
  async (t) => {
    const input = fixture('mnist-test-100.csv');
    const run = start('schedule', [
      '--cron',
      everySecond,
      '--tz',
      'Asia/Kathmandu',
      '--max-runs',
      '2',
      '--',
      '--input',
      input,
    ]);
    t.is((await run.exited).code, 0, run.stderr());
    const lines = run.stdout().trim().split('\n');
    t.is(lines.length, 2, run.stdout());
    for (const [i, line] of lines.entries()) {
      const match =
        /^(\S+) run (\d) \(exit 0\) complete: 100 rows in [\d.]+ m?s, accuracy 100\.00%, [\d,]+ images\/s(?:; next (\S+))?$/.exec(
          line,
        );
      t.truthy(match, line);
      t.regex(match![1], kathmandu);
      t.is(Number(match![2]), i + 1);
      if (i === 0) t.regex(match![3] ?? '', kathmandu, 'the next run, in the zone');
      else t.is(match![3] as string | undefined, undefined, 'no next run after the last of --max-runs');
    }
    const logs = logLines(run.stderr());
    const started = logs.find((l) => l.msg === 'scheduler started')!;
    t.is((started.next as string[]).length, 3);
    for (const next of started.next as string[]) {
      t.regex(next, kathmandu);
      t.is(Date.parse(next) % 1000, 0, 'whole seconds, parses back to an instant');
    }
    t.regex(String(logs.find((l) => l.msg === 'run complete')!.next), kathmandu);

    const full = start('schedule', [
      '--cron',
      everySecond,
      '--max-runs',
      '2',
      '--summary',
      'full',
      '--',
      '--input',
      input,
    ]);
    t.is((await full.exited).code, 0, full.stderr());
    t.is((full.stdout().match(/^nnpipe: run complete: 100 rows/gm) ?? []).length, 2, full.stdout());
    t.is((full.stdout().match(/Confusion matrix/g) ?? []).length, 2);

    // The pipeline's own --json and --quiet keep their meaning.
    const json = start('schedule', ['--cron', everySecond, '--max-runs', '2', '--', '--input', input, '--json']);
    t.is((await json.exited).code, 0, json.stderr());
    const reports = json
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; rows: number });
    t.deepEqual(
      reports.map((r) => [r.status, r.rows]),
      [
        ['complete', 100],
        ['complete', 100],
      ],
    );
    // --quiet on both sides: one line per tick and nothing else (the runs' --quiet silences their summary and logs).
    const quiet = start('schedule', [
      '--quiet',
      '--cron',
      everySecond,
      '--max-runs',
      '1',
      '--',
      '--input',
      input,
      '--quiet',
      '--report',
      join(tempDir(), 'r.json'),
    ]);
    t.is((await quiet.exited).code, 0, quiet.stderr());
    t.regex(quiet.stdout(), /^\S+ run 1 \(exit 0\) complete: 100 rows in [^\n]+\n$/);
    t.is(quiet.stderr(), '');
    const quietFull = start('schedule', [
      '--cron',
      everySecond,
      '--max-runs',
      '1',
      '--summary',
      'full',
      '--',
      '--input',
      input,
      '--quiet',
    ]);
    t.is((await quietFull.exited).code, 0, quietFull.stderr());
    t.is(quietFull.stdout(), '', "the full summary is the run's own: --quiet silences it");
  },
);

/** `nnpipe schedule` every second (UTC) for `runs` runs of the pipeline with `args`. */
const scheduleRuns = (runs: number, args: string[]) =>
  start('schedule', ['--cron', everySecond, '--tz', 'UTC', '--max-runs', String(runs), '--', ...args]);

test("a failed run's line says why (no report to summarise)", async (t) => {
  const dir = tempDir();
  const run = scheduleRuns(1, ['--input', join(dir, 'later.csv')]);
  t.is((await run.exited).code, 0, run.stderr());
  t.regex(
    run.stdout(),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 run 1 \(exit 1\) failed \(bad input, model, worker, output\): .*later\.csv: no such file\n$/,
  );
});

test('an --input pattern is expanded at every run: files that arrive later are scored', async (t) => {
  const dir = tempDir();
  const run = scheduleRuns(2, ['--input', join(dir, 'part-*.csv'), '--quiet']);
  await until(() => run.stdout().includes('run 1 '), 30_000, 'the first run');
  copyFileSync(fixture('mnist-test-100.csv'), join(dir, 'part-1.csv'));
  copyFileSync(fixture('mnist-test-100.csv'), join(dir, 'part-2.csv'));
  t.is((await run.exited).code, 0, run.stderr());
  const [first, second] = run.stdout().trimEnd().split('\n');
  t.regex(first, /run 1 \(exit 1\) failed .*part-\*\.csv: no file matches this pattern(; next .*)?$/);
  t.regex(second, /run 2 \(exit 0\) complete: 200 rows/);
});

test('--help lists the exit codes', async (t) => {
  const run = await runNode(cliEntry('schedule'), ['--help']);
  t.is(run.code, 0);
  for (const code of ['0', '1', '2', '3', '75', '130', '143']) t.regex(run.stdout, new RegExp(`^\\s+${code}  `, 'm'));
  t.regex(run.stdout, /--cron "\*\/10 \* \* \* \* \*"/, 'a seconds-level trial (6 fields)');
  t.regex(run.stdout, /--cron "\*\/15 \* \* \* \*"/, 'the 15-minute production cron');
});

// Issue 12, row 17: on a terminal every run added pino-pretty listeners to stderr (a
// MaxListenersExceededWarning by the third run). `script` gives the scheduler a real terminal.
const hasScript = existsSync('/usr/bin/script');
(hasScript ? test.serial : test.skip)(
  'on a terminal, runs share one log stream: no listener piles up over 12 runs (skipped without util-linux script)',
  async (t) => {
    const dir = tempDir();
    const input = join(dir, 'in.csv');
    writeFileSync(input, `${readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').slice(0, 5).join('\n')}\n`);
    const command = [
      process.execPath,
      cliEntry('schedule'),
      '--cron',
      `'${everySecond}'`,
      '--max-runs',
      '12',
      '--',
      '--input',
      input,
      '--quiet',
    ].join(' ');
    const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    t.is(result.status, 0, result.stdout);
    t.is((result.stdout.match(/run complete/g) ?? []).length, 12, result.stdout);
    t.notRegex(result.stdout, /error\W+null/, 'no stray `error: null`');
    t.notRegex(result.stdout, /MaxListenersExceededWarning|memory leak/);
  },
);

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
