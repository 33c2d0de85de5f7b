// What a gradient worker does, independent of how it is called: the Piscina worker (workers/gradient.ts)
// and the in-process backend (tests) both run these functions, so a gradient computed in a worker and
// in the main thread is the same bits.
//
// Two ways to hand work to a worker (see gradient-pool.ts for the measurements):
//  - 'message': one Piscina task per thread per step, carrying shard positions and gradient buffers
//    (transferred to the worker and back);
//  - 'atomics': one long Piscina task per thread per epoch running `runLockstep`: the main thread
//    publishes each step in shared memory and workers claim shards with compareExchange, write their
//    gradients into shared per-shard slots and count themselves done with Atomics.add/notify.
import { normalizationTable } from '../data/normalize.js';
import { networkFromShared, type SharedNetwork } from '../pool/shared-network.js';
import type { Network } from '../nn/types.js';
import { countCorrect, createEvaluateScratch, type EvaluateScratch } from './evaluate.js';
import { createGradientScratch, shardGradient, type GradientScratch } from './gradient.js';
import { gatherSparseRows, type ShiftAugmentation } from './layers.js';
import type { LossStats } from './loss.js';
import type { ImageSet } from './training-data.js';

/** The shared memory of the 'atomics' hand-off. */
export interface LockstepMemory {
  /** [CLAIM, DONE, SHARDS, BATCH_ROWS] (indices below). */
  control: Int32Array;
  /** Per shard of the current step: start, rows. */
  plan: Int32Array;
  /** Per shard: its gradient (parameter layout), maxShards x parameters. */
  slots: Float64Array;
  /** Per shard: summed loss, correct count. */
  stats: Float64Array;
  maxShards: number;
}

/** control[CLAIM] = (step tag << 16) | next unclaimed shard, or LOCKED while the step is being set up, or STOP. */
export const LOCK_CLAIM = 0;
/** control[DONE] = shards of the current step finished. */
export const LOCK_DONE = 1;
export const LOCK_SHARDS = 2;
export const LOCK_BATCH_ROWS = 3;
export const LOCK_LOCKED = -2;
export const LOCK_STOP = -1;

/** Everything a worker needs, all in shared memory (structured-cloned views share their buffers). */
export interface GradientWorkerData {
  params: SharedNetwork;
  train: ImageSet;
  test: ImageSet;
  /** The epoch's order of training images, written by the main thread before each epoch. */
  order: Int32Array;
  /** Per order position, the translation code of the image (all zero-shift when maxShift is 0). */
  shifts: Uint8Array;
  /** Largest translation in pixels (0 = no augmentation). */
  maxShift: number;
  /** [0] = the step whose weights are in `params`, published with Atomics.store after each update. */
  control: Int32Array;
  maxShardRows: number;
  maxEvalRows: number;
  /** Present when the pool hands work over with atomics. */
  lockstep: LockstepMemory | null;
}

/** One shard: rows order[start .. start+rows) of the current mini-batch. */
export interface Shard {
  start: number;
  rows: number;
}

/**
 * Consecutive shards of one mini-batch for one worker. Each shard's gradient goes into its own buffer,
 * so how shards are grouped into tasks (one task per thread per step: fewer round trips) never changes
 * a result - the main thread sums the shards in shard order.
 */
export interface GradientTask {
  kind: 'gradient';
  /**
   * The step these weights belong to: the worker checks control[0] (an Atomics.load, which also orders the reads after
   * the update).
   */
  step: number;
  shards: Shard[];
  /** Rows of the whole mini-batch (the loss is the batch mean). */
  batchRows: number;
  /** One buffer per shard (parameter layout); transferred to the worker and back, never copied. */
  grads: Float64Array[];
}

export interface EvaluateTask {
  kind: 'evaluate';
  step: number;
  split: 'train' | 'test';
  start: number;
  rows: number;
}

/** Run the 'atomics' loop until the main thread stores LOCK_STOP. */
export interface LockstepTask {
  kind: 'lockstep';
}

export type TrainingTask = GradientTask | EvaluateTask | LockstepTask;

export interface GradientResult {
  ok: true;
  kind: 'gradient';
  /** Per shard, in the task's order: the gradient, the summed loss and the correct count. */
  grads: Float64Array[];
  lossSums: number[];
  corrects: number[];
  computeMs: number;
}

export interface EvaluateResult {
  ok: true;
  kind: 'evaluate';
  correct: number;
  computeMs: number;
}

export interface LockstepResult {
  ok: true;
  kind: 'lockstep';
  /** Shards this thread computed, and the time spent computing them. */
  shards: number;
  computeMs: number;
}

export interface TaskFailure {
  ok: false;
  code: string;
  message: string;
}

export type TrainingTaskResult = GradientResult | EvaluateResult | LockstepResult | TaskFailure;

class TaskShapeError extends Error {}

