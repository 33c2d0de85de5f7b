// The worker pool that runs forward passes: Piscina with a fixed number of threads, the network
// shared with every worker, batches transferred (not copied) both ways.
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import { WorkerTaskError } from '../errors.js';
import type { Batch } from '../data/types.js';
import type { Network } from '../nn/types.js';
import type { KernelKind } from '../nn/kernels/index.js';
import { shareNetwork } from './shared-network.js';
import { esmWorkerOptions } from './worker-entry.js';
import { workerFile } from './worker-files.js';
import type { ForwardResult, ForwardSuccess, ForwardTask } from './task-types.js';

export interface ForwardPoolOptions {
  network: Network;
  threads: number;
  /** Expected rows per batch (sizes each worker's scratch buffers up front). */
  batchSize: number;
  /** Upper bound on tasks waiting in Piscina's own queue; our pipeline bounds in-flight work itself. */
  maxQueue?: number;
  /** Forward engine: wasm (SIMD, when built), js, or auto (wasm if built, else js with a warning). */
  kernel?: KernelKind;
  /** The worker module; tests substitute a wrapper that injects faults. */
  workerFile?: URL;
}

export interface ScoredBatch extends ForwardSuccess {
  /** Dispatch -> result on the main thread, ms (includes waiting in the queue). */
  latencyMs: number;
}

/** The forward-pass worker module. A function, not a constant: the folder is looked up on first use. */
export const defaultWorkerFile = (): URL => workerFile('forward.js');

export class ForwardPool {
  readonly threads: number;
  private readonly pool: Piscina<ForwardTask, ForwardResult>;
  private fatal: Error | null = null;

  constructor(options: ForwardPoolOptions) {
    const threads = options.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    this.threads = threads;
    this.pool = new Piscina<ForwardTask, ForwardResult>({
      ...esmWorkerOptions(options.workerFile ?? defaultWorkerFile(), {
        network: shareNetwork(options.network),
        batchSize: options.batchSize,
        kernel: options.kernel ?? 'auto',
      }),
      // Integer and equal: a fractional or lower minThreads makes Piscina spawn and kill workers.
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      maxQueue: options.maxQueue ?? 'auto',
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      // close() waits this long for running tasks; Piscina's 30 s default keeps closed pools (and their
      // shared weights) alive that long, which a long-lived scheduler process would feel.
      closeTimeout: 5_000,
    });
    // Without a listener an error outside a task (e.g. a worker failing to start) crashes the process.
    this.pool.on('error', (error: Error) => {
      this.fatal ??= error;
    });
  }

  /**
   * Scores one batch. Its `x` buffer is transferred to the worker and back: `batch.x` is detached
   * while the task runs and the returned `x` holds the same rows afterwards.
   */
  async run(batch: Batch, wantProbabilities = false): Promise<ScoredBatch> {
    if (this.fatal) throw new WorkerTaskError(`worker pool failed: ${this.fatal.message}`, { cause: this.fatal });
    const task: ForwardTask = { batchIndex: batch.index, rows: batch.rows, x: batch.x, wantProbabilities };
    const started = performance.now();
    let result: ForwardResult;
    try {
      result = await this.pool.run(task, { transferList: [batch.x.buffer as ArrayBuffer] });
    } catch (error) {
      throw new WorkerTaskError(
        `batch ${batch.index} (lines ${batch.lines[0]}-${batch.lines[batch.rows - 1]}) failed in a worker: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const latencyMs = performance.now() - started;
    if (!result.ok) {
      throw new WorkerTaskError(`batch ${batch.index} (lines ${batch.lines[0]}-${batch.lines[batch.rows - 1]}): ${result.message}`);
    }
    return { ...result, latencyMs };
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
