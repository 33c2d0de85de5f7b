// A gradient worker with an injected fault (tests only), to check that a failing worker fails the run
// instead of hanging it. 'message' hand-off: gradient tasks fail after a few. 'atomics' hand-off: the
// loop claims a shard of the first step and dies without finishing it, so the main thread is left
// waiting for a shard that will never be done - the worst case for a hang. Evaluation works.
import { Piscina } from 'piscina';
import runTrainingTask from '../../workers/gradient.js';
import {
  LOCK_CLAIM,
  LOCK_LOCKED,
  LOCK_SHARDS,
  LOCK_STOP,
  type GradientWorkerData,
  type TrainingTask,
} from '../../src/train/gradient-task.js';

let tasks = 0;

export default function faultyTrainingTask(task: TrainingTask): unknown {
  if (task.kind === 'gradient' && ++tasks > 3) throw new Error('injected fault');
  if (task.kind === 'lockstep') {
    const control = (Piscina.workerData as GradientWorkerData).lockstep!.control;
    for (;;) {
      const claim = Atomics.load(control, LOCK_CLAIM);
      if (claim === LOCK_STOP) throw new Error('stopped before the fault was injected');
      if (claim === LOCK_LOCKED || (claim & 0xffff) >= Atomics.load(control, LOCK_SHARDS)) {
        Atomics.wait(control, LOCK_CLAIM, claim, 50);
        continue;
      }
      if (Atomics.compareExchange(control, LOCK_CLAIM, claim, claim + 1) === claim) throw new Error('injected fault');
    }
  }
  return runTrainingTask(task);
}
