// Where tasks run: a Piscina pool of forward workers, or (threads 0) this thread, for inputs too small to
// be worth starting workers for. Both run the same TaskRunner (forward-task.ts); the network is shared
// with the workers once, in shared memory, and every task refers to it.
import type { Piscina } from 'piscina';
import { prepareForwardKernels, type KernelKind } from '../nn/kernels/index.js';
import type { Network } from '../nn/types.js';
import { TaskRunner } from './forward-task.js';
import { shareNetwork, type SharedNetwork } from './shared-network.js';
import type { ForwardResult, ForwardTask } from './task-types.js';
import { esmWorkerOptions } from './worker-entry.js';
import { forwardWorkerFile } from './worker-files.js';

export interface ForwardPoolOptions {
  /** Worker threads; 0 runs every task on this thread. */
  threads: number;
  /** Rows per forward pass (sizes each engine's buffers up front). */
  batchSize: number;
  /** Tasks the pipeline may have outstanding at once (Piscina's queue is sized for them). */
  maxInFlight: number;
  /** Forward engine: wasm (SIMD, when built), js, or auto. @default 'auto' */
  kernel?: KernelKind;
  /** The network to run; may also be given later with setNetwork() (the workers can start first). */
  network?: Network;
  /** The worker module; tests substitute a wrapper that injects faults. */
  workerFile?: URL;
  /** Extra workerData for a substituted worker module (tests' fault descriptions). */
  workerData?: Record<string, unknown>;
}

export class ForwardPool {
  readonly threads: number;
  /** Resolves once every worker has loaded its kernels (at once for threads 0). */
  readonly ready: Promise<void>;
  /** Piscina is loaded only when workers are wanted: a run on the main thread starts without it. */
  private readonly piscina: Promise<Piscina<ForwardTask, ForwardResult>> | null;
  private readonly local: Promise<TaskRunner> | null;
  private network: Network | null = null;
  private sharedNetwork: SharedNetwork | null = null;

  constructor(options: ForwardPoolOptions) {
    const { threads, batchSize, maxInFlight } = options;
    if (!Number.isInteger(threads) || threads < 0)
      throw new RangeError(`options.threads must be a non-negative integer, got ${threads}`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`options.maxInFlight must be a positive integer, got ${maxInFlight}`);
    const kernel = options.kernel ?? 'auto';
    this.threads = threads;
    if (threads === 0) {
      this.piscina = null;
      this.local = prepareForwardKernels(kernel).then(
        (kernelLoad) => new TaskRunner({ batchSize, kernel, kernelLoad }),
      );
      this.ready = this.local.then(() => undefined);
    } else {
      this.local = null;
      let up: () => void = () => undefined;
      this.ready = new Promise((resolve) => (up = resolve));
      this.piscina = startWorkers(options, kernel, up);
    }
    if (options.network) this.setNetwork(options.network);
  }

  /** The network the next tasks run, as they refer to it. */
  get shared(): SharedNetwork {
    if (this.sharedNetwork === null)
      throw new Error('ForwardPool: no network (give one to the constructor or to setNetwork())');
    return this.sharedNetwork;
  }

  setNetwork(network: Network): void {
    if (network === this.network) return;
    this.network = network;
    this.sharedNetwork = shareNetwork(network);
  }

  /**
   * One attempt at a task. Rejects when the task throws, its worker dies, or `signal` aborts it (Piscina
   * then terminates that worker and starts another); a task the worker cannot complete resolves to a failure.
   */
  run(task: ForwardTask, signal?: AbortSignal): Promise<ForwardResult> {
    if (this.piscina !== null) return this.piscina.then((piscina) => piscina.run(task, { signal }));
    return this.local!.then((runner) => runner.run(task));
  }

  async close(): Promise<void> {
    await (await this.piscina)?.close({ force: true });
  }
}

/** The Piscina pool of forward workers; `up` is called once all of them have loaded their kernels. */
async function startWorkers(
  options: ForwardPoolOptions,
  kernel: KernelKind,
  up: () => void,
): Promise<Piscina<ForwardTask, ForwardResult>> {
  const { threads, batchSize, maxInFlight } = options;
  const { Piscina } = await import('piscina');
  const piscina = new Piscina<ForwardTask, ForwardResult>({
    ...esmWorkerOptions(options.workerFile ?? forwardWorkerFile(), { ...options.workerData, batchSize, kernel }),
    // Integer and equal: a fractional or lower minThreads makes Piscina spawn and kill workers.
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    // The pipeline bounds what is outstanding itself; this queue only has to hold it.
    maxQueue: 2 * maxInFlight,
    concurrentTasksPerWorker: 1,
    recordTiming: false,
    // close() waits this long for running tasks (Piscina's 30 s would keep a closed pool alive).
    closeTimeout: 5_000,
  });
  // Without a listener an error thrown in a worker outside a task crashes the process. Piscina
  // replaces such a worker; a task it was running rejects (and is retried, see faults.ts).
  piscina.on('error', () => undefined);
  let ready = 0;
  piscina.on('message', (message: unknown) => {
    if ((message as { nnpipeWorkerReady?: unknown })?.nnpipeWorkerReady === true && ++ready === threads) up();
  });
  return piscina;
}
