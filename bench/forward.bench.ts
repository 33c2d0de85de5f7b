// Forward-pass benchmark: images/s and GFLOP/s on the 10,000 MNIST test images (decoded before timing)
// for batch sizes 1, 10, 100 and 1000, with the reference kernel (src/nn/forward.ts) and each engine, on
// this thread, then on 1 and 2 worker threads (each worker scores its share of the images with its own
// engine, the weights shared as the pool shares them). Optionally, next to peers measured in the same run:
//   --peer    onnxruntime-node (../shared/bench/peers/run.sh forward), interleaved round by round with
//             our engines on 1 and 2 worker threads: every round times the peer's configurations, then
//             ours (alternating which goes first); the ratios are medians of the per-round ratios
//   --numpy   the book's numpy code (../shared/bench/numpy_ref.py), after the other measurements
//
// benchmark.js notes (../shared/notes/library-notes.md, section 5): no setup/teardown (benchmark.js would
// recompile the function from its source and lose every closure), so all data and views are prepared
// before a benchmark is made; the threaded runs are deferred benchmarks. Figures are medians of the
// samples (ops/s from the median sample period), with benchmark.js's relative margin of error.
import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadNativeKernel } from '../src/nn/kernels/index.js';
import { loadModel } from '../src/nn/load-model.js';
import type { Network } from '../src/nn/types.js';
import { shareNetwork, type SharedNetwork } from '../src/pool/shared-network.js';
import {
  engineFor,
  KERNELS,
  loadTestImages,
  makePass,
  WorkerTeam,
  type KernelName,
  type TestImages,
} from './forward-passes.js';
import { numpyDescription } from './numpy.js';
import { runPeerForward, type PeerForwardRow } from './peers.js';
import { markdownTable } from './table.js';

export type { KernelName } from './forward-passes.js';

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
  /** Kernels to measure. @default all (the native ones where the addon is built) */
  kernels?: KernelName[];
  /** The one-thread and worker-thread benchmark.js runs. @default true */
  single?: boolean;
  /** Also time 1 and 2 worker threads alternately and report the median ratio. @default true */
  scaling?: boolean;
  /** Receives the paired scaling measurements (they are not rows of the result table). */
  onScaling?: (scalings: PairedScaling[]) => void;
  /** Compare with onnxruntime-node in the same run, interleaved (see the top of the file). @default false */
  peer?: boolean;
  /** Our engines in the peer comparison. @default the native engine (where built) and wasm */
  peerKernels?: KernelName[];
  /** Rounds of the peer comparison. @default 7 (quick: 2) */
  rounds?: number;
  /** Receives the peer comparison (or why it was skipped). */
  onPeer?: (comparison: PeerComparison[] | { skipped: string }) => void;
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

/**
 * One configuration of the peer comparison: our engine on `threads` workers vs onnxruntime-node with `threads` intra-op
 * threads.
 */
export interface PeerComparison {
  /** Our engine as it ran (e.g. 'native avx512'). */
  kernel: string;
  batchSize: number;
  threads: number;
  rounds: number;
  /** Medians over the rounds, images/s. */
  ours: number;
  peer: number;
  /** Median over the rounds of ours / peer (each round's two figures measured moments apart). */
  ratio: number;
  /** Load average (1 min) at the start and end of the comparison. */
  load: [number, number];
}

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

/** Median-based result of a finished benchmark whose one op scores `images` images. */
function resultOf(
  bench: Benchmark,
  name: string,
  batchSize: number,
  threads: number,
  images: number,
  flops: number,
): ForwardBenchResult {
  const period = median(bench.stats.sample);
  const imagesPerSecond = images / period;
  return {
    name,
    batchSize,
    threads,
    imagesPerSecond,
    gflops: (imagesPerSecond * flops) / 1e9,
    rme: bench.stats.rme,
    samples: bench.stats.sample.length,
  };
}

function runBenchmark(bench: Benchmark): Promise<Benchmark> {
  return new Promise((resolvePromise, reject) => {
    bench.on('complete', () => (bench.error ? reject(bench.error) : resolvePromise(bench)));
    bench.on('error', () => reject(bench.error));
    bench.run({ async: true });
  });
}

const loadText = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

// ---- numpy --------------------------------------------------------------------------------------------

