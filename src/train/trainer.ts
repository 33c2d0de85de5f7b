// The training loop: epochs of shuffled mini-batches; each mini-batch split into shards of a FIXED
// size, the shards' gradients computed by the backend (in parallel on the pool) and summed in shard
// order, then one optimiser step on the shared weights. Because the shard layout depends only on the
// batch size and `shardRows` - never on the number of threads or on which shard finishes first - the
// weights are the same bits with 1 thread, 2 threads or in-process.
import { performance } from 'node:perf_hooks';
import type { Network } from '../nn/types.js';
import type { TrainingBackend } from './backend.js';
import type { EvaluateTask, Shard } from './gradient-task.js';
import { lrFactor, type Optimizer } from './optimizers.js';
import type { Xoshiro128StarStar } from './prng.js';

export interface EpochStats {
  epoch: number;
  epochs: number;
  /** Mean cross-entropy over the epoch's mini-batches (each measured before its update). */
  trainLoss: number;
  /** Share of the epoch's images classified correctly by the weights of their step (a running figure). */
  trainAccuracy: number;
  /** Test-set accuracy after the epoch, with the inference forward pass. */
  testAccuracy: number;
  /** Training images per second over the epoch's steps (evaluation excluded). */
  imagesPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
}

export type TrainingEvent =
  | { type: 'epoch-start'; epoch: number; epochs: number; images: number }
  | { type: 'progress'; epoch: number; imagesDone: number; images: number }
  | { type: 'epoch'; stats: EpochStats }
  | { type: 'final-evaluation'; split: 'train' | 'test' };

export interface TrainingLoopOptions {
  /** Views over the shared weights (already initialised) and their flat float32 form. */
  network: Network;
  flat: Float32Array;
  backend: TrainingBackend;
  optimizer: Optimizer;
  rng: Xoshiro128StarStar;
  trainCount: number;
  testCount: number;
  epochs: number;
  batchSize: number;
  /** Rows per gradient shard (the last shard of a batch may be shorter). Fixes the summation order. */
  shardRows: number;
  /** Largest random translation of the training images in pixels (0 = no augmentation). */
  maxShift: number;
  /** Rows per evaluation task. */
  evalRows: number;
  onEvent?: (event: TrainingEvent) => void;
  /** Stops after the current step; the loop then throws signal.reason. */
  signal?: AbortSignal;
  /** Emit a progress event at most every this many ms (default 100). */
  progressIntervalMs?: number;
}

export interface TrainingOutcome {
  history: EpochStats[];
  /** Accuracy of the final weights on the whole training set (inference forward pass). */
  finalTrainAccuracy: number;
  finalTestAccuracy: number;
  steps: number;
  trainSeconds: number;
}

/** The shards of rows [start, start + rows): consecutive blocks of shardRows. */
export function shardLayout(start: number, rows: number, shardRows: number): Shard[] {
  const shards: Shard[] = [];
  for (let offset = 0; offset < rows; offset += shardRows)
    shards.push({ start: start + offset, rows: Math.min(shardRows, rows - offset) });
  return shards;
}

/** A new order of the images for an epoch and, with augmentation, one translation per order position. */
function shuffleEpoch(
  backend: TrainingBackend,
  rng: TrainingLoopOptions['rng'],
  trainCount: number,
  maxShift: number,
): void {
  const { order } = backend;
  for (let i = 0; i < trainCount; i++) order[i] = i;
  rng.shuffle(order, trainCount);
  if (maxShift > 0) {
    // Drawn after the shuffle from the same generator.
    const translations = (2 * maxShift + 1) ** 2;
    for (let i = 0; i < trainCount; i++) backend.shifts[i] = rng.nextBelow(translations);
  }
}

/**
 * The shards' gradients summed in a fixed order, ((g0 + g1) + g2) + ..., into g0: the same bits for any thread count.
 */
