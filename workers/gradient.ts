// The Piscina task of training: the gradients of a step's shards (or, with the atomics hand-off, a
// loop computing shards until told to stop; or the number of correctly classified images of an
// evaluation chunk). Weights, images and the epoch's order arrive once per worker as
// SharedArrayBuffers (workerData); gradient buffers arrive with the task and go back transferred, so a
// step copies nothing but a few numbers.
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import {
  GradientTaskRunner,
  type GradientWorkerData,
  type TrainingTask,
  type TrainingTaskResult,
} from '../src/train/gradient-task.js';

const runner = new GradientTaskRunner(Piscina.workerData as GradientWorkerData);

/** Wraps a result so that Piscina transfers the gradient buffers back instead of cloning it. */
function transferring(result: TrainingTaskResult): unknown {
  const buffers = result.ok && result.kind === 'gradient' ? result.grads.map((g) => g.buffer as ArrayBuffer) : [];
  return Piscina.move({
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: result,
  } as unknown as ArrayBuffer);
}

export default function runTrainingTask(task: TrainingTask): unknown {
  let result: TrainingTaskResult;
  try {
    result = runner.run(task, () => performance.now());
  } catch (error) {
    // Codes do not survive a thrown Error's trip through postMessage; a failure result keeps them.
    result = { ok: false, code: 'PIPE_ERR_WORKER', message: (error as Error).message };
  }
  return transferring(result);
}
