// The Piscina task: a batch in, predicted class and confidence per row out. A batch arrives either as
// normalised rows (decoded on the main thread) or as raw CSV lines that this worker decodes first
// (src/data/fast-csv/block.ts), so that decoding runs on every core.
// The weights arrive once per worker as a SharedArrayBuffer (workerData) and are handed to the forward
// engine (WebAssembly SIMD when built, else the JavaScript kernel; src/nn/kernels), which keeps its own
// reusable buffers.
import { Piscina } from 'piscina';
import { threadId } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { createForwardEngineSync, loadForwardKernel, type ForwardEngine, type KernelKind } from '../src/nn/kernels/index.js';
import { decodeBlock } from '../src/data/fast-csv/block.js';
import { networkFromShared, type SharedNetwork } from '../src/pool/shared-network.js';
import type { ForwardFailure, ForwardResult, ForwardSuccess, ForwardTask } from '../src/pool/task-types.js';

export interface ForwardWorkerData {
  /** Expected rows per batch, to size the engine's buffers up front. */
  batchSize: number;
  kernel: KernelKind;
}

const data = Piscina.workerData as ForwardWorkerData;
// Top-level await: the worker is loaded with import() (workers/esm-entry.cts), so this is allowed and
// Piscina sends tasks only once the WebAssembly kernel is compiled. The pool starts before the model is
// known (its workers boot while the main thread loads the model and opens the input), so the network
// comes with the tasks: a SharedArrayBuffer, shared (not copied); the engine is built on first use.
const kernel = data.kernel === 'js' ? null : await loadForwardKernel();

interface Current {
  id: string;
  engine: ForwardEngine;
  features: number;
  outputs: number;
}
let current: Current | null = null;

function engineFor(shared: SharedNetwork): Current {
  if (current?.id !== shared.id) {
    const network = networkFromShared(shared);
    current = {
      id: shared.id,
      engine: createForwardEngineSync(network, { maxRows: data.batchSize, kind: data.kernel }, kernel),
      features: network.layers[0].W.rows,
      outputs: network.layers[network.layers.length - 1].W.cols,
    };
  }
  return current;
}

/** Wraps a result so that Piscina transfers its buffers back instead of cloning them. */
function transferring(result: ForwardResult): unknown {
  const buffers: ArrayBuffer[] = [];
  if (result.ok) {
    for (const view of [result.predicted, result.confidence, result.x, result.probabilities, result.labels, result.lines]) {
      if (view) buffers.push(view.buffer as ArrayBuffer);
    }
  }
  return Piscina.move({
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: result,
  } as unknown as ArrayBuffer);
}

const failure = (batchIndex: number, code: string, message: string): ForwardFailure => ({ ok: false, batchIndex, code, message, threadId });

function score(task: ForwardTask, x: Float32Array, rows: number, started: number): Omit<ForwardSuccess, 'labels' | 'lines' | 'rowErrors'> {
  const { engine, outputs } = engineFor(task.network);
  const predicted = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  const probabilities = task.want.probabilities ? new Float32Array(rows * outputs) : null;
  if (rows > 0) engine.predict(x, rows, predicted, confidence, probabilities ?? undefined);
  // The pixels go back only when asked for: otherwise the main thread would collect a buffer per batch.
  const pixels = task.want.pixels ? x : new Float32Array(0);
  return { ok: true, batchIndex: task.batchIndex, rows, predicted, confidence, probabilities, computeMs: performance.now() - started, threadId, kernel: engine.kind, x: pixels };
}

export default function runForwardTask(task: ForwardTask): unknown {
  const started = performance.now();
  if (task.kind === 'block') {
    let decoded;
    try {
      decoded = decodeBlock(task.bytes, task.firstLine, task.batchIndex, task.spec);
    } catch (error) {
      // A quoted field that runs past its line end: only the streaming decoder can read that record.
      return transferring(failure(task.batchIndex, 'PIPE_ERR_BLOCK_DECODE', (error as Error).message));
    }
    const batch = decoded.batch;
    const x = batch?.x ?? new Float32Array(0);
    return transferring({
      ...score(task, x, batch?.rows ?? 0, started),
      labels: batch?.labels ?? new Int16Array(0),
      lines: batch?.lines ?? new Uint32Array(0),
      rowErrors: decoded.errors,
    });
  }
  const { batchIndex, rows, x } = task;
  const { features } = engineFor(task.network);
  if (!(x instanceof Float32Array) || x.length !== rows * features) {
    return transferring(failure(batchIndex, 'PIPE_ERR_TASK_SHAPE', `batch ${batchIndex}: expected ${rows} x ${features} floats, got ${x?.length}`));
  }
  return transferring({ ...score(task, x, rows, started), labels: null, lines: null, rowErrors: [] });
}
