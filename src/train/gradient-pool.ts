// The Piscina pool that computes gradients of mini-batch shards (and evaluation chunks). Weights,
// images, labels and the epoch's order live in SharedArrayBuffers handed to each worker once
// (workerData), so a task carries only a few numbers. Two hand-offs per step:
//
//  - 'message': one Piscina task per thread per step; each shard's gradient buffer is transferred to
//    the worker and back (never copied).
//  - 'atomics': one long-running Piscina task per thread per epoch. Per step the main thread writes the
//    shard plan into shared memory and bumps an Int32 with Atomics.store + notify; workers claim shards
//    with compareExchange, write gradients into shared per-shard slots and count themselves done with
//    Atomics.add (+ notify for the last one), which the main thread awaits with Atomics.waitAsync.
//    No message, transfer or promise per task: this saves the per-step round trip.
//
// Either way every shard's gradient is computed by the same function into its own buffer and the
// trainer sums them in shard order, so both hand-offs (and any thread count) give the same bits.
import { Piscina } from 'piscina';
import { WorkerTaskError } from '../errors.js';
import { esmWorkerOptions } from '../pool/worker-entry.js';
import { workerFile } from '../pool/worker-files.js';
import {
  checkResult,
  describeTask,
  TaskBackend,
  type BackendOptions,
  type ShardGradients,
  type SuccessfulResult,
  type TrainingBackend,
} from './backend.js';
import {
  LOCK_BATCH_ROWS,
  LOCK_CLAIM,
  LOCK_DONE,
  LOCK_LOCKED,
  LOCK_SHARDS,
  LOCK_STOP,
  type EvaluateResult,
  type EvaluateTask,
  type LockstepMemory,
  type Shard,
  type TrainingTask,
  type TrainingTaskResult,
} from './gradient-task.js';

/** The gradient worker module (looked up on first use). */
export const defaultGradientWorkerFile = (): URL => workerFile('gradient.js');

export const HAND_OFFS = ['atomics', 'message'] as const;
export type HandOff = (typeof HAND_OFFS)[number];

export interface GradientPoolOptions extends BackendOptions {
  threads: number;
  handOff: HandOff;
  /** Most shards in one step (ceil(batch size / shard rows)); sizes the 'atomics' slots. */
  maxShards: number;
  workerFile?: URL;
}

