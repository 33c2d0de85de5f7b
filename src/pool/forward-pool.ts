// The worker pool that runs forward passes: Piscina with a fixed number of threads, the network
// shared with every worker, batches transferred (not copied) both ways.
//
// Faults: a batch whose task fails — the handler throws, the worker dies (process.exit, an uncaught
// error), or it runs longer than `taskTimeoutMs` (Piscina then terminates that worker) — is retried
// once; Piscina has replaced a dead or timed-out worker by then. A second failure fails the batch with
// a message naming its first and last input line. Retrying needs the batch's data after it was
// transferred away, so a copy is kept while the batch is in flight (bounded by the in-flight limit).
import { Piscina } from 'piscina';
import { performance } from 'node:perf_hooks';
import { WorkerTaskError } from '../errors.js';
import { describeLines, isLineBatch, type WorkItem } from '../data/types.js';
import type { Network } from '../nn/types.js';
import type { KernelKind } from '../nn/kernels/index.js';
import { shareNetwork, type SharedNetwork } from './shared-network.js';
import { esmWorkerOptions } from './worker-entry.js';
import { forwardWorkerFile } from './worker-files.js';
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
  /** A batch running longer than this has failed (its worker is terminated and replaced). @default 60000 */
  taskTimeoutMs?: number;
  /** The worker module; tests substitute a wrapper that injects faults. */
  workerFile?: URL;
  /** Extra workerData for a substituted worker module (tests' fault descriptions). */
  workerData?: Record<string, unknown>;
}

export interface ScoredBatch extends ForwardSuccess {
  /** Labels (-1 = unlabeled) and input lines of the `rows` rows that were scored. */
  labels: Int16Array;
  lines: Uint32Array;
  /** Dispatch -> result on the main thread, ms (includes waiting in the queue). */
  latencyMs: number;
}

/** The forward-pass worker module. A function, not a constant: the folder is looked up on first use. */
export const defaultWorkerFile = (): URL => forwardWorkerFile();

/** A task that ran and returned a failure (a batch it cannot score): not a fault, so not retried. */
class TaskRefused extends Error {}

export class ForwardPool {
  readonly threads: number;
  private readonly pool: Piscina<ForwardTask, ForwardResult>;
  private readonly taskTimeoutMs: number;
  private network: Network | null = null;
  private shared: SharedNetwork | null = null;

  constructor(options: ForwardPoolOptions) {
    const threads = options.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    this.threads = threads;
    this.taskTimeoutMs = options.taskTimeoutMs ?? 60_000;
    this.pool = new Piscina<ForwardTask, ForwardResult>({
      ...esmWorkerOptions(options.workerFile ?? defaultWorkerFile(), {
        ...options.workerData,
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
    // Without a listener an error thrown in a worker outside a task crashes the process. Piscina
    // replaces such a worker; a task it was running rejects and is retried (run()).
    this.pool.on('error', () => undefined);
  }

  /**
   * Scores one work item: a decoded batch (its `x` buffer is transferred to the worker and back) or raw
   * lines that the worker decodes first (their bytes are transferred). The result carries the rows that
   * were scored, their labels and input lines, and (for lines) the bad rows the worker found.
   */
  async run(item: WorkItem, want: ResultOptions = {}): Promise<ScoredBatch> {
    const network = this.shared;
    if (network === null) throw new Error('ForwardPool.run: no network (give one to the constructor or to setNetwork())');
    // Kept for a retry: the original buffer is transferred to the worker.
    const spare = isLineBatch(item) ? item.bytes.slice() : item.x.slice();
    const started = performance.now();
    let result: ForwardSuccess;
    try {
      result = await this.attempt(item, network, want);
    } catch (first) {
      const retry: WorkItem = isLineBatch(item) ? { ...item, bytes: spare as Uint8Array } : { ...item, x: spare as Float32Array };
      const lines = describeLines(retry); // from the spare: the original buffer was transferred away
      // The worker ran the task and said why it cannot score this batch: the same again on any worker.
      if (first instanceof TaskRefused) throw new WorkerTaskError(`batch ${item.index} (${lines}): ${first.message}`);
      try {
        result = await this.attempt(retry, network, want);
      } catch (second) {
        throw new WorkerTaskError(
          `batch ${item.index} (${lines}) failed twice in a worker: ${(first as Error).message}; then: ${(second as Error).message}`,
          { cause: second },
        );
      }
    }
    const latencyMs = performance.now() - started;
    if (isLineBatch(item)) return { ...result, labels: result.labels!, lines: result.lines!, latencyMs };
    return { ...result, labels: item.labels, lines: item.lines, latencyMs };
  }

  /** One try on whichever worker is free; rejects when the task throws, its worker dies or it times out. */
  private async attempt(item: WorkItem, network: SharedNetwork, want: ResultOptions): Promise<ForwardSuccess> {
    const task: ForwardTask = isLineBatch(item)
      ? { kind: 'block', network, batchIndex: item.index, firstLine: item.firstLine, bytes: item.bytes, spec: item.spec, want }
      : { kind: 'floats', network, batchIndex: item.index, rows: item.rows, x: item.x, want };
    const transfer = isLineBatch(item) ? item.bytes.buffer : item.x.buffer;
    let result: ForwardResult;
    // Aborting a running task makes Piscina terminate its worker and start another. (Not
    // AbortSignal.timeout(): its timer would outlive the task, one per batch, for the whole timeout.)
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.taskTimeoutMs);
    try {
      result = await this.pool.run(task, { transferList: [transfer as ArrayBuffer], signal: timeout.signal });
    } catch (error) {
      const timedOut = (error as Error).name === 'AbortError';
      throw new Error(timedOut ? `no result after --task-timeout ${this.taskTimeoutMs} ms` : (error as Error).message, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (!result.ok) throw new TaskRefused(result.message);
    return result;
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
