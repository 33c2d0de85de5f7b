// Forward-pass benchmark: images/s and GFLOP/s on the real MNIST test images for batch sizes 1, 10, 100
// and 1000, with the reference kernel (src/nn/forward.ts), the JavaScript engine and the WebAssembly
// engine, on one thread, then on 1 and 2 worker threads (each worker scores its share of the images
// with its own engine, the weights shared as the pool shares them). Optionally the book's numpy code
// (../shared/bench/numpy_ref.py) in the same session, for a side-by-side figure.
//
//   node dist/bench/forward.bench.js [--quick] [--model FILE] [--batch N]... [--kernels reference,js,wasm,wasm-pixels]
//                                    [--numpy | --no-numpy] [--no-scaling] [--json FILE]
//
// benchmark.js notes (../shared/notes/library-notes.md, section 5): no setup/teardown (benchmark.js would
// recompile the function from its source and lose every closure), so all data and views are prepared
// before a benchmark is made; the threaded runs are deferred benchmarks. Figures are medians of the
// samples (ops/s from the median sample period), with benchmark.js's relative margin of error.
import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseIdxImages } from '../src/data/mnist-idx.js';
import { mnistSourceDir } from '../src/data/mnist.js';
import { normalizationTable } from '../src/data/normalize.js';
import { argmaxRows, createForwardScratch, forward } from '../src/nn/forward.js';
import { createForwardEngine, type ForwardEngine } from '../src/nn/kernels/index.js';
import { loadModel } from '../src/nn/load-model.js';
import type { Network } from '../src/nn/types.js';
import { networkFromShared, shareNetwork, type SharedNetwork } from '../src/pool/shared-network.js';

export interface ForwardBenchResult {
  name: string;
  batchSize: number;
  threads: number;
  imagesPerSecond: number;
  gflops: number;
  rme: number;
  samples: number;
}

export interface ForwardBenchOptions {
  /** Fewer images and shorter runs (a smoke run, not a measurement). */
  quick?: boolean;
  /** Model file; @default the book's ../shared/reference/sample_weight.pkl, else data/models/default.safetensors */
  model?: string;
  /** Run ../shared/bench/numpy_ref.py for the same batch sizes. @default !quick */
  numpy?: boolean;
  /** Print progress and the table. @default false */
  log?: boolean;
  /** Batch sizes to measure. @default [1, 10, 100, 1000] */
  batchSizes?: number[];
  /** Kernels to measure. @default all: reference, js, wasm, wasm-pixels */
  kernels?: KernelName[];
  /** Also time 1 and 2 worker threads alternately and report the median ratio. @default true */
  scaling?: boolean;
  /** Receives the paired scaling measurements (they are not rows of the result table). */
  onScaling?: (scalings: PairedScaling[]) => void;
}

export interface PairedScaling {
  kind: string;
  batchSize: number;
  rounds: number;
  /** Median over rounds of (1-thread time / 2-thread time). */
  ratio: number;
  oneThread: number;
  twoThreads: number;
}

/** wasm-pixels: the WebAssembly engine fed bytes (predictPixels, normalisation fused into layer 1). */
export type KernelName = 'reference' | 'js' | 'wasm' | 'wasm-pixels';
const KERNELS: KernelName[] = ['reference', 'js', 'wasm', 'wasm-pixels'];
const BATCH_SIZES = [1, 10, 100, 1000];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sharedDir = resolve(repoRoot, '../shared');
const bookPickle = resolve(sharedDir, 'reference/sample_weight.pkl');
const defaultModel = resolve(repoRoot, 'data/models/default.safetensors');
const numpyScript = resolve(sharedDir, 'bench/numpy_ref.py');
const testCsv = resolve(repoRoot, 'data/mnist_test.csv');

/** Multiply-adds of a dense forward pass, 2 FLOP each: 90,400 per image for 784-50-100-10. */
export function flopsPerImage(network: Network): number {
  return network.layers.reduce((sum, { W }) => sum + 2 * W.rows * W.cols, 0);
}