// Atomics.waitAsync is ES2024; Node >= 16 has it, the ES2023 lib types do not.
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class GradientPool extends TaskBackend implements TrainingBackend {
  readonly threads: number;
  readonly handOff: HandOff;
  private readonly pool: Piscina<TrainingTask, TrainingTaskResult>;
  private fatal: Error | null = null;
  private readonly lockstep: LockstepMemory | null;
  /** The running 'atomics' loops (one per thread), and a promise that rejects when any of them ends early. */
  private loops: Promise<unknown>[] = [];
  private loopFailure: Promise<never> | null = null;
  private tag = 0;

  constructor(options: GradientPoolOptions) {
    super(options);
    const { threads } = options;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    this.threads = threads;
    this.handOff = options.handOff;
    if (options.handOff === 'atomics') {
      const size = new Float32Array(options.params.buffer).length;
      const shards = options.maxShards;
      if (!Number.isInteger(shards) || shards < 1 || shards > 0xffff)
        throw new RangeError(`maxShards must be 1..65535, got ${shards}`);
      this.lockstep = {
        control: new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT)),
        plan: new Int32Array(new SharedArrayBuffer(2 * shards * Int32Array.BYTES_PER_ELEMENT)),
        slots: new Float64Array(new SharedArrayBuffer(shards * size * Float64Array.BYTES_PER_ELEMENT)),
        stats: new Float64Array(new SharedArrayBuffer(2 * shards * Float64Array.BYTES_PER_ELEMENT)),
        maxShards: shards,
      };
      Atomics.store(this.lockstep.control, LOCK_CLAIM, LOCK_STOP);
      this.data.lockstep = this.lockstep;
    } else {
      this.lockstep = null;
    }
    this.pool = new Piscina<TrainingTask, TrainingTaskResult>({
      ...esmWorkerOptions(options.workerFile ?? defaultGradientWorkerFile(), this.data),
      // Integer and equal: a fractional or lower minThreads makes Piscina spawn and kill workers.
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // We never queue more than one step's (or one evaluation's) tasks; this is only a safety net.
      maxQueue: 4096,
      concurrentTasksPerWorker: 1,
      recordTiming: false,
    });
    this.pool.on('error', (error: Error) => {
      this.fatal ??= error;
    });
  }

  protected async runAll(tasks: TrainingTask[]): Promise<SuccessfulResult[]> {
    if (this.fatal) throw new WorkerTaskError(`gradient pool failed: ${this.fatal.message}`, { cause: this.fatal });
    const results = await Promise.all(tasks.map((task) => this.runOne(task)));
    return results.map((result, i) => checkResult(tasks[i], result));
  }

  private async runOne(task: TrainingTask): Promise<TrainingTaskResult> {
    const transferList = task.kind === 'gradient' ? task.grads.map((g) => g.buffer as ArrayBuffer) : [];
    try {
      return await this.pool.run(task, { transferList });
    } catch (error) {
      throw new WorkerTaskError(`${describeTask(task)} failed in a worker: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  override async gradients(step: number, shards: Shard[], batchRows: number): Promise<ShardGradients> {
    const memory = this.lockstep;
    if (!memory) return super.gradients(step, shards, batchRows);
    if (shards.length > memory.maxShards)
      throw new RangeError(`${shards.length} shards exceed the pool's ${memory.maxShards}`);
    this.startLoops();
    const { control, plan, slots, stats } = memory;
    // LOCKED first, so that no worker can claim with the previous step's value while the plan changes.
    Atomics.store(control, LOCK_CLAIM, LOCK_LOCKED);
    shards.forEach((shard, i) => {
      plan[2 * i] = shard.start;
      plan[2 * i + 1] = shard.rows;
    });
    Atomics.store(control, LOCK_SHARDS, shards.length);
    Atomics.store(control, LOCK_BATCH_ROWS, batchRows);
    Atomics.store(control, LOCK_DONE, 0);
    this.tag = (this.tag + 1) & 0x7fff;
    Atomics.store(control, LOCK_CLAIM, this.tag << 16);
    Atomics.notify(control, LOCK_CLAIM);
    for (;;) {
      const done = Atomics.load(control, LOCK_DONE);
      if (done >= shards.length) break;
      const wait = waitAsync(control, LOCK_DONE, done);
      if (wait.async) await Promise.race([wait.value, this.loopFailure!]);
    }
    const size = slots.length / memory.maxShards;
    return {
      grads: shards.map((_, i) => slots.subarray(i * size, (i + 1) * size)),
      lossSums: shards.map((_, i) => stats[2 * i]),
      corrects: shards.map((_, i) => stats[2 * i + 1]),
    };
  }

  override recycle(result: ShardGradients): void {
    if (!this.lockstep) super.recycle(result);
  }

  override async evaluate(tasks: EvaluateTask[]): Promise<EvaluateResult[]> {
    await this.stopLoops();
    return super.evaluate(tasks);
  }

  private startLoops(): void {
    if (this.loops.length > 0) return;
    if (this.fatal) throw new WorkerTaskError(`gradient pool failed: ${this.fatal.message}`, { cause: this.fatal });
    // Not STOP any more before a loop can look, or it would return at once.
    Atomics.store(this.lockstep!.control, LOCK_CLAIM, LOCK_LOCKED);
    const task: TrainingTask = { kind: 'lockstep' };
    this.loops = Array.from({ length: this.threads }, () =>
      this.runOne(task).then((result) => checkResult(task, result)),
    );
    // A loop only returns after STOP: settling earlier (an exception in a worker) fails the step.
    this.loopFailure = Promise.race(
      this.loops.map((loop) =>
        loop.then(
          () => {
            throw new WorkerTaskError('a gradient loop ended before it was stopped');
          },
          (error: unknown) => {
            throw error;
          },
        ),
      ),
    );
    this.loopFailure.catch(() => undefined);
  }

  private async stopLoops(): Promise<void> {
    if (!this.lockstep || this.loops.length === 0) return;
    Atomics.store(this.lockstep.control, LOCK_CLAIM, LOCK_STOP);
    Atomics.notify(this.lockstep.control, LOCK_CLAIM);
    const loops = this.loops;
    this.loops = [];
    this.loopFailure = null;
    await Promise.all(loops);
  }

  async close(): Promise<void> {
    try {
      await this.stopLoops();
    } finally {
      await this.pool.close({ force: true });
    }
  }
}
