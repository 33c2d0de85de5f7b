// What the forward benchmark times: one pass over a share of the MNIST test images in batches, on this
// thread (makePass) or on a team of worker threads, each scoring its share with its own engine, the
// images and the weights shared, as the pool shares them (WorkerTeam). This module is also the workers'
// entry point.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseIdxImages } from '../src/data/mnist-idx.js';
import { mnistSourceDir } from '../src/data/mnist.js';
import { normalizationTable } from '../src/data/normalize.js';
import { argmaxRows, createForwardScratch, forward } from '../src/nn/forward.js';
import { createForwardEngine, type ForwardEngine } from '../src/nn/kernels/index.js';
import type { Network } from '../src/nn/types.js';
import { networkFromShared, type SharedNetwork } from '../src/pool/shared-network.js';

/**
 * What runs: the reference forward pass (src/nn/forward.ts) or an engine; `-pixels`: the engine fed
 * bytes (predictPixels, normalisation fused into the first layer) instead of floats.
 */
export type KernelName = 'reference' | 'js' | 'wasm' | 'wasm-pixels' | 'native' | 'native-pixels';
export const KERNELS: KernelName[] = ['reference', 'js', 'wasm', 'wasm-pixels', 'native', 'native-pixels'];

export interface TestImages {
  /** Normalised as the pipeline does (table 'unit'). */
  x: Float32Array;
  /** The raw bytes, for predictPixels. */
  pixels: Uint8Array;
  count: number;
}

/** The 10,000 MNIST test images, as floats and as bytes, in shared memory (the workers read them too). */
export function loadTestImages(): TestImages {
  const images = parseIdxImages(readFileSync(resolve(mnistSourceDir(), 't10k-images-idx3-ubyte')));
  const table = normalizationTable('unit');
  const x = new Float32Array(new SharedArrayBuffer(images.pixels.length * 4));
  for (let i = 0; i < images.pixels.length; i++) x[i] = table[images.pixels[i]];
  const pixels = new Uint8Array(new SharedArrayBuffer(images.pixels.length));
  pixels.set(images.pixels);
  return { x, pixels, count: images.count };
}

/** One pass over `count` images in batches of `batchSize`, views made up front. */
export interface Pass {
  run(): void;
}

export function engineFor(kind: KernelName, network: Network, batchSize: number): Promise<ForwardEngine | null> {
  if (kind === 'reference') return Promise.resolve(null);
  const engine = kind === 'wasm-pixels' ? 'wasm' : kind === 'native-pixels' ? 'native' : kind;
  return createForwardEngine(network, { maxRows: batchSize, kind: engine });
}

export function makePass(
  kind: KernelName,
  network: Network,
  engine: ForwardEngine | null,
  images: Pick<TestImages, 'x' | 'pixels'>,
  from: number,
  count: number,
  batchSize: number,
): Pass {
  const features = network.layers[0].W.rows;
  const outputs = network.layers[network.layers.length - 1].W.cols;
  const xs: Float32Array[] = [];
  const pixels: Uint8Array[] = [];
  const predicted: Int32Array[] = [];
  const confidence: Float32Array[] = [];
  const rows: number[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    xs.push(images.x.subarray((from + start) * features, (from + start + n) * features));
    pixels.push(images.pixels.subarray((from + start) * features, (from + start + n) * features));
    predicted.push(new Int32Array(n));
    confidence.push(new Float32Array(n));
    rows.push(n);
  }
  if (kind === 'reference') {
    const scratch = createForwardScratch(network, batchSize);
    return {
      run() {
        for (let i = 0; i < xs.length; i++)
          argmaxRows(forward(network, xs[i], rows[i], scratch), rows[i], outputs, predicted[i], confidence[i]);
      },
    };
  }
  const e = engine as ForwardEngine;
  if (kind.endsWith('-pixels')) {
    return {
      run() {
        for (let i = 0; i < pixels.length; i++)
          e.predictPixels(pixels[i], rows[i], 'unit', predicted[i], confidence[i]);
      },
    };
  }
  return {
    run() {
      for (let i = 0; i < xs.length; i++) e.predict(xs[i], rows[i], predicted[i], confidence[i]);
    },
  };
}

interface WorkerInit {
  role: 'forward-bench-worker';
  network: SharedNetwork;
  x: Float32Array;
  pixels: Uint8Array;
  from: number;
  count: number;
  /** One engine and pass per batch size; runOnce(batchSize) picks one. */
  batchSizes: number[];
  kind: KernelName;
}

export type TeamOptions = Omit<WorkerInit, 'role' | 'from' | 'count'>;

async function workerMain(init: WorkerInit): Promise<void> {
  const network = networkFromShared(init.network);
  const passes = new Map<number, Pass>();
  let detail = 'reference';
  for (const batchSize of init.batchSizes) {
    const engine = await engineFor(init.kind, network, batchSize);
    detail = engine?.detail ?? detail;
    passes.set(batchSize, makePass(init.kind, network, engine, init, init.from, init.count, batchSize));
  }
  const port = parentPort!;
  port.on('message', (batchSize: number) => {
    passes.get(batchSize)!.run();
    port.postMessage('done');
  });
  port.postMessage(detail);
}

/** `threads` workers, each with its own engine and its share of `count` images. */
export class WorkerTeam {
  private constructor(
    private readonly workers: Worker[],
    /** The engine's detail string as the workers report it (e.g. 'native avx512'). */
    readonly detail: string,
  ) {}

  static async start(threads: number, options: TeamOptions, count: number): Promise<WorkerTeam> {
    const workers: Worker[] = [];
    const ready: Array<Promise<string>> = [];
    for (let t = 0; t < threads; t++) {
      const from = Math.floor((count * t) / threads);
      const to = Math.floor((count * (t + 1)) / threads);
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { role: 'forward-bench-worker', ...options, from, count: to - from } satisfies WorkerInit,
      });
      workers.push(worker);
      ready.push(
        new Promise((ok, fail) => {
          worker.once('message', (detail: string) => ok(detail));
          worker.once('error', fail);
        }),
      );
    }
    const details = await Promise.all(ready);
    return new WorkerTeam(workers, details[0]);
  }

  /** Every worker scores its share once in batches of `batchSize` (one it was started with). */
  runOnce(batchSize: number): Promise<void> {
    return new Promise((ok, fail) => {
      let pending = this.workers.length;
      for (const worker of this.workers) {
        const onError = (error: Error) => fail(error);
        worker.once('error', onError);
        worker.once('message', () => {
          worker.off('error', onError);
          if (--pending === 0) ok();
        });
        worker.postMessage(batchSize);
      }
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.role === 'forward-bench-worker') {
  await workerMain(workerData as WorkerInit);
}
