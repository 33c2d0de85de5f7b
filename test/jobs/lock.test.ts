// The run lock: two runs that would write the same output never overlap; the second one is refused at
// once with a message naming the file and the holder, and exit 75. A lock left by a dead process is
// taken over once it is stale.
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../src/errors.js';
import { LockHeldError, RunLock } from '../../src/jobs/run-lock.js';
import { removeTempDirs, slowRunArgs, start, tempDir } from './helpers.js';

test.after.always(removeTempDirs);

test.serial(
  'two concurrent runs on the same report: one completes, the other is refused at once with exit 75',
  async (t) => {
    const dir = tempDir();
    mkdirSync(join(dir, 'reports'));
    const report = join(dir, 'reports', 'latest.json');
    const a = start('pipeline', [...slowRunArgs(3000), '--report', report]);
    const b = start('pipeline', [...slowRunArgs(3000), '--report', report]);
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    const results = [
      { run: a, code: ea.code, at: ea.at },
      { run: b, code: eb.code, at: eb.at },
    ].sort((x, y) => (x.code ?? 0) - (y.code ?? 0));
    t.deepEqual(
      results.map((r) => r.code),
      [0, ExitCode.lockHeld],
      `${a.stderr()}\n${b.stderr()}`,
    );
    const [winner, loser] = results;
    t.regex(
      loser.run.stderr(),
      new RegExp(
        `^nnpipe: another nnpipe run holds the lock on ${report.replace(/[.]/g, '\\.')} \\(pid ` +
          `${winner.run.child.pid}, since \\d{4}-\\d\\d-\\d\\dT[^)]+\\)\\n$`,
      ),
    );
    t.true(loser.at < winner.at, 'the refused run did not wait for the other one');
    t.is(JSON.parse(readFileSync(report, 'utf8')).status, 'complete');
    t.false(existsSync(`${report}.lock`), 'released');
    t.false(existsSync(`${report}.lock-owner`), 'owner file removed');
  },
);

test.serial('sharing only the history file is a conflict too', async (t) => {
  const dir = tempDir();
  const history = join(dir, 'history.jsonl');
  const a = start('pipeline', [...slowRunArgs(3000), '--report', join(dir, 'a.json'), '--history', history]);
  const b = start('pipeline', [...slowRunArgs(3000), '--report', join(dir, 'b.json'), '--history', history]);
  const codes = (await Promise.all([a.exited, b.exited])).map((e) => e.code).sort((x, y) => (x ?? 0) - (y ?? 0));
  t.deepEqual(codes, [0, 75], `${a.stderr()}\n${b.stderr()}`);
  t.regex(a.stderr() + b.stderr(), /holds the lock on .*history\.jsonl/);
  // The refused run is not recorded (it did not hold the lock); the other one is.
  t.is(readFileSync(history, 'utf8').trimEnd().split('\n').length, 1);
});

test('in one process: a second lock on the same file is refused; different files do not conflict', async (t) => {
  const dir = tempDir();
  const first = await RunLock.acquire([{ path: join(dir, 'r.json') }, { path: join(dir, 'h.jsonl') }]);
  const error = await t.throwsAsync(
    RunLock.acquire([{ path: join(dir, 'x.json') }, { path: join(dir, 'sub', '..', 'h.jsonl') }]),
    {
      instanceOf: LockHeldError,
    },
  );
  t.is(error?.exitCode, 75);
  t.is(error?.code, 'PIPE_ERR_LOCKED');
  t.is(error?.owner?.pid, process.pid);
  // All or nothing: the lock on x.json taken before the conflict was released again.
  t.false(existsSync(join(dir, 'x.json.lock')));
  const other = await RunLock.acquire([{ path: join(dir, 'other.json') }]);
  await other.release();
  await first.release();
  await first.release(); // twice is fine
  const again = await RunLock.acquire([{ path: join(dir, 'h.jsonl') }]);
  await again.release();
});

test('a stale lock (its holder died without cleaning up) is taken over', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'r.json');
  mkdirSync(`${path}.lock`);
  writeFileSync(
    `${path}.lock-owner`,
    JSON.stringify({ pid: 999999, host: 'elsewhere', since: '2020-01-01T00:00:00.000Z' }),
  );
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${path}.lock`, old, old);
  const lock = await RunLock.acquire([{ path }], { staleMs: 30_000 });
  t.is(JSON.parse(readFileSync(`${path}.lock-owner`, 'utf8')).pid, process.pid);
  await lock.release();
  t.false(existsSync(`${path}.lock`));
});

test('a fresh lock with an unknown holder is refused and says so', async (t) => {
  const dir = tempDir();
  const path = join(dir, 'r.json');
  mkdirSync(`${path}.lock`);
  const error = await t.throwsAsync(RunLock.acquire([{ path }]), { instanceOf: LockHeldError });
  t.regex(error!.message, /holds the lock on .*r\.json \(holder unknown: .*r\.json\.lock exists\)/);
});
