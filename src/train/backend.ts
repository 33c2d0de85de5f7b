// Where gradients and evaluations are computed. The trainer loop asks for the gradients of a
// mini-batch's shards (in shard order) and for evaluation chunks; it does not care where they run.
// Implementations: in-process (tests; the reference the pool must match bit for bit) and the Piscina
// pool (gradient-pool.ts) with either hand-off.
import { performance } from 'node:perf_hooks';
import { WorkerTaskError } from '../errors.js';
import type { SharedNetwork } from '../pool/shared-network.js';
import {
  GradientTaskRunner,
  type EvaluateResult,
  type EvaluateTask,
  type GradientResult,
  type GradientWorkerData,
  type Shard,
  type TrainingTask,
  type TrainingTaskResult,
} from './gradient-task.js';
import type { ImageSet } from './training-data.js';

export type SuccessfulResult = Exclude<TrainingTaskResult, { ok: false }>;

/** The gradients of one mini-batch's shards, in shard order. */
export interface ShardGradients {
  grads: Float64Array[];
  lossSums: number[];
  corrects: number[];
}

export interface TrainingBackend {
  /** Threads computing tasks (1 for the in-process backend). */
  readonly threads: number;
  /** The epoch's order of training images; the trainer writes it before each epoch, tasks read it. */
  readonly order: Int32Array;
  /** Per order position, the image's translation code (augmentation); written with the order. */
  readonly shifts: Uint8Array;
  /** Makes the weights of `step` visible to the tasks that follow (Atomics.store: a release). */
  publish(step: number): void;
  /** Gradients of `shards` with the weights of `step`. The buffers stay valid until `recycle`. */
  gradients(step: number, shards: Shard[], batchRows: number): Promise<ShardGradients>;
  /** Gives the buffers of a `gradients` result back once the optimiser has used them. */
  recycle(result: ShardGradients): void;
  /** Runs evaluation tasks and returns their results in task order. */
  evaluate(tasks: EvaluateTask[]): Promise<EvaluateResult[]>;
  close(): Promise<void>;
}

export interface BackendOptions {
  params: SharedNetwork;
  train: ImageSet;
  test: ImageSet;
  maxShardRows: number;
  maxEvalRows: number;
  /** Largest translation of training images in pixels (0 = none). */
  maxShift: number;
}

/** The shared-memory part of every backend: the order and control arrays. */
export function createWorkerData(options: BackendOptions): GradientWorkerData {
  return {
    params: options.params,
    train: options.train,
    test: options.test,
    order: new Int32Array(new SharedArrayBuffer(options.train.count * Int32Array.BYTES_PER_ELEMENT)),
    shifts: new Uint8Array(new SharedArrayBuffer(options.train.count)),
    maxShift: options.maxShift,
    control: new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)),
    maxShardRows: options.maxShardRows,
    maxEvalRows: options.maxEvalRows,
    lockstep: null,
  };
}

/** What a task covers, for error messages. */
export function describeTask(task: TrainingTask): string {
  if (task.kind === 'lockstep') return 'gradient loop';
  if (task.kind === 'evaluate')
    return `evaluation of ${task.split} images ${task.start}..${task.start + task.rows - 1}`;
  const first = task.shards[0];
  const last = task.shards[task.shards.length - 1];
  return `gradient of step ${task.step} (order positions ${first.start}..${last.start + last.rows - 1})`;
}

export function checkResult(task: TrainingTask, result: TrainingTaskResult): SuccessfulResult {
  if (!result.ok) throw new WorkerTaskError(`${describeTask(task)}: ${result.message} [${result.code}]`);
  if (result.kind !== task.kind) throw new WorkerTaskError(`${describeTask(task)}: got a ${result.kind} result`);
  return result;
}

/** Splits shards into at most `groups` runs of consecutive shards, as even as possible (one task per thread). */
export function groupShards(shards: Shard[], groups: number): Shard[][] {
  const count = Math.min(Math.max(1, groups), shards.length);
  const result: Shard[][] = [];
  let next = 0;
  for (let g = 0; g < count; g++) {
    const size = Math.floor(shards.length / count) + (g < shards.length % count ? 1 : 0);
    result.push(shards.slice(next, next + size));
    next += size;
  }
  return result;
}

/**
 * Gradients as tasks: the shards of a step grouped into one task per thread, each shard with its own
 * buffer from a free list (buffers travel to a worker and back, transferred).
 */
export abstract class TaskBackend implements TrainingBackend {
  abstract readonly threads: number;
  readonly order: Int32Array;
  readonly shifts: Uint8Array;
  protected readonly data: GradientWorkerData;
  private readonly free: Float64Array[] = [];
  private readonly size: number;

  constructor(options: BackendOptions) {
    this.data = createWorkerData(options);
    this.order = this.data.order;
    this.shifts = this.data.shifts;
    this.size = new Float32Array(options.params.buffer).length;
  }

  /** Runs the tasks (concurrently where possible) and returns their checked results in task order. */
  protected abstract runAll(tasks: TrainingTask[]): Promise<SuccessfulResult[]>;

  publish(step: number): void {
    Atomics.store(this.data.control, 0, step);
  }

  async gradients(step: number, shards: Shard[], batchRows: number): Promise<ShardGradients> {
    const tasks: TrainingTask[] = groupShards(shards, this.threads).map((group) => ({
      kind: 'gradient',
      step,
      shards: group,
      batchRows,
      grads: group.map(() => this.free.pop() ?? new Float64Array(this.size)),
    }));
    const results = (await this.runAll(tasks)) as GradientResult[];
    return {
      grads: results.flatMap((r) => r.grads),
      lossSums: results.flatMap((r) => r.lossSums),
      corrects: results.flatMap((r) => r.corrects),
    };
  }

  recycle(result: ShardGradients): void {
    this.free.push(...result.grads);
  }

  async evaluate(tasks: EvaluateTask[]): Promise<EvaluateResult[]> {
    return (await this.runAll(tasks)) as EvaluateResult[];
  }

  abstract close(): Promise<void>;
}

/** Runs every task on the calling thread, one after the other. */
export class InProcessBackend extends TaskBackend {
  readonly threads = 1;
  private readonly runner: GradientTaskRunner;

  constructor(options: BackendOptions) {
    super(options);
    this.runner = new GradientTaskRunner(this.data);
  }

  protected async runAll(tasks: TrainingTask[]): Promise<SuccessfulResult[]> {
    return tasks.map((task) =>
      checkResult(
        task,
        this.runner.run(task, () => performance.now()),
      ),
    );
  }

  async close(): Promise<void> {}
}