interface TestImages {
  /** Normalised as the pipeline does (table 'unit'). */
  x: Float32Array;
  /** The raw bytes, for predictPixels. */
  pixels: Uint8Array;
  count: number;
}

/** The 10,000 MNIST test images, as floats and as bytes, in shared memory (the workers read them too). */
function loadTestImages(): TestImages {
  const images = parseIdxImages(readFileSync(resolve(mnistSourceDir(), 't10k-images-idx3-ubyte')));
  const table = normalizationTable('unit');
  const x = new Float32Array(new SharedArrayBuffer(images.pixels.length * 4));
  for (let i = 0; i < images.pixels.length; i++) x[i] = table[images.pixels[i]];
  const pixels = new Uint8Array(new SharedArrayBuffer(images.pixels.length));
  pixels.set(images.pixels);
  return { x, pixels, count: images.count };
}

/** One pass over `count` images in batches of `batchSize`, views made up front. */
interface Pass {
  run(): void;
}

function makePass(kind: KernelName, network: Network, engine: ForwardEngine | null, images: Pick<TestImages, 'x' | 'pixels'>, from: number, count: number, batchSize: number): Pass {
  const features = network.layers[0].W.rows;
  const outputs = network.layers[network.layers.length - 1].W.cols;
  const { x } = images;
  const xs: Float32Array[] = [];
  const pixels: Uint8Array[] = [];
  const predicted: Int32Array[] = [];
  const confidence: Float32Array[] = [];
  const rows: number[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    xs.push(x.subarray((from + start) * features, (from + start + n) * features));
    pixels.push(images.pixels.subarray((from + start) * features, (from + start + n) * features));
    predicted.push(new Int32Array(n));
    confidence.push(new Float32Array(n));
    rows.push(n);
  }
  if (kind === 'reference') {
    const scratch = createForwardScratch(network, batchSize);
    return {
      run() {
        for (let i = 0; i < xs.length; i++) argmaxRows(forward(network, xs[i], rows[i], scratch), rows[i], outputs, predicted[i], confidence[i]);
      },
    };
  }
  const e = engine as ForwardEngine;
  if (kind === 'wasm-pixels') {
    return {
      run() {
        for (let i = 0; i < pixels.length; i++) e.predictPixels(pixels[i], rows[i], 'unit', predicted[i], confidence[i]);
      },
    };
  }
  return {
    run() {
      for (let i = 0; i < xs.length; i++) e.predict(xs[i], rows[i], predicted[i], confidence[i]);
    },
  };
}

function engineFor(kind: KernelName, network: Network, batchSize: number): Promise<ForwardEngine | null> {
  if (kind === 'reference') return Promise.resolve(null);
  return createForwardEngine(network, { maxRows: batchSize, kind: kind === 'wasm-pixels' ? 'wasm' : kind });
}

/** Median-based result of a finished benchmark whose one op scores `images` images. */
function resultOf(bench: Benchmark, name: string, batchSize: number, threads: number, images: number, flops: number): ForwardBenchResult {
  const sample = [...bench.stats.sample].sort((a, b) => a - b);
  const mid = sample.length >> 1;
  const period = sample.length % 2 ? sample[mid] : (sample[mid - 1] + sample[mid]) / 2;
  const imagesPerSecond = images / period;
  return { name, batchSize, threads, imagesPerSecond, gflops: (imagesPerSecond * flops) / 1e9, rme: bench.stats.rme, samples: sample.length };
}

function runBenchmark(bench: Benchmark): Promise<Benchmark> {
  return new Promise((resolvePromise, reject) => {
    bench.on('complete', () => (bench.error ? reject(bench.error) : resolvePromise(bench)));
    bench.on('error', () => reject(bench.error));
    bench.run({ async: true });
  });
}

// ---- worker threads ---------------------------------------------------------------------------------

