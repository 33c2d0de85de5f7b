// Distributed runs on a real redis-server (started here on a free loopback port, stopped at the end) with
// real `nnpipe worker` processes: a 120,000-row job in 12 shards on 3 workers, one SIGKILLed mid-run, gives
// exactly the rows, correct count, confusion matrix and predictions file of one plain run; Redis keeps no
// finished shard job; a changed input fails the run naming the shard's bytes and lines; SIGTERM hands a
// shard back and exits 0; Redis unreachable, or killed while submit waits, ends in exit 69.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineEntry, runPipeline } from '../helpers/cli.js';
import { writeMnistRows } from '../helpers/mnist-rows.js';
import { hasRedisServer, startRedis, type RedisServer } from '../helpers/redis.js';

const queueTest = hasRedisServer ? test.serial : test.serial.skip;
const dir = mkdtempSync(join(tmpdir(), 'nnpipe-queue-'));
const at = (name: string) => join(dir, name);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

let redis: RedisServer;
const workers: WorkerProcess[] = [];
test.before(async () => {
  if (hasRedisServer) redis = await startRedis();
});
test.after.always(async () => {
  for (const worker of workers) worker.child.kill('SIGKILL');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface WorkerProcess {
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

/** A `nnpipe worker` process; its JSON log lines are kept. */
function startWorker(url: string, extra: string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    [pipelineEntry(), 'worker', '--redis', url, '--threads', '1', '--lock-duration', '3000', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const worker: WorkerProcess = {
    child,
    log: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (worker.log += d));
  workers.push(worker);
  return worker;
}

const logLines = (worker: WorkerProcess) =>
  worker.log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A submit process, not awaited: its result when it exits. */
function submit(args: string[]) {
  return runPipeline(['submit', '--redis', redis.url, '--quiet', ...args], { timeoutMs: 300_000 });
}

const counted = (r: Record<string, unknown>) => ({
  status: r.status,
  rows: r.rows,
  labeled: r.labeled,
  correct: r.correct,
  skipped: r.skipped,
  errors: r.errors,
  confusionMatrix: r.confusionMatrix,
  perClass: r.perClass,
});

queueTest(
  '12 shards of 120,000 rows on 3 workers, one SIGKILLed mid-run: exactly the report and predictions of one plain run',
  async (t) => {
    const input = await writeMnistRows(dir, 120_000);
    const plain = await runPipeline(
      ['--input', input, '--quiet', '--report', at('plain.json'), '--predictions', at('plain.csv')],
      { timeoutMs: 180_000 },
    );
    t.is(plain.code, 0, plain.stderr);
    const pool = [startWorker(redis.url), startWorker(redis.url), startWorker(redis.url)];
    await until('3 workers', () => pool.every((w) => w.log.includes('worker started')));
    const submitted = submit([
      '--input',
      input,
      '--shards',
      '12',
      '--report',
      at('run.json'),
      '--predictions',
      at('run.csv'),
    ]);
    // Kill the first worker in the middle of a shard (after it finished one, so that it was really at work).
    const victim = pool[0];
    await until('a shard in progress on the first worker', () => {
      const lines = logLines(victim);
      return lines.filter((l) => l.msg === 'shard done').length >= 1 && lines[lines.length - 1].msg === 'scoring shard';
    });
    const killedShard = logLines(victim).at(-1).shard;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const finishedFirst = logLines(victim).some((l) => l.msg === 'shard done' && l.shard === killedShard);
    t.log(`SIGKILLed the worker scoring shard ${killedShard}${finishedFirst ? ' (it had just finished it)' : ''}`);
    const run = await submitted;
    t.is(run.code, 0, run.stderr);
    const [expected, merged] = [json(at('plain.json')), json(at('run.json'))];
    t.is(expected.rows, 120_000);
    t.deepEqual(counted(merged), counted(expected));
    t.true(
      readFileSync(at('run.csv')).equals(readFileSync(at('plain.csv'))),
      "the predictions file is byte for byte the plain run's",
    );
    // The killed worker's shard was taken over after its lock expired, and counted once.
    const rerun = pool
      .slice(1)
      .flatMap(logLines)
      .filter((l) => l.msg === 'shard done' && l.shard === killedShard);
    t.is(rerun.length, finishedFirst ? 0 : 1, `shard ${killedShard} done once by another worker`);
    t.is(merged.shards.length, 12);
    t.is(
      merged.shards.reduce((n: number, s: { rows: number }) => n + s.rows, 0),
      120_000,
    );
    // Redis keeps the run (for `nnpipe result`) but no finished shard job; the shards' files are gone.
    const keys = await redis.client.keys('nnpipe:shards:*');
    t.deepEqual(
      keys.filter((key) => /:r[0-9a-z]+-[0-9a-f]{8}-s\d+$/.test(key)),
      [],
      'no shard job left in Redis',
    );
    t.deepEqual(
      readdirSync(dir).filter((name) => name.includes('-shard-')),
      [],
      'no shard predictions file left',
    );
    const again = await runPipeline(['result', '--redis', redis.url, '--json', merged.config.runId]);
    t.is(again.code, 0, again.stderr);
    t.deepEqual(counted(JSON.parse(again.stdout)), counted(expected));
    for (const worker of pool.slice(1)) worker.child.kill('SIGTERM');
    t.deepEqual(await Promise.all(pool.slice(1).map((w) => w.exited)), [0, 0]);
  },
);

queueTest(
  'SIGTERM: the worker hands its shard back to the queue and exits 0; another worker finishes the run',
  async (t) => {
    const input = at('mnist-120000.csv');
    const stopping = startWorker(redis.url, ['--stop-timeout', '1']);
    await until('the worker', () => stopping.log.includes('worker started'));
    const submitted = submit(['--input', input, '--shards', '2', '--json']);
    await until('a shard in progress', () => stopping.log.includes('scoring shard'));
    stopping.child.kill('SIGTERM');
    t.is(await stopping.exited, 0);
    t.regex(stopping.log, /shard handed back to the queue/);
    const helper = startWorker(redis.url);
    const run = await submitted;
    t.is(run.code, 0, run.stderr);
    t.deepEqual(counted(JSON.parse(run.stdout)), counted(json(at('plain.json'))));
    helper.child.kill('SIGTERM');
    t.is(await helper.exited, 0);
  },
);

queueTest(
  "an input changed after submit fails its shards and the run, naming the shard's bytes and lines",
  async (t) => {
    const input = await writeMnistRows(dir, 300, 'small.csv');
    const detached = await submit(['--input', input, '--shards', '3', '--detach']);
    t.is(detached.code, 0, detached.stderr);
    const runId = detached.stdout.trim();
    const later = new Date(Date.now() + 120_000);
    utimesSync(input, later, later);
    const worker = startWorker(redis.url);
    const result = await runPipeline(['result', '--redis', redis.url, '--wait', '--quiet', runId], {
      timeoutMs: 120_000,
    });
    t.is(result.code, 1, result.stderr);
    t.regex(
      result.stderr,
      /^nnpipe result: shard 1\/3 \(bytes 0-\d+, lines 1-\d+\) failed: .*small\.csv: the input changed before scoring: it is \d+ bytes modified .*, the run was submitted for \d+ bytes modified /m,
    );
    worker.child.kill('SIGTERM');
    await worker.exited;
  },
);

queueTest(
  "--predictions-format jsonl --probabilities across machines: the merged file is the plain run's, byte for byte; " +
    '--predictions - is refused',
  async (t) => {
    const input = await writeMnistRows(dir, 300, 'layout.csv');
    const plain = await runPipeline([
      '--input',
      input,
      '--quiet',
      '--predictions',
      at('layout-plain.jsonl'),
      '--probabilities',
    ]);
    t.is(plain.code, 0, plain.stderr);
    const worker = startWorker(redis.url);
    const run = await submit([
      '--input',
      input,
      '--shards',
      '3',
      '--predictions',
      at('layout-run.jsonl'),
      '--probabilities',
    ]);
    t.is(run.code, 0, run.stderr);
    t.is(readFileSync(at('layout-run.jsonl'), 'utf8'), readFileSync(at('layout-plain.jsonl'), 'utf8'));
    const refused = await submit(['--input', input, '--shards', '2', '--predictions', '-']);
    t.is(refused.code, 2);
    t.regex(refused.stderr, /--predictions - does not apply to a run across machines/);
    worker.child.kill('SIGTERM');
    await worker.exited;
  },
);

queueTest('Redis killed while submit waits: exit 69 with a clear message, no hang', async (t) => {
  const input = at('small.csv');
  const shardJobs = async () =>
    (await redis.client.keys('nnpipe:shards:*')).filter((key) => /:r[0-9a-z]+-[0-9a-f]{8}-s\d+$/.test(key));
  const before = new Set(await shardJobs());
  const submitted = submit(['--input', input, '--shards', '2', '--redis-timeout', '2000']);
  // Submitted (its shard jobs are in Redis) and no worker: it waits. A slow start must not turn this into
  // "cannot reach Redis".
  const deadline = Date.now() + 60_000;
  while (!(await shardJobs()).some((key) => !before.has(key))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the run to be submitted');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  redis.kill();
  const started = Date.now();
  const run = await submitted;
  t.is(run.code, 69, run.stderr);
  t.regex(run.stderr, /nnpipe submit: lost Redis at redis:\/\/127\.0\.0\.1:\d+\/?: no answer for \d+ s/);
  t.true(Date.now() - started < 30_000, 'gave up within the grace period, not a hang');
});

queueTest('Redis unreachable: submit, result and worker exit 69 at once', async (t) => {
  const url = `redis://127.0.0.1:${redis.port}`; // killed by the test before
  for (const args of [
    ['submit', '--redis', url, '--input', at('small.csv'), '--shards', '2'],
    ['result', '--redis', url, 'rabc-0123abcd'],
    ['worker', '--redis', url],
  ]) {
    const run = await runPipeline(args, { timeoutMs: 30_000 });
    t.is(run.code, 69, `${args[0]}: ${run.stderr}`);
    t.regex(run.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/?: ECONNREFUSED/);
  }
});
