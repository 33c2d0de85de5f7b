// The pool moves batch buffers to the workers (transfer, not copy) and the pipeline never has more
// than --max-in-flight batches outstanding.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardPool, type ScoredBatch } from '../../src/pool/forward-pool.js';
import { loadNativeKernel } from '../../src/nn/kernels/index.js';
import { loadModel } from '../../src/nn/load-model.js';
import { forward } from '../../src/nn/forward.js';
import type { Batch, WorkItem } from '../../src/data/types.js';
import type { ResultOptions } from '../../src/pool/task-types.js';
import { runInference } from '../../pipelines/inference.js';
import { fixture } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-pool-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 12, 10], 3).then((p) => loadModel(p));

function makeBatch(index: number, rows: number): Batch {
  const x = new Float32Array(rows * 784);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919 + index) % 256) / 255;
  return { index, rows, features: 784, x, labels: new Int16Array(rows).fill(-1), lines: Uint32Array.from({ length: rows }, (_, i) => i + 1) };
}

test('a batch buffer is transferred to the worker (detached here), and the results match the reference', async (t) => {
  const model = await modelReady;
  // The js engine is bit-identical to the reference forward pass (the wasm one agrees within 1e-5).
  const pool = new ForwardPool({ network: model.network, threads: 1, batchSize: 5, kernel: 'js' });
  try {
    const batch = makeBatch(0, 5);
    const copy = batch.x.slice();
    const scored = await pool.run(batch, { probabilities: true });
    t.is(batch.x.byteLength, 0, 'the Float32Array was detached by the transfer');
    const expected = forward(model.network, copy, 5);
    t.deepEqual(Array.from(scored.probabilities!), Array.from(expected));
    t.is(scored.rows, 5);
    t.true(scored.computeMs >= 0 && scored.latencyMs >= scored.computeMs);
  } finally {
    await pool.close();
  }
});

/** A pool that counts how many batches are outstanding at once. */
class CountingPool extends ForwardPool {
  active = 0;
  worst = 0;
  override async run(batch: WorkItem, want: ResultOptions = {}): Promise<ScoredBatch> {
    this.active++;
    this.worst = Math.max(this.worst, this.active);
    try {
      await new Promise((r) => setTimeout(r, 2)); // slower than reading, so the limit is what holds reading back
      return await super.run(batch, want);
    } finally {
      this.active--;
    }
  }
}

for (const maxInFlight of [1, 3]) {
  test(`the pipeline keeps at most --max-in-flight ${maxInFlight} batches outstanding`, async (t) => {
    const model = await modelReady;
    const pool = new CountingPool({ network: model.network, threads: 2, batchSize: 4 });
    try {
      const { report } = await runInference({
        input: fixture('mnist-test-100.csv'),
        model,
        batchSize: 4,
        threads: 2,
        maxInFlight,
        normalize: 'unit',
        limit: null,
        onError: 'fail',
        predictionsPath: null,
        config: {},
        pool,
      });
      t.is(report.status, 'complete');
      t.is(report.rows, 100);
      t.is(report.batches, 25);
      t.is(pool.worst, maxInFlight);
    } finally {
      await pool.close();
    }
  });
}

test('the default worker is the bundled one (when the build made it), and it finds its kernel beside it (native where the addon is built, else WebAssembly)', async (t) => {
  const { forwardWorkerFile } = await import('../../src/pool/worker-files.js');
  t.regex(forwardWorkerFile().pathname, /\/bundle\/forward-worker\.mjs$/);
  const model = await modelReady;
  const pool = new ForwardPool({ network: model.network, threads: 1, batchSize: 4 });
  try {
    const outcome = await runInference({
      input: fixture('mnist-test-100.csv'), model, batchSize: 4, threads: 1, maxInFlight: 2, normalize: 'unit', limit: null,
      onError: 'fail', decode: 'workers', predictionsPath: null, config: {}, pool,
    });
    t.is(outcome.report.status, 'complete');
    t.is(outcome.report.rows, 100);
    t.is(outcome.report.model.kernel, loadNativeKernel().ok ? 'native' : 'wasm');
  } finally {
    await pool.close();
  }
});