interface WorkerInit {
  role: 'forward-bench-worker';
  network: SharedNetwork;
  x: Float32Array;
  pixels: Uint8Array;
  from: number;
  count: number;
  batchSize: number;
  kind: KernelName;
}

async function workerMain(init: WorkerInit): Promise<void> {
  const network = networkFromShared(init.network);
  const engine = await engineFor(init.kind, network, init.batchSize);
  const pass = makePass(init.kind, network, engine, init, init.from, init.count, init.batchSize);
  const port = parentPort!;
  port.on('message', (message: string) => {
    if (message === 'run') {
      pass.run();
      port.postMessage('done');
    } else if (message === 'exit') {
      port.close();
    }
  });
  port.postMessage('ready');
}

class WorkerTeam {
  private constructor(private readonly workers: Worker[]) {}

  static async start(threads: number, base: Omit<WorkerInit, 'from' | 'count'>, count: number): Promise<WorkerTeam> {
    const workers: Worker[] = [];
    const ready: Array<Promise<void>> = [];
    for (let t = 0; t < threads; t++) {
      const from = Math.floor((count * t) / threads);
      const to = Math.floor((count * (t + 1)) / threads);
      const worker = new Worker(new URL(import.meta.url), { workerData: { ...base, from, count: to - from } satisfies WorkerInit });
      workers.push(worker);
      ready.push(
        new Promise((ok, fail) => {
          worker.once('message', () => ok());
          worker.once('error', fail);
        }),
      );
    }
    await Promise.all(ready);
    return new WorkerTeam(workers);
  }