/** Per-thread state: views over the shared weights and data, and scratch buffers reused by every task. */
export class GradientTaskRunner {
  private readonly network: Network;
  private readonly gradientScratch: GradientScratch;
  private evaluateScratch: EvaluateScratch | null = null;
  private readonly table = normalizationTable('unit');
  private readonly shift: ShiftAugmentation | null;

  constructor(private readonly data: GradientWorkerData) {
    this.network = networkFromShared(data.params);
    const sizes = [data.params.shapes[0][0], ...data.params.shapes.map(([, outputs]) => outputs)];
    this.gradientScratch = createGradientScratch(sizes, data.maxShardRows);
    const { train } = data;
    this.shift =
      data.maxShift > 0 ? { max: data.maxShift, width: train.width, height: train.height, codes: data.shifts } : null;
  }

  run(task: TrainingTask, now: () => number): TrainingTaskResult {
    const started = now();
    try {
      if (task.kind === 'lockstep') return this.runLockstep(now);
      const published = Atomics.load(this.data.control, 0);
      if (published !== task.step) {
        return {
          ok: false,
          code: 'PIPE_ERR_TRAIN_STEP',
          message: `task for step ${task.step} saw the weights of step ${published}`,
        };
      }
      if (task.kind === 'gradient') {
        if (task.grads.length !== task.shards.length)
          throw new TaskShapeError(`${task.shards.length} shards but ${task.grads.length} gradient buffers`);
        const lossSums: number[] = [];
        const corrects: number[] = [];
        for (let i = 0; i < task.shards.length; i++) {
          const stats = this.shardGradient(task.shards[i].start, task.shards[i].rows, task.batchRows, task.grads[i]);
          lossSums.push(stats.lossSum);
          corrects.push(stats.correct);
        }
        return { ok: true, kind: 'gradient', grads: task.grads, lossSums, corrects, computeMs: now() - started };
      }
      const set = task.split === 'train' ? this.data.train : this.data.test;
      this.evaluateScratch ??= createEvaluateScratch(this.network, set.features, this.data.maxEvalRows);
      const correct = countCorrect(this.network, set, task.start, task.rows, this.table, this.evaluateScratch);
      return { ok: true, kind: 'evaluate', correct, computeMs: now() - started };
    } catch (error) {
      if (error instanceof TaskShapeError) return { ok: false, code: 'PIPE_ERR_TASK_SHAPE', message: error.message };
      throw error;
    }
  }

  /** The gradient of shard order[start .. start+rows) into `grad`. */
  private shardGradient(start: number, rows: number, batchRows: number, grad: Float64Array): LossStats {
    const { train, order } = this.data;
    const scratch = this.gradientScratch;
    if (rows < 1 || rows > scratch.maxRows || start < 0 || start + rows > train.count) {
      throw new TaskShapeError(
        `shard ${start}+${rows} does not fit (max ${scratch.maxRows} rows, ${train.count} images)`,
      );
    }
    gatherSparseRows(train.pixels, train.features, order, start, rows, this.table, scratch.input, this.shift);
    for (let r = 0; r < rows; r++) scratch.labels[r] = train.labels[order[start + r]];
    return shardGradient(this.network, scratch, batchRows, grad);
  }

  /**
   * The 'atomics' worker loop. Claiming a shard is a compareExchange on control[CLAIM], so it fails if
   * the main thread has moved on (LOCKED / a new step / STOP); a successful claim therefore means the
   * step's plan and weights stay put until this shard is counted in DONE. Atomics operations are
   * sequentially consistent, which also makes the main thread's plain writes (weights, plan) visible
   * here and this thread's gradient writes visible to the main thread once it reads DONE.
   */
  private runLockstep(now: () => number): LockstepResult {
    const memory = this.data.lockstep;
    if (!memory) throw new Error('the pool was not created for the atomics hand-off');
    const { control, plan, slots, stats } = memory;
    const size = slots.length / memory.maxShards;
    let shards = 0;
    let computeMs = 0;
    for (;;) {
      const claim = Atomics.load(control, LOCK_CLAIM);
      if (claim === LOCK_STOP) return { ok: true, kind: 'lockstep', shards, computeMs };
      const count = Atomics.load(control, LOCK_SHARDS);
      const index = claim & 0xffff;
      if (claim === LOCK_LOCKED || index >= count) {
        Atomics.wait(control, LOCK_CLAIM, claim);
        continue;
      }
      if (Atomics.compareExchange(control, LOCK_CLAIM, claim, claim + 1) !== claim) continue;
      const started = now();
      const result = this.shardGradient(
        plan[2 * index],
        plan[2 * index + 1],
        Atomics.load(control, LOCK_BATCH_ROWS),
        slots.subarray(index * size, (index + 1) * size),
      );
      stats[2 * index] = result.lossSum;
      stats[2 * index + 1] = result.correct;
      computeMs += now() - started;
      shards++;
      if (Atomics.add(control, LOCK_DONE, 1) + 1 === count) Atomics.notify(control, LOCK_DONE);
    }
  }
}
