// The pool: tasks read their rows in shared memory (nothing is transferred or copied to send them), the
// results match the reference forward pass, threads 0 runs the same tasks on this thread, and the
// pipeline never has more than --max-in-flight tasks outstanding.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardPool } from '../../src/pool/forward-pool.js';
import { loadNativeKernel } from '../../src/nn/kernels/index.js';
import { loadModel } from '../../src/nn/load-model.js';
import { forward } from '../../src/nn/forward.js';
import { resultViews, ResultSlots } from '../../src/pool/result-slots.js';
import type { ForwardResult, ForwardTask, Scored } from '../../src/pool/task-types.js';
import { runInference } from '../../pipelines/inference.js';
import { fixture } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-pool-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 12, 10], 3).then((p) => loadModel(p));

const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));

function sharedRows(index: number, rows: number): Float32Array {
  const x = new Float32Array(new SharedArrayBuffer(rows * 784 * 4));
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919 + index) % 256) / 255;
  return x;
}

for (const threads of [1, 0]) {
  test(
    `threads ${threads}: a batch is read in place (shared memory, not detached), scores as the reference does, ` +
      `its predictions in its result slot`,
    async (t) => {
      const model = await modelReady;
      // The js engine is bit-identical to the reference forward pass (the wasm one agrees within 1e-5).
      const pool = new ForwardPool({ network: model.network, threads, batchSize: 5, maxInFlight: 2, kernel: 'js' });
      try {
        const x = sharedRows(0, 5);
        const out = new ResultSlots(5).acquire();
        const task: ForwardTask = {
          kind: 'score-batches',
          network: pool.shared,
          batches: [{ index: 0, rows: 5, x, out }],
          want: { probabilities: true },
        };
        const [scored] = ((await pool.run(task)) as Scored).items;
        t.is(x.length, 5 * 784, 'still there after the task');
        t.deepEqual(Array.from(scored.probabilities!), Array.from(forward(model.network, x.slice(), 5)));
        t.is(scored.rows, 5);
        t.true(scored.computeMs >= 0);
        const { predicted } = resultViews(out, 5);
        t.deepEqual(
          Array.from(predicted),
          Array.from({ length: 5 }, (_, r) =>
            argmax(forward(model.network, x.slice(), 5).subarray(r * 10, r * 10 + 10)),
          ),
        );
      } finally {
        await pool.close();
      }
    },
  );
}

function lineByLine(path: string): Readable {
  const lines = readFileSync(path, 'utf8').split(/(?<=\n)/);
  let next = 0;
  return new Readable({
    read() {
      setImmediate(() => this.push(next < lines.length ? lines[next++] : null));
    },
  });
}

/** A pool that counts how many tasks are outstanding at once. */
class CountingPool extends ForwardPool {
  active = 0;
  worst = 0;
  override async run(task: ForwardTask, signal?: AbortSignal): Promise<ForwardResult> {
    this.active++;
    this.worst = Math.max(this.worst, this.active);
    try {
      await new Promise((r) => setTimeout(r, 2)); // slower than reading, so the limit is what holds reading back
      return await super.run(task, signal);
    } finally {
      this.active--;
    }
  }
}

for (const maxInFlight of [1, 3]) {
  for (const onError of ['fail', 'skip'] as const) {
    test(
      `the pipeline keeps at most --max-in-flight ${maxInFlight} tasks outstanding (--on-error ` + `${onError})`,
      async (t) => {
        const model = await modelReady;
        const pool = new CountingPool({ network: model.network, threads: 2, batchSize: 4, maxInFlight });
        try {
          const { report } = await runInference({
            // A line per read: tasks of one batch each, so that the limit is what holds reading back.
            input: '-',
            stdin: lineByLine(fixture('mnist-test-100.csv')),
            model,
            batchSize: 4,
            threads: 2,
            maxInFlight,
            normalize: 'unit',
            limit: null,
            onError,
            predictionsPath: null,
            config: {},
            pool,
          });
          t.is(report.status, 'complete');
          t.is(report.rows, 100);
          t.is(report.batches, 25);
          // Under skip the rows are decoded, then scored: two stages, each bounded by the limit.
          t.true(pool.worst <= (onError === 'fail' ? maxInFlight : 2 * maxInFlight), `${pool.worst} outstanding`);
          t.true(pool.worst >= Math.min(maxInFlight, 2), `${pool.worst} outstanding: the limit is used`);
        } finally {
          await pool.close();
        }
      },
    );
  }
}

test(
  'the default worker is the bundled one (when the build made it), and it finds its kernel beside it (native ' +
    'where the addon is ' +
    'built, else WebAssembly)',
  async (t) => {
    const { forwardWorkerFile } = await import('../../src/pool/worker-files.js');
    t.regex(forwardWorkerFile().pathname, /\/bundle\/forward-worker\.mjs$/);
    const model = await modelReady;
    const pool = new ForwardPool({ network: model.network, threads: 1, batchSize: 4, maxInFlight: 2 });
    try {
      const outcome = await runInference({
        input: fixture('mnist-test-100.csv'),
        model,
        batchSize: 4,
        threads: 1,
        maxInFlight: 2,
        normalize: 'unit',
        limit: null,
        onError: 'fail',
        decode: 'workers',
        predictionsPath: null,
        config: {},
        pool,
      });
      t.is(outcome.report.status, 'complete');
      t.is(outcome.report.rows, 100);
      t.is(outcome.report.model.kernel, loadNativeKernel().ok ? 'native' : 'wasm');
      t.is(outcome.report.input.decode, 'workers');
    } finally {
      await pool.close();
    }
  },
);
