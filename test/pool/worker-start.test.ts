// Starting the workers: each one loads its module and kernels as soon as it starts, not when its first
// task arrives (a worker waiting for tasks in Atomics.wait() runs nothing else), and a worker module that
// cannot load fails the tasks sent to it instead of leaving them waiting.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardPool } from '../../src/pool/forward-pool.js';
import { runTask } from '../../src/pool/faults.js';
import { loadModel } from '../../src/nn/load-model.js';
import type { ForwardTask } from '../../src/pool/task-types.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-start-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 12, 10], 3).then((p) => loadModel(p));

/** `promise`, or 'timed out' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('every worker is ready (module and kernels loaded) before any task is sent', async (t) => {
  const { network } = await modelReady;
  const pool = new ForwardPool({ network, threads: 2, batchSize: 10, maxInFlight: 2 });
  try {
    t.is(await within(pool.ready, 30_000), undefined);
  } finally {
    await pool.close();
  }
});

test('a worker module that cannot load fails the task twice, with its error, and does not wait', async (t) => {
  const { network } = await modelReady;
  const pool = new ForwardPool({
    network,
    threads: 1,
    batchSize: 10,
    maxInFlight: 2,
    workerFile: new URL('../fixtures/workers/unloadable.js', import.meta.url),
  });
  try {
    const task: ForwardTask = { kind: 'score-batches', network: pool.shared, batches: [], want: {} };
    const attempt = runTask(pool, task, { taskTimeoutMs: 60_000, describe: () => 'batch 0' }).catch((e: Error) => e);
    const error = await within(attempt, 30_000);
    t.true(error instanceof Error, String(error));
    t.is((error as { code?: string }).code, 'PIPE_ERR_WORKER');
    t.regex((error as Error).message, /batch 0 failed twice in a worker: .*this worker module cannot load/);
  } finally {
    await pool.close();
  }
});