/** The book's numpy code on data/mnist_test.csv (always the book's 784-50-100-10 model: 90,400 FLOP/image). */
function runNumpy(batchSize: number, threads: number, repeat: number): ForwardBenchResult | { skipped: string } {
  if (!existsSync(numpyScript) || !existsSync(bookPickle))
    return { skipped: 'needs ../shared/bench/numpy_ref.py and the book pickle' };
  if (!existsSync(testCsv)) return { skipped: 'needs data/mnist_test.csv (node dist/src/cli/data.js --split test)' };
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads) };
  try {
    const out = execFileSync(
      'python3',
      [
        numpyScript,
        testCsv,
        bookPickle,
        '--reader',
        'fromstring',
        '--batch',
        String(batchSize),
        '--repeat',
        String(repeat),
      ],
      {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const rate = /forward_img_per_s=(\d+)/.exec(out);
    if (!rate) return { skipped: `unexpected output: ${out.trim()}` };
    const imagesPerSecond = Number(rate[1]);
    return {
      name: numpyDescription() ?? 'numpy',
      batchSize,
      threads,
      imagesPerSecond,
      gflops: (imagesPerSecond * 90_400) / 1e9,
      rme: Number.NaN,
      samples: repeat,
    };
  } catch (error) {
    return { skipped: `python3 failed: ${(error as Error).message.split('\n')[0]}` };
  }
}

// ---- the suite ----------------------------------------------------------------------------------------

interface Context {
  network: Network;
  shared: SharedNetwork;
  images: TestImages;
  count: number;
  flops: number;
  quick: boolean;
  batchSizes: number[];
  log: (line: string) => void;
}

export async function runForwardBench(options: ForwardBenchOptions = {}): Promise<ForwardBenchResult[]> {
  const quick = options.quick ?? false;
  // Progress lines go to stderr: stdout carries only the report (run.ts prints its tables there).
  const log = options.log ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
  const modelPath = options.model ?? (existsSync(bookPickle) ? bookPickle : defaultModel);
  const { network } = await loadModel(modelPath);
  const images = loadTestImages();
  const context: Context = {
    network,
    shared: shareNetwork(network),
    images,
    count: quick ? 2000 : images.count,
    flops: flopsPerImage(network),
    quick,
    batchSizes: options.batchSizes ?? BATCH_SIZES,
    log,
  };
  const native = loadNativeKernel();
  const available = (kind: KernelName) => native.ok || !kind.startsWith('native');
  if (!native.ok) log(`native kernels skipped: ${native.reason}`);
  const kernels = (options.kernels ?? KERNELS).filter(available);
  log(
    `model ${modelPath} (${context.flops} FLOP/image), ${context.count} MNIST test images, ` +
      `${quick ? 'quick' : 'full'} run`,
  );
  log(
    `load average at start: ${loadText()} (${availableParallelism()} cores; other processes skew the threaded figures)`,
  );
  const results: ForwardBenchResult[] = [];
  const record = (result: ForwardBenchResult) => {
    results.push(result);
    log(formatRow(result));
  };
  if (options.single ?? true) await singleRuns(context, kernels, record);
  if (options.scaling ?? true) options.onScaling?.(await pairedScaling(context, kernels));
  if (options.peer) {
    const peerKernels = (options.peerKernels ?? (['native', 'wasm'] as KernelName[])).filter(available);
    const comparison = await comparePeer(context, peerKernels, options.rounds ?? (quick ? 2 : 7));
    if ('skipped' in comparison) log(`onnxruntime-node peer skipped: ${comparison.skipped}`);
    else
      log(
        `\nforward pass vs onnxruntime-node (medians of ${comparison[0]?.rounds} interleaved rounds; load ` +
          `${comparison[0]?.load.join(' -> ')}` +
          `)\n${formatPeerTable(comparison)}`,
      );
    options.onPeer?.(comparison);
  }
  if (options.numpy ?? !quick) {
    const repeat = quick ? 1 : 5;
    for (const threads of [1, 2]) {
      for (const batchSize of context.batchSizes) {
        const numpy = runNumpy(batchSize, threads, batchSize === 1 ? 1 : repeat);
        if ('skipped' in numpy) {
          log(`numpy skipped: ${numpy.skipped}`);
          break;
        }
        record(numpy);
      }
    }
  }
  log(`load average at end: ${loadText()}`);
  return results;
}

/** benchmark.js runs: each kernel on this thread, then on 1 and 2 worker threads (one op = every image once). */
async function singleRuns(
  { network, shared, images, count, flops, quick, batchSizes }: Context,
  kernels: KernelName[],
  record: (r: ForwardBenchResult) => void,
): Promise<void> {
  // The reference kernel is ~50x slower: a fifth of the images keeps its runs to seconds.
  const referenceCount = quick ? 500 : 2000;
  const benchOptions = quick
    ? { maxTime: 0.25, minSamples: 3, initCount: 1 }
    : { maxTime: 2, minSamples: 10, initCount: 1 };
  for (const kind of kernels) {
    for (const batchSize of batchSizes) {
      const n = kind === 'reference' ? referenceCount : count;
      const engine = await engineFor(kind, network, batchSize);
      const pass = makePass(kind, network, engine, images, 0, n, batchSize);
      const bench = new Benchmark(`${kind} B=${batchSize}`, () => pass.run(), benchOptions);
      record(resultOf(await runBenchmark(bench), kind, batchSize, 1, n, flops));
    }
  }
  for (const kind of kernels.filter((k) => k !== 'reference')) {
    for (const threads of [1, 2]) {
      const team = await WorkerTeam.start(
        threads,
        { network: shared, x: images.x, pixels: images.pixels, batchSizes, kind },
        count,
      );
      try {
        for (const batchSize of batchSizes) {
          const bench = new Benchmark(`${kind} B=${batchSize} ${threads} workers`, {
            ...benchOptions,
            defer: true,
            fn: (deferred: { resolve(): void }) => {
              team.runOnce(batchSize).then(
                () => deferred.resolve(),
                (error: unknown) => {
                  console.error(error);
                  process.exit(1);
                },
              );
            },
          });
          record(resultOf(await runBenchmark(bench), `${kind} workers`, batchSize, threads, count, flops));
        }
      } finally {
        await team.stop();
      }
    }
  }
}

/**
 * 1 vs 2 worker threads, timed alternately round after round (on a shared machine the load changes
 * between two benchmarks); the median of the per-round ratios is kept.
 */
async function pairedScaling(
  { shared, images, count, quick, batchSizes, log }: Context,
  kernels: KernelName[],
): Promise<PairedScaling[]> {
  const scalings: PairedScaling[] = [];
  const rounds = quick ? 5 : 21;
  const large = batchSizes.filter((b) => b >= 100);
  for (const kind of kernels.filter((k) => k !== 'reference' && k !== 'js')) {
    const base = { network: shared, x: images.x, pixels: images.pixels, batchSizes: large, kind };
    const one = await WorkerTeam.start(1, base, count);
    const two = await WorkerTeam.start(2, base, count);
    try {
      for (const batchSize of large) {
        const ratios: number[] = [];
        const rates: number[][] = [[], []];
        for (let round = 0; round < rounds; round++) {
          const t0 = performance.now();
          await one.runOnce(batchSize);
          const t1 = performance.now();
          await two.runOnce(batchSize);
          const t2 = performance.now();
          if (round === 0) continue; // warm-up
          ratios.push((t1 - t0) / (t2 - t1));
          rates[0].push(count / ((t1 - t0) / 1000));
          rates[1].push(count / ((t2 - t1) / 1000));
        }
        const scaling = {
          kind,
          batchSize,
          rounds: ratios.length,
          ratio: median(ratios),
          oneThread: median(rates[0]),
          twoThreads: median(rates[1]),
        };
        scalings.push(scaling);
        log(
          `paired scaling ${kind} B=${batchSize}: 2 threads / 1 thread = ${scaling.ratio.toFixed(2)}` +
            `x (medians of ${scaling.rounds}` +
            ` alternating rounds: ${Math.round(scaling.oneThread).toLocaleString('en-US')}` +
            ` vs ${Math.round(scaling.twoThreads).toLocaleString('en-US')} images/s)`,
        );
      }
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  }
  return scalings;
}

/** Times `team` on `batchSize` for at least `minSeconds` (whole passes, as the peer does); images/s. */
async function timeTeam(team: WorkerTeam, batchSize: number, count: number, minSeconds: number): Promise<number> {
  let passes = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    await team.runOnce(batchSize);
    passes++;
    elapsed = (performance.now() - started) / 1000;
  } while (elapsed < minSeconds);
  return (count * passes) / elapsed;
}

/**
 * Our engines on 1 and 2 worker threads against onnxruntime-node with 1 and 2 intra-op threads, on the
 * same images (the peer decodes data/mnist_test.csv; the same 10,000 MNIST test images), round by round.
 */
async function comparePeer(
  { shared, images, batchSizes, quick, log }: Context,
  kernels: KernelName[],
  rounds: number,
): Promise<PeerComparison[] | { skipped: string }> {
  const count = images.count; // the peer always scores the whole file
  const minSeconds = quick ? 0.05 : 0.25; // the peer's own minimum per sample
  const teams: Array<{ kind: KernelName; threads: number; team: WorkerTeam }> = [];
  const start = loadavg()[0];
  try {
    for (const kind of kernels) {
      for (const threads of [1, 2]) {
        const team = await WorkerTeam.start(
          threads,
          { network: shared, x: images.x, pixels: images.pixels, batchSizes, kind },
          count,
        );
        teams.push({ kind, threads, team });
        for (const batchSize of batchSizes) await team.runOnce(batchSize); // warm-up, as the peer does
      }
    }
    const samples = new Map<string, { ours: number[]; peer: number[]; ratios: number[] }>();
    const key = (detail: string, batchSize: number, threads: number) => `${detail}|${batchSize}|${threads}`;
    for (let round = 0; round < rounds; round++) {
      let peer: PeerForwardRow[] = [];
      const runPeer = async () => {
        const outcome = await runPeerForward(testCsv, { batches: batchSizes, threads: [1, 2], samples: 1 });
        if (!outcome.ok) throw new PeerSkipped(outcome.reason);
        peer = outcome.rows;
      };
      const ours = new Map<string, number>();
      const runOurs = async () => {
        for (const { team, threads } of teams) {
          for (const batchSize of batchSizes)
            ours.set(key(team.detail, batchSize, threads), await timeTeam(team, batchSize, count, minSeconds));
        }
      };
      if (round % 2 === 0) {
        await runPeer();
        await runOurs();
      } else {
        await runOurs();
        await runPeer();
      }
      for (const { team, threads } of teams) {
        for (const batchSize of batchSizes) {
          const theirs = peer.find((row) => row.batch === batchSize && row.threads === threads);
          if (!theirs) throw new PeerSkipped(`the peer printed no figure for B=${batchSize}, ${threads} threads`);
          const mine = ours.get(key(team.detail, batchSize, threads))!;
          const entry = samples.get(key(team.detail, batchSize, threads)) ?? { ours: [], peer: [], ratios: [] };
          entry.ours.push(mine);
          entry.peer.push(theirs.imagesPerSecond);
          entry.ratios.push(mine / theirs.imagesPerSecond);
          samples.set(key(team.detail, batchSize, threads), entry);
        }
      }
      log(`peer round ${round + 1}/${rounds} done, load ${loadText()}`);
    }
    const end = loadavg()[0];
    return [...samples].map(([name, s]) => {
      const [kernel, batchSize, threads] = name.split('|');
      return {
        kernel,
        batchSize: Number(batchSize),
        threads: Number(threads),
        rounds,
        ours: median(s.ours),
        peer: median(s.peer),
        ratio: median(s.ratios),
        load: [start, end],
      };
    });
  } catch (error) {
    if (error instanceof PeerSkipped) return { skipped: error.message };
    throw error;
  } finally {
    await Promise.all(teams.map(({ team }) => team.stop()));
  }
}

class PeerSkipped extends Error {}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');

export function formatRow(r: ForwardBenchResult): string {
  const rme = Number.isNaN(r.rme) ? '' : `±${r.rme.toFixed(1)}%`;
  return (
    `${r.name.padEnd(34)} B=${String(r.batchSize).padEnd(5)} threads=${r.threads}  ` +
    `${rate(r.imagesPerSecond).padStart(11)}` +
    ` images/s  ${r.gflops.toFixed(2).padStart(6)}` +
    ` GFLOP/s  ${rme.padStart(7)}` +
    `  (${r.samples} samples)`
  );
}

/** Images/s by kernel (rows) and batch size (columns). */
/** What the kernel names mean (the `-pixels` ones are otherwise never explained where they are shown). */
export const KERNEL_NOTE =
  'reference: src/nn/forward.ts (plain loops); js, wasm, native: the engines, fed floats normalised beforehand (as ' +
  'the pipeline feeds them); ' +
  'wasm-pixels, native-pixels: the same engines fed the raw pixel bytes (0-255), the normalisation fused into their ' +
  'first layer (predictPixels)';

export function formatTable(results: ForwardBenchResult[]): string {
  const names = [...new Set(results.map((r) => `${r.name}|${r.threads}`))];
  const rows = names.map((key) => {
    const [name, threads] = key.split('|');
    const cells = BATCH_SIZES.map((b) => {
      const r = results.find((x) => x.name === name && String(x.threads) === threads && x.batchSize === b);
      return r ? rate(r.imagesPerSecond) : '-';
    });
    return [name, threads, ...cells];
  });
  const table = markdownTable(['kernel', 'threads', ...BATCH_SIZES.map((b) => `B=${b}`)], rows, [
    false,
    true,
    ...BATCH_SIZES.map(() => true),
  ]);
  return [table, '', KERNEL_NOTE].join('\n');
}

/** One line per configuration: ours, the peer's, and the median per-round ratio. */
export function formatPeerTable(rows: PeerComparison[]): string {
  const cells = rows.map((r) => [
    r.kernel,
    String(r.batchSize),
    String(r.threads),
    rate(r.ours),
    rate(r.peer),
    `${r.ratio.toFixed(2)}x`,
  ]);
  return markdownTable(['engine', 'B', 'threads', 'ours img/s', 'onnxruntime', 'ratio'], cells, [
    false,
    true,
    true,
    true,
    true,
    true,
  ]);
}

export const USAGE = `usage: node dist/bench/forward.bench.js [options]

Forward pass alone on the 10,000 MNIST test images (decoded before timing): images/s for each kernel
on this thread and on 1 and 2 worker threads, the 1-vs-2-thread scaling, and optionally peers
measured in the same run.

  --quick              2,000 images, short runs: a smoke test, not a measurement
  --model FILE         model file (default: ../shared/reference/sample_weight.pkl, else
                       data/models/default.safetensors)
  --batch N            a batch size to measure (repeatable; default 1, 10, 100, 1000)
  --kernels LIST       comma list of ${KERNELS.join(', ')}
                       (default: all; the native ones where the addon is built); -pixels: the
                       engine fed raw pixel bytes, the normalisation fused into its first layer
  --no-single          skip the one-thread and worker-thread benchmark.js runs
  --no-scaling         skip the paired 1-vs-2-thread scaling
  --peer               onnxruntime-node (../shared/bench/peers/run.sh forward) on the same images,
                       interleaved round by round with our engines on 1 and 2 worker threads
  --peer-kernels LIST  our engines in that comparison (default: native,wasm)
  --rounds N           rounds of the peer comparison (default 7; --quick 2)
  --numpy, --no-numpy  the book's numpy code (../shared/bench/numpy_ref.py); default on unless --quick
  --json FILE          also write every figure as JSON (load average included)
  -h, --help           this text

The machine may be shared: compare ratios measured in one run, and quote the load average with them.

  node dist/bench/forward.bench.js --no-single --no-scaling --no-numpy --peer       # engines vs onnxruntime
`;

function kernelList(text: string, option: string): KernelName[] {
  const names = text.split(',').filter(Boolean);
  const unknown = names.filter((n) => !(KERNELS as string[]).includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(`forward.bench: ${option} takes a comma list of ${KERNELS.join(', ')}; got '${text}'`);
  return names as KernelName[];
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`forward.bench: ${option} needs a positive integer, got '${text}'`);
  return value;
}

export function parseCli(argv: string[]): (ForwardBenchOptions & { json?: string }) | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      model: { type: 'string' },
      batch: { type: 'string', multiple: true },
      kernels: { type: 'string' },
      'no-single': { type: 'boolean' },
      'no-scaling': { type: 'boolean' },
      peer: { type: 'boolean' },
      'peer-kernels': { type: 'string' },
      rounds: { type: 'string' },
      numpy: { type: 'boolean' },
      'no-numpy': { type: 'boolean' },
      json: { type: 'string' },
    },
  });
  if (values.help) return 'help';
  return {
    log: true,
    quick: values.quick,
    model: values.model,
    batchSizes: values.batch?.map((b) => positiveInteger(b, '--batch')),
    kernels: values.kernels === undefined ? undefined : kernelList(values.kernels, '--kernels'),
    single: !values['no-single'],
    scaling: !values['no-scaling'],
    peer: values.peer,
    peerKernels:
      values['peer-kernels'] === undefined ? undefined : kernelList(values['peer-kernels'], '--peer-kernels'),
    rounds: values.rounds === undefined ? undefined : positiveInteger(values.rounds, '--rounds'),
    numpy: values['no-numpy'] ? false : values.numpy,
    json: values.json,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
  } else {
    let scalings: PairedScaling[] = [];
    let peer: PeerComparison[] | { skipped: string } | undefined;
    const results = await runForwardBench({ ...options, onScaling: (s) => (scalings = s), onPeer: (p) => (peer = p) });
    if (results.length > 0)
      console.log(`images/s (median of samples; GFLOP/s = images/s x FLOP per image / 1e9)\n\n${formatTable(results)}`);
    const compared = peer as PeerComparison[] | { skipped: string } | undefined;
    if (compared !== undefined && !('skipped' in compared))
      console.log(`\nforward pass vs onnxruntime-node (medians of interleaved rounds)\n\n${formatPeerTable(compared)}`);
    if (options.json)
      writeFileSync(options.json, `${JSON.stringify({ loadavg: loadavg(), results, scalings, peer }, null, 2)}\n`);
  }
}