function sumInOrder(grads: Float64Array[]): Float64Array {
  const sum = grads[0];
  for (let s = 1; s < grads.length; s++) {
    const g = grads[s];
    for (let i = 0; i < sum.length; i++) sum[i] += g[i];
  }
  return sum;
}

export async function runTrainingLoop(options: TrainingLoopOptions): Promise<TrainingOutcome> {
  const { backend, optimizer, rng, flat, trainCount, epochs, batchSize, shardRows, signal } = options;
  const emit = options.onEvent ?? (() => undefined);
  const progressInterval = options.progressIntervalMs ?? 100;
  if (shardRows < 1 || batchSize < 1 || epochs < 1 || trainCount < 1)
    throw new RangeError('training needs positive epochs, batch size, shard size and images');

  const history: EpochStats[] = [];
  let step = 0;
  let trainSeconds = 0;
  backend.publish(step);
  const stepsPerEpoch = Math.ceil(trainCount / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const schedule = optimizer.settings.schedule ?? 'constant';

  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleEpoch(backend, rng, trainCount, options.maxShift);
    emit({ type: 'epoch-start', epoch, epochs, images: trainCount });

    const epochStarted = performance.now();
    let lastProgress = epochStarted;
    let lossSum = 0;
    let correct = 0;
    for (let batchStart = 0; batchStart < trainCount; batchStart += batchSize) {
      signal?.throwIfAborted();
      const batchRows = Math.min(batchSize, trainCount - batchStart);
      const shards = shardLayout(batchStart, batchRows, shardRows);
      const result = await backend.gradients(step, shards, batchRows);
      const { grads } = result;
      const sum = sumInOrder(grads);
      for (let s = 0; s < grads.length; s++) {
        lossSum += result.lossSums[s];
        correct += result.corrects[s];
      }
      optimizer.step(flat, sum, lrFactor(schedule, step, totalSteps));
      step++;
      backend.publish(step);
      backend.recycle(result);

      const now = performance.now();
      if (now - lastProgress >= progressInterval) {
        lastProgress = now;
        emit({ type: 'progress', epoch, imagesDone: batchStart + batchRows, images: trainCount });
      }
    }
    const epochTrainSeconds = (performance.now() - epochStarted) / 1000;
    trainSeconds += epochTrainSeconds;
    emit({ type: 'progress', epoch, imagesDone: trainCount, images: trainCount });

    const evalStarted = performance.now();
    const testCorrect = await countCorrectOn(backend, 'test', options.testCount, options.evalRows, step);
    const stats: EpochStats = {
      epoch,
      epochs,
      trainLoss: lossSum / trainCount,
      trainAccuracy: correct / trainCount,
      testAccuracy: testCorrect / options.testCount,
      imagesPerSecond: trainCount / epochTrainSeconds,
      trainSeconds: epochTrainSeconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
    history.push(stats);
    emit({ type: 'epoch', stats });
  }

  signal?.throwIfAborted();
  emit({ type: 'final-evaluation', split: 'train' });
  const finalTrainCorrect = await countCorrectOn(backend, 'train', trainCount, options.evalRows, step);
  return {
    history,
    finalTrainAccuracy: finalTrainCorrect / trainCount,
    finalTestAccuracy: history[history.length - 1].testAccuracy,
    steps: step,
    trainSeconds,
  };
}

/** Correctly classified images of a split, in evaluation chunks run on the backend (order irrelevant: a count). */
export async function countCorrectOn(
  backend: TrainingBackend,
  split: 'train' | 'test',
  count: number,
  evalRows: number,
  step: number,
): Promise<number> {
  const tasks: EvaluateTask[] = [];
  for (let start = 0; start < count; start += evalRows)
    tasks.push({ kind: 'evaluate', step, split, start, rows: Math.min(evalRows, count - start) });
  const results = await backend.evaluate(tasks);
  return results.reduce((sum, result) => sum + result.correct, 0);
}
