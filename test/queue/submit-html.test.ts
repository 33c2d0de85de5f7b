// `nnpipe submit --html` on a real redis-server with one real `nnpipe worker`: the shard jobs keep their
// page data, the run's merge writes the page, and it shows the images and counts of one plain run's page.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineEntry, runPipeline } from '../helpers/cli.js';
import { writeMnistRows } from '../helpers/mnist-rows.js';
import { hasRedisServer, startRedis, type RedisServer } from '../helpers/redis.js';
import { pageContent } from '../html/page-data.js';

const queueTest = hasRedisServer ? test.serial : test.serial.skip;
const dir = mkdtempSync(join(tmpdir(), 'nnpipe-queue-html-'));
const at = (name: string) => join(dir, name);

let redis: RedisServer;
let worker: { child: ChildProcess; log: string; exited: Promise<number | null> } | null = null;
test.before(async () => {
  if (hasRedisServer) redis = await startRedis();
});
test.after.always(async () => {
  worker?.child.kill('SIGKILL');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(url: string) {
  const child = spawn(process.execPath, [pipelineEntry(), 'worker', '--redis', url, '--threads', '1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const started = {
    child,
    log: '',
    exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (started.log += d));
  return started;
}

queueTest('submit --html in 3 shards: the merged page shows the images and counts of one plain run', async (t) => {
  const input = await writeMnistRows(dir, 3000);
  const plain = await runPipeline(['--input', input, '--quiet', '--html', at('plain.html')], { timeoutMs: 120_000 });
  t.is(plain.code, 0, plain.stderr);
  worker = startWorker(redis.url);
  const run = await runPipeline(
    [
      'submit',
      '--redis',
      redis.url,
      '--quiet',
      '--input',
      input,
      '--shards',
      '3',
      '--report',
      at('run.json'),
      '--html',
      at('run.html'),
    ],
    { timeoutMs: 180_000 },
  );
  t.is(run.code, 0, `${run.stderr}\n${worker.log}`);
  t.deepEqual(pageContent(readFileSync(at('run.html'), 'utf8')), pageContent(readFileSync(at('plain.html'), 'utf8')));
  t.regex(readFileSync(at('run.html'), 'utf8'), /Merged from 3 shards/);
  const report = JSON.parse(readFileSync(at('run.json'), 'utf8'));
  t.is(report.config.html, at('run.html'));
  worker.child.kill('SIGTERM');
  t.is(await worker.exited, 0);
});
