// The Piscina task: a batch of normalised rows in, predicted class and confidence per row out.
// The weights arrive once per worker as a SharedArrayBuffer (workerData) and are handed to the forward
// engine (WebAssembly SIMD when built, else the JavaScript kernel; src/nn/kernels), which keeps its own
// reusable buffers, so a batch costs no allocation beyond its result arrays.
import { Piscina } from 'piscina';
import { threadId } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { createForwardEngine, type KernelKind } from '../src/nn/kernels/index.js';
import { networkFromShared, type SharedNetwork } from '../src/pool/shared-network.js';
import type { ForwardResult, ForwardTask } from '../src/pool/task-types.js';

export interface ForwardWorkerData {
  network: SharedNetwork;
  /** Expected rows per batch, to size the engine's buffers up front. */
  batchSize: number;
  kernel: KernelKind;
}

const data = Piscina.workerData as ForwardWorkerData;
const network = networkFromShared(data.network);
const outputs = network.layers[network.layers.length - 1].W.cols;
const features = network.layers[0].W.rows;
// Top-level await: the worker is loaded with import() (workers/esm-entry.cts), so this is allowed and
// Piscina starts sending tasks only once the engine (and its WebAssembly module) is ready.
const engine = await createForwardEngine(network, { maxRows: data.batchSize, kind: data.kernel });

/** Wraps a result so that Piscina transfers its buffers back instead of cloning them. */
function transferring(result: ForwardResult): unknown {
  const buffers: ArrayBuffer[] = [];
  if (result.ok) {
    buffers.push(result.predicted.buffer as ArrayBuffer, result.confidence.buffer as ArrayBuffer, result.x.buffer as ArrayBuffer);
    if (result.probabilities) buffers.push(result.probabilities.buffer as ArrayBuffer);
  }
  return Piscina.move({
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: result,
  } as unknown as ArrayBuffer);
}

export default function runForwardTask(task: ForwardTask): unknown {
  const { batchIndex, rows, x } = task;
  if (!(x instanceof Float32Array) || x.length !== rows * features) {
    return transferring({
      ok: false,
      batchIndex,
      code: 'PIPE_ERR_TASK_SHAPE',
      message: `batch ${batchIndex}: expected ${rows} x ${features} floats, got ${x?.length}`,
      threadId,
    });
  }
  const started = performance.now();
  const predicted = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  const probabilities = task.wantProbabilities ? new Float32Array(rows * outputs) : null;
  engine.predict(x, rows, predicted, confidence, probabilities ?? undefined);
  const computeMs = performance.now() - started;
  return transferring({ ok: true, batchIndex, rows, predicted, confidence, probabilities, computeMs, threadId, x, kernel: engine.kind });
}
