// The worker pool that runs forward passes: Piscina with a fixed number of threads, the network
// shared with every worker, batches transferred (not copied) both ways.
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import { WorkerTaskError } from '../errors.js';
import { isLineBatch, lineRange, type WorkItem } from '../data/types.js';
import type { Network } from '../nn/types.js';
import type { KernelKind } from '../nn/kernels/index.js';
import { shareNetwork, type SharedNetwork } from './shared-network.js';
import { esmWorkerOptions } from './worker-entry.js';
import { workerFile } from './worker-files.js';
import type { ForwardResult, ForwardSuccess, ForwardTask, ResultOptions } from './task-types.js';

export interface ForwardPoolOptions {
  /** The network to run; may also be given later with setNetwork() (the workers can start first). */
  network?: Network;
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
  /** Labels (-1 = unlabeled) and input lines of the `rows` rows that were scored. */
  labels: Int16Array;
  lines: Uint32Array;
  /** Dispatch -> result on the main thread, ms (includes waiting in the queue). */
  latencyMs: number;
}

/** The forward-pass worker module. A function, not a constant: the folder is looked up on first use. */
export const defaultWorkerFile = (): URL => workerFile('forward.js');

export class ForwardPool {
  readonly threads: number;
  private readonly pool: Piscina<ForwardTask, ForwardResult>;
  private fatal: Error | null = null;
  private network: Network | null = null;
  private shared: SharedNetwork | null = null;

  constructor(options: ForwardPoolOptions) {
    const threads = options.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    this.threads = threads;
    this.pool = new Piscina<ForwardTask, ForwardResult>({
      ...esmWorkerOptions(options.workerFile ?? defaultWorkerFile(), {
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
    if (options.network) this.setNetwork(options.network);
    // Without a listener an error outside a task (e.g. a worker failing to start) crashes the process.
    this.pool.on('error', (error: Error) => {
      this.fatal ??= error;
    });
  }

  /**
   * Scores one work item: a decoded batch (its `x` buffer is transferred to the worker and back) or raw
   * lines that the worker decodes first (their bytes are transferred). The result carries the rows that
   * were scored, their labels and input lines, and (for lines) the bad rows the worker found.
   */
  async run(item: WorkItem, want: ResultOptions = {}): Promise<ScoredBatch> {
    if (this.fatal) throw new WorkerTaskError(`worker pool failed: ${this.fatal.message}`, { cause: this.fatal });
    const network = this.shared;
    if (network === null) throw new Error('ForwardPool.run: no network (give one to the constructor or to setNetwork())');
    const task: ForwardTask = isLineBatch(item)
      ? { kind: 'block', network, batchIndex: item.index, firstLine: item.firstLine, bytes: item.bytes, spec: item.spec, want }
      : { kind: 'floats', network, batchIndex: item.index, rows: item.rows, x: item.x, want };
    const transfer = isLineBatch(item) ? item.bytes.buffer : item.x.buffer;
    const started = performance.now();
    let result: ForwardResult;
    try {
      result = await this.pool.run(task, { transferList: [transfer as ArrayBuffer] });
    } catch (error) {
      throw new WorkerTaskError(`batch ${item.index} (${lineRange(item)}) failed in a worker: ${(error as Error).message}`, { cause: error });
    }
    const latencyMs = performance.now() - started;
    if (!result.ok) throw new WorkerTaskError(`batch ${item.index} (${lineRange(item)}): ${result.message}`);
    if (isLineBatch(item)) return { ...result, labels: result.labels!, lines: result.lines!, latencyMs };
    return { ...result, labels: item.labels, lines: item.lines, latencyMs };
  }

  /** The network the next tasks run (its weights are shared with the workers once, not per task). */
  setNetwork(network: Network): void {
    if (network === this.network) return;
    this.network = network;
    this.shared = shareNetwork(network);
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