  /** Every worker scores its share once; resolves when all are done. */
  runOnce(): Promise<void> {
    return new Promise((ok, fail) => {
      let pending = this.workers.length;
      for (const worker of this.workers) {
        const onError = (error: Error) => fail(error);
        worker.once('error', onError);
        worker.once('message', () => {
          worker.off('error', onError);
          if (--pending === 0) ok();
        });
        worker.postMessage('run');
      }
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

// ---- numpy --------------------------------------------------------------------------------------------

/** The book's numpy code on data/mnist_test.csv (always the book's 784-50-100-10 model: 90,400 FLOP/image). */
function runNumpy(batchSize: number, threads: number, repeat: number): ForwardBenchResult | { skipped: string } {
  if (!existsSync(numpyScript) || !existsSync(bookPickle)) return { skipped: 'needs ../shared/bench/numpy_ref.py and the book pickle' };
  if (!existsSync(testCsv)) return { skipped: 'needs data/mnist_test.csv (node dist/src/cli/data.js --split test)' };
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  try {
    const out = execFileSync('python3', [numpyScript, testCsv, bookPickle, '--reader', 'fromstring', '--batch', String(batchSize), '--repeat', String(repeat)], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rate = /forward_img_per_s=(\d+)/.exec(out);
    if (!rate) return { skipped: `unexpected output: ${out.trim()}` };
    const imagesPerSecond = Number(rate[1]);
    return { name: 'numpy+OpenBLAS', batchSize, threads, imagesPerSecond, gflops: (imagesPerSecond * 90_400) / 1e9, rme: Number.NaN, samples: repeat };
  } catch (error) {
    return { skipped: `python3 failed: ${(error as Error).message.split('\n')[0]}` };
  }
}

// ---- the suite ----------------------------------------------------------------------------------------

export async function runForwardBench(options: ForwardBenchOptions = {}): Promise<ForwardBenchResult[]> {
  const quick = options.quick ?? false;
  const batchSizes = options.batchSizes ?? BATCH_SIZES;
  const kernels = options.kernels ?? KERNELS;
  const log = options.log ? (line: string) => console.log(line) : () => {};
  const modelPath = options.model ?? (existsSync(bookPickle) ? bookPickle : defaultModel);
  const { network } = await loadModel(modelPath);
  const flops = flopsPerImage(network);
  const images = loadTestImages();
  const count = quick ? 2000 : images.count;
  // The reference kernel is ~50x slower: a fifth of the images keeps its runs to seconds.
  const referenceCount = quick ? 500 : 2000;
  const benchOptions = quick ? { maxTime: 0.25, minSamples: 3, initCount: 1 } : { maxTime: 2, minSamples: 10, initCount: 1 };
  log(`model ${modelPath} (${flops} FLOP/image), ${count} MNIST test images, ${quick ? 'quick' : 'full'} run`);
  const results: ForwardBenchResult[] = [];
  const scalings: PairedScaling[] = [];
  log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')} (${availableParallelism()} cores; other processes skew the threaded figures)`);
  const record = (result: ForwardBenchResult) => {
    results.push(result);
    log(formatRow(result));
  };

  // One thread: the engine on the main thread, batch after batch.
  for (const kind of kernels) {
    for (const batchSize of batchSizes) {
      const n = kind === 'reference' ? referenceCount : count;
      const engine = await engineFor(kind, network, batchSize);
      const pass = makePass(kind, network, engine, images, 0, n, batchSize);
      const bench = new Benchmark(`${kind} B=${batchSize}`, () => pass.run(), benchOptions);
      record(resultOf(await runBenchmark(bench), kind, batchSize, 1, n, flops));
    }
  }

  // Worker threads: 1 and 2 workers share the images; one op = every image scored once.
  const shared = shareNetwork(network);
  for (const kind of kernels.filter((k) => k !== 'reference')) {
    for (const batchSize of batchSizes) {
      for (const threads of [1, 2]) {
        const team = await WorkerTeam.start(threads, { role: 'forward-bench-worker', network: shared, x: images.x, pixels: images.pixels, batchSize, kind }, count);
        try {
          const bench = new Benchmark(`${kind} B=${batchSize} ${threads} workers`, {
            ...benchOptions,
            defer: true,
            fn: (deferred: { resolve(): void }) => {
              team.runOnce().then(
                () => deferred.resolve(),
                (error: unknown) => {
                  console.error(error);
                  process.exit(1);
                },
              );
            },
          });
          record(resultOf(await runBenchmark(bench), `${kind} workers`, batchSize, threads, count, flops));
        } finally {
          await team.stop();
        }
      }
    }
  }

  // Paired 1-vs-2-thread ratio: on a shared machine the load changes between two benchmarks, so the two
  // team sizes are timed alternately, round after round, and the median of the per-round ratios is kept.
  if (options.scaling ?? true) {
    const rounds = quick ? 5 : 21;
    for (const kind of kernels.filter((k) => k === 'wasm' || k === 'wasm-pixels')) {
      for (const batchSize of batchSizes.filter((b) => b >= 100)) {
        const base = { role: 'forward-bench-worker', network: shared, x: images.x, pixels: images.pixels, batchSize, kind } as const;
        const one = await WorkerTeam.start(1, base, count);
        const two = await WorkerTeam.start(2, base, count);
        try {
          const ratios: number[] = [];
          const rates: number[][] = [[], []];
          for (let round = 0; round < rounds; round++) {
            const t0 = performance.now();
            await one.runOnce();
            const t1 = performance.now();
            await two.runOnce();
            const t2 = performance.now();
            if (round === 0) continue; // warm-up
            ratios.push((t1 - t0) / (t2 - t1));
            rates[0].push(count / ((t1 - t0) / 1000));
            rates[1].push(count / ((t2 - t1) / 1000));
          }
          const scaling = { kind, batchSize, rounds: ratios.length, ratio: median(ratios), oneThread: median(rates[0]), twoThreads: median(rates[1]) };
          scalings.push(scaling);
          log(`paired scaling ${kind} B=${batchSize}: 2 threads / 1 thread = ${scaling.ratio.toFixed(2)}x (medians of ${scaling.rounds} alternating rounds: ${Math.round(scaling.oneThread).toLocaleString('en-US')} vs ${Math.round(scaling.twoThreads).toLocaleString('en-US')} images/s)`);
        } finally {
          await Promise.all([one.stop(), two.stop()]);
        }
      }
    }
  }

  if (options.numpy ?? !quick) {
    const repeat = quick ? 1 : 5;
    for (const threads of [1, 2]) {
      for (const batchSize of batchSizes) {
        const numpy = runNumpy(batchSize, threads, batchSize === 1 ? 1 : repeat);
        if ('skipped' in numpy) {
          log(`numpy skipped: ${numpy.skipped}`);
          break;
        }
        record(numpy);
      }
    }
  }
  log(`load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  options.onScaling?.(scalings);
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function formatRow(r: ForwardBenchResult): string {
  const rate = Math.round(r.imagesPerSecond).toLocaleString('en-US');
  const rme = Number.isNaN(r.rme) ? '' : `±${r.rme.toFixed(1)}%`;
  return `${r.name.padEnd(34)} B=${String(r.batchSize).padEnd(5)} threads=${r.threads}  ${rate.padStart(11)} images/s  ${r.gflops.toFixed(2).padStart(6)} GFLOP/s  ${rme.padStart(7)}  (${r.samples} samples)`;
}

/** Images/s by kernel (rows) and batch size (columns). */
export function formatTable(results: ForwardBenchResult[]): string {
  const names = [...new Set(results.map((r) => `${r.name}|${r.threads}`))];
  const header = `${'kernel'.padEnd(34)} ${'threads'.padStart(7)} ${BATCH_SIZES.map((b) => `B=${b}`.padStart(11)).join(' ')}`;
  const lines = names.map((key) => {
    const [name, threads] = key.split('|');
    const cells = BATCH_SIZES.map((b) => {
      const r = results.find((x) => x.name === name && String(x.threads) === threads && x.batchSize === b);
      return (r ? Math.round(r.imagesPerSecond).toLocaleString('en-US') : '-').padStart(11);
    });
    return `${name.padEnd(34)} ${threads.padStart(7)} ${cells.join(' ')}`;
  });
  return [header, ...lines].join('\n');
}

function positiveInteger(text: string | undefined, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`forward.bench: ${option} needs a positive integer, got '${text}'`);
  return value;
}

function kernelList(text: string | undefined): KernelName[] {
  const names = (text ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(KERNELS as string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw new Error(`forward.bench: --kernels takes a comma list of ${KERNELS.join(', ')}; got '${text}'`);
  return names as KernelName[];
}

function parseCli(argv: string[]): ForwardBenchOptions & { json?: string } {
  const options: ForwardBenchOptions & { json?: string } = { log: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-numpy') options.numpy = false;
    else if (arg === '--numpy') options.numpy = true;
    else if (arg === '--model') options.model = argv[++i];
    else if (arg === '--json') options.json = argv[++i];
    else if (arg === '--no-scaling') options.scaling = false;
    else if (arg === '--batch') (options.batchSizes ??= []).push(positiveInteger(argv[++i], '--batch'));
    else if (arg === '--kernels') options.kernels = kernelList(argv[++i]);
    else throw new Error(`forward.bench: unknown argument '${arg}' (--quick, --model FILE, --batch N (repeatable), --kernels LIST, --numpy/--no-numpy, --no-scaling, --json FILE)`);
  }
  return options;
}

if (!isMainThread && (workerData as WorkerInit | undefined)?.role === 'forward-bench-worker') {
  await workerMain(workerData as WorkerInit);
} else if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseCli(process.argv.slice(2));
  let scalings: PairedScaling[] = [];
  const results = await runForwardBench({ ...options, onScaling: (s) => (scalings = s) });
  console.log(`\nimages/s (median of samples; GFLOP/s = images/s x FLOP per image / 1e9)\n${formatTable(results)}`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ loadavg: loadavg(), results, scalings }, null, 2)}\n`);
}
