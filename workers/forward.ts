// The forward worker's entry file: Piscina runs its default export for every task (src/pool/forward-task.ts
// does the work). The weights arrive with the tasks, in shared memory; the kernels (the native addon, the
// WebAssembly module) load here once, before the first task (top-level await: the worker is loaded with
// import(), see esm-entry.cts).
import { Piscina } from 'piscina';
import { parentPort } from 'node:worker_threads';
import { prepareForwardKernels, type KernelKind } from '../src/nn/kernels/index.js';
import { resultBuffers, TaskRunner } from '../src/pool/forward-task.js';
import type { ForwardTask } from '../src/pool/task-types.js';

export interface ForwardWorkerData {
  /** Rows per forward pass, to size the engine's buffers up front. */
  batchSize: number;
  kernel: KernelKind;
}

const data = Piscina.workerData as ForwardWorkerData;
const runner = new TaskRunner({
  batchSize: data.batchSize,
  kernel: data.kernel,
  kernelLoad: await prepareForwardKernels(data.kernel),
});
// The pool starts its task clocks once every worker is up (src/pool/forward-pool.ts `ready`).
parentPort?.postMessage({ nnpipeWorkerReady: true });

export default function runForwardTask(task: ForwardTask): unknown {
  const result = runner.run(task);
  // Piscina transfers what a "transferable" lists instead of cloning it.
  return Piscina.move({
    [Piscina.transferableSymbol]: resultBuffers(result),
    [Piscina.valueSymbol]: result,
  } as unknown as ArrayBuffer);
}
