// CSV decode throughput, MB/s, on the real MNIST CSVs (benchmark.js):
//   csv-parse path       csvRows + batchRows, file -> batches (the general path)
//   fast path            openBatchSource({ parser: 'fast' }), file -> batches
//   read only            createReadStream in 64 KiB chunks, nothing else (the floor for the two above)
//   fast decoder         FastCsvDecoder on the file's bytes already in memory, 64 KiB chunks
//                        (what decoding costs the main thread)
//   line splitting       BlockSplitter, 100-row blocks, bytes in memory (what the main thread would
//                        still do if the workers decoded)
//   block decode         decodeBlock on those 100-row blocks (what a worker would do per batch), with
//                        the JavaScript decodeRow and with the WebAssembly row decoder (row-decoder.wat):
//                        'wasm' copies each batch out of the decoder's memory into a fresh buffer (what
//                        decodeBlock returns), 'wasm view' does not (decodeBlockView)
//   split + 2 workers    the worker placement end to end: file read and split on the main thread, each
//                        block transferred to one of 2 worker threads that decodes it (no forward pass),
//                        with the JavaScript and with the WebAssembly row decoder
//   cold, first N blocks a fresh worker thread decodes the first N 100-row blocks of mnist_test.csv (what a
//                        short run's workers do before the JIT has warmed up), JS vs wasm, alternating,
//                        one fresh worker per sample; the wasm time includes compiling the module
//
//   node dist/bench/decode.bench.js [--quick]   prints a table
//   runDecodeBench({ quick }) returns the rows (for a harness that collects every suite).
//
// Per benchmark.js's pitfalls (library notes, section 5): no setup/teardown (they are decompiled and lose
// their closures), data prepared beforehand, `defer: true` for the async ones. Figures are medians of
// the samples (MB/s = bytes / median time per run), with benchmark.js's relative margin of error.
import Benchmark from 'benchmark';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openBatchSource } from '../src/data/batch-source.js';
import { batchRows } from '../src/data/batcher.js';
import { csvRows, defaultMaxRecordBytes } from '../src/data/csv-source.js';
import { BlockSplitter, decodeBlock, decodeBlockJs, decodeBlockView, type LineBlock } from '../src/data/fast-csv/block.js';
import { FastCsvDecoder } from '../src/data/fast-csv/decoder.js';
import { loadRowDecoder, rowDecoder, setRowDecoder, type WasmRowDecoder } from '../src/data/fast-csv/row-decoder-wasm.js';
import { MNIST_FEATURES, mnistCsvPath, prepareMnistCsv, type MnistSplit } from '../src/data/mnist.js';
import { normalizationTable } from '../src/data/normalize.js';
import type { CsvLayout } from '../src/data/types.js';

export interface DecodeBenchRow {
  name: string;
  mbPerSecond: number;
  rme: number;
  samples: number;
}

const CHUNK = 64 * 1024;
const BATCH = 100;
const CLASSES = 10;
const LAYOUT: CsvLayout = { hasHeader: false, fieldCount: MNIST_FEATURES + 1, labelIndex: 0 };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function drain(batches: AsyncIterable<{ rows: number }>): Promise<number> {
  let rows = 0;
  for await (const batch of batches) rows += batch.rows;
  return rows;
}

interface Case {
  name: string;
  bytes: number;
  /** Synchronous body, or an async one (run deferred). */
  run: (() => unknown) | { async: () => Promise<unknown> };
}

const WORKERS = 2;

/** Worker threads that decode the blocks they are sent (decodeBlock), for the worker-placement case. */
class BlockWorkers {
  private readonly workers: Worker[];
  private next = 0;
  private inFlight = 0;
  private waiting: (() => void) | null = null;
  private failure: unknown = null;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    for (const worker of workers) {
      worker.on('message', () => {
        this.inFlight--;
        const wake = this.waiting;
        this.waiting = null;
        wake?.();
      });
      worker.on('error', (error) => {
        this.failure ??= error;
        this.waiting?.();
      });
    }
  }

  /** `decoder`: the row decoder the workers use ('js': NNPIPE_CSV_WASM=0 in their environment). */
  static async start(count: number, decoder: 'js' | 'wasm' = 'wasm'): Promise<BlockWorkers> {
    const block = new URL('../src/data/fast-csv/block.js', import.meta.url).href;
    const normalize = new URL('../src/data/normalize.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      Promise.all([import(${JSON.stringify(block)}), import(${JSON.stringify(normalize)})]).then(([{ decodeBlock }, { normalizationTable }]) => {
        const spec = { layout: ${JSON.stringify(LAYOUT)}, features: ${MNIST_FEATURES}, classes: ${CLASSES}, table: normalizationTable('unit'), maxRecordBytes: ${defaultMaxRecordBytes(MNIST_FEATURES)} };
        parentPort.on('message', (m) => parentPort.postMessage(decodeBlock(m.bytes, m.firstLine, m.index, spec).batch.rows));
        parentPort.postMessage('ready');
      });`;
    const workers = await Promise.all(
      Array.from({ length: count }, () => new Promise<Worker>((resolve, reject) => {
        const worker = new Worker(code, { eval: true, env: { ...process.env, NNPIPE_CSV_WASM: decoder === 'js' ? '0' : '' } });
        worker.once('message', () => resolve(worker));
        worker.once('error', reject);
      })),
    );
    return new BlockWorkers(workers);
  }

  /** Sends a block (its bytes are transferred), waiting while 2 per worker are in flight. */
  async send(block: LineBlock): Promise<void> {
    while (this.inFlight >= 2 * this.workers.length && this.failure === null) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.failure !== null) throw this.failure;
    this.inFlight++;
    const worker = this.workers[this.next++ % this.workers.length];
    worker.postMessage({ bytes: block.bytes, firstLine: block.firstLine, index: block.index }, [block.bytes.buffer as ArrayBuffer]);
  }

  async drain(): Promise<void> {
    while (this.inFlight > 0 && this.failure === null) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function casesFor(split: MnistSplit, path: string, data: Buffer, quick: boolean, workers: Record<'js' | 'wasm', BlockWorkers>, wasm: WasmRowDecoder): Case[] {
  const table = normalizationTable('unit');
  const source = { input: path, features: MNIST_FEATURES, classes: CLASSES, onError: 'fail' as const };
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK) chunks.push(data.subarray(at, at + CHUNK));
  const maxRecordBytes = defaultMaxRecordBytes(MNIST_FEATURES);

  // The blocks a splitter makes (for "block decode"), cut once here.
  const blocks: LineBlock[] = [];
  const splitter = new BlockSplitter({ rowsPerBlock: BATCH, firstLine: 1, maxLineBytes: maxRecordBytes, file: path });
  for (const chunk of chunks) blocks.push(...splitter.push(chunk));
  const last = splitter.finish();
  if (last) blocks.push(last);

  const cases: Case[] = [];
  if (!(quick && split === 'train')) {
    cases.push({
      name: `csv-parse path (csvRows+batchRows), ${split}`,
      bytes: data.length,
      run: { async: () => drain(batchRows(csvRows(source), { batchSize: BATCH, features: MNIST_FEATURES, table })) },
    });
  }
  cases.push(
    {
      name: `fast path (openBatchSource fast), ${split}`,
      bytes: data.length,
      run: { async: () => drain(openBatchSource({ ...source, batchSize: BATCH, table, parser: 'fast' }).batches) },
    },
    {
      name: `read only (64 KiB chunks), ${split}`,
      bytes: data.length,
      run: {
        async: () =>
          new Promise<void>((resolve, reject) => {
            createReadStream(path, { highWaterMark: CHUNK }).on('data', () => undefined).on('end', resolve).on('error', reject);
          }),
      },
    },
    ...(['js', 'wasm'] as const).map((kind) => ({
      name: `fast decoder, in memory, ${kind}, ${split}`,
      bytes: data.length,
      run: () => {
        // The decoder takes this thread's row decoder when it decodes: set it for this (synchronous) run.
        const saved = rowDecoder();
        setRowDecoder(kind === 'js' ? null : wasm);
        try {
          const decoder = new FastCsvDecoder({ file: path, features: MNIST_FEATURES, classes: CLASSES, onError: 'fail', maxRecordBytes, batchSize: BATCH, table });
          for (const chunk of chunks) {
            decoder.push(chunk);
            decoder.events.length = 0;
          }
          decoder.finish();
          return decoder.good;
        } finally {
          setRowDecoder(saved);
        }
      },
    })),
    {
      name: `line splitting (100-row blocks), in memory, ${split}`,
      bytes: data.length,
      run: () => {
        const s = new BlockSplitter({ rowsPerBlock: BATCH, firstLine: 1, maxLineBytes: maxRecordBytes, file: path });
        let n = 0;
        for (const chunk of chunks) n += s.push(chunk).length;
        return n + (s.finish() ? 1 : 0);
      },
    },
    ...(['js', 'wasm'] as const).map((kind) => ({
      name: `split + ${WORKERS} workers decode (file -> blocks), ${kind}, ${split}`,
      bytes: data.length,
      run: {
        async: async () => {
          const s = new BlockSplitter({ rowsPerBlock: BATCH, firstLine: 1, maxLineBytes: maxRecordBytes, file: path });
          for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
            for (const block of s.push(chunk as Buffer)) await workers[kind].send(block);
          }
          const last = s.finish();
          if (last) await workers[kind].send(last);
          await workers[kind].drain();
        },
      },
    })),
    ...(['js', 'wasm', 'wasm view'] as const).map((kind) => ({
      name: `block decode (100-row blocks), in memory, ${kind}, ${split}`,
      bytes: data.length,
      run: () => {
        let rows = 0;
        const spec = { layout: LAYOUT, features: MNIST_FEATURES, classes: CLASSES, table, maxRecordBytes };
        for (const block of blocks) {
          const decoded =
            kind === 'js'
              ? decodeBlockJs(block.bytes, block.firstLine, block.index, spec)
              : kind === 'wasm'
                ? decodeBlock(block.bytes, block.firstLine, block.index, spec, wasm)
                : decodeBlockView(block.bytes, block.firstLine, block.index, spec, wasm);
          rows += decoded.batch?.rows ?? 0;
        }
        return rows;
      },
    })),
  );
  return cases;
}

/** Runs the suite and returns one row per benchmark (MB/s are medians over the samples). */
export async function runDecodeBench(options: { quick?: boolean } = {}): Promise<DecodeBenchRow[]> {
  const quick = options.quick === true;
  const splits: MnistSplit[] = ['test', 'train'];
  const cases: Case[] = [];
  const load = loadRowDecoder();
  if (!load.ok) throw new Error(`decode bench: ${load.reason}`);
  // Cold first (fresh workers, nothing else running), then the warm suite.
  const cold = await runColdDecodeBench({ trials: quick ? 5 : 15 });
  const workers = { js: await BlockWorkers.start(WORKERS, 'js'), wasm: await BlockWorkers.start(WORKERS, 'wasm') };
  try {
    for (const split of splits) {
      const { path } = await prepareMnistCsv(split);
      const data = await readFile(path);
      cases.push(...casesFor(split, path, data, quick, workers, load.decoder));
    }
    // csv-parse last: the garbage it leaves (a string per field) would slow whatever runs after it.
    const general = cases.filter((c) => c.name.startsWith('csv-parse'));
    return [...cold, ...(await runCases([...cases.filter((c) => !general.includes(c)), ...general], quick))];
  } finally {
    await Promise.all([workers.js.close(), workers.wasm.close()]);
  }
}

/** First-blocks counts for the cold measurement. */
const COLD_BLOCKS = [1, 10, 50];

/**
 * Cold decoding: per sample, a fresh worker thread imports block.js (not timed), receives the first
 * max(COLD_BLOCKS) 100-row blocks of mnist_test.csv, then decodes them one after the other, timing the
 * first 1, 10, 50 (the wasm sample includes reading and compiling row-decoder.wasm on first use, as a
 * pipeline worker does). JS and wasm samples alternate (the machine is shared and noisy); MB/s are
 * bytes / median time, rme from the samples' standard error.
 */
export async function runColdDecodeBench(options: { trials: number }): Promise<DecodeBenchRow[]> {
  const { path } = await prepareMnistCsv('test');
  const data = await readFile(path);
  const maxBlocks = Math.max(...COLD_BLOCKS);
  const splitter = new BlockSplitter({ rowsPerBlock: BATCH, firstLine: 1, maxLineBytes: defaultMaxRecordBytes(MNIST_FEATURES), file: path });
  const blocks = splitter.push(data).slice(0, maxBlocks);
  const bytesUpTo = COLD_BLOCKS.map((n) => blocks.slice(0, n).reduce((sum, b) => sum + b.bytes.length, 0));
  const samples: Record<'js' | 'wasm', number[][]> = { js: [], wasm: [] };
  for (let trial = 0; trial < options.trials; trial++) {
    for (const kind of trial % 2 === 0 ? (['js', 'wasm'] as const) : (['wasm', 'js'] as const)) {
      samples[kind].push(await coldSample(kind, blocks));
    }
  }
  const rows: DecodeBenchRow[] = [];
  COLD_BLOCKS.forEach((n, i) => {
    for (const kind of ['js', 'wasm'] as const) {
      const ms = samples[kind].map((s) => s[i]);
      const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
      const sd = Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ms.length - 1));
      rows.push({
        name: `cold: fresh worker, first ${n} block${n === 1 ? '' : 's'} of test (${(bytesUpTo[i] / 1e6).toFixed(1)} MB), ${kind}`,
        mbPerSecond: bytesUpTo[i] / 1e3 / median(ms),
        rme: ((1.96 * sd) / Math.sqrt(ms.length) / mean) * 100,
        samples: ms.length,
      });
    }
  });
  return rows;
}

/** One fresh worker decoding `blocks` in order: ms after each of COLD_BLOCKS blocks. */
async function coldSample(kind: 'js' | 'wasm', blocks: LineBlock[]): Promise<number[]> {
  const block = new URL('../src/data/fast-csv/block.js', import.meta.url).href;
  const normalize = new URL('../src/data/normalize.js', import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { performance } = require('node:perf_hooks');
    Promise.all([import(${JSON.stringify(block)}), import(${JSON.stringify(normalize)})]).then(([{ decodeBlock }, { normalizationTable }]) => {
      const spec = { layout: ${JSON.stringify(LAYOUT)}, features: ${MNIST_FEATURES}, classes: ${CLASSES}, table: normalizationTable('unit'), maxRecordBytes: ${defaultMaxRecordBytes(MNIST_FEATURES)} };
      parentPort.once('message', (blocks) => {
        const marks = ${JSON.stringify(COLD_BLOCKS)};
        const times = [];
        const started = performance.now();
        for (let i = 0; i < blocks.length; i++) {
          const b = blocks[i];
          if (decodeBlock(b.bytes, b.firstLine, b.index, spec).batch.rows !== 100) throw new Error('short block');
          if (marks.includes(i + 1)) times.push(performance.now() - started);
        }
        parentPort.postMessage(times);
      });
      parentPort.postMessage('ready');
    });`;
  const worker = new Worker(code, { eval: true, env: { ...process.env, NNPIPE_CSV_WASM: kind === 'js' ? '0' : '' } });
  try {
    return await new Promise<number[]>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: unknown) => {
        if (m === 'ready') {
          const copies = blocks.map((b) => ({ bytes: b.bytes.slice(), firstLine: b.firstLine, index: b.index }));
          worker.postMessage(copies, copies.map((c) => c.bytes.buffer as ArrayBuffer));
        } else resolve(m as number[]);
      });
    });
  } finally {
    await worker.terminate();
  }
}

async function runCases(cases: Case[], quick: boolean): Promise<DecodeBenchRow[]> {
  const suite = new Benchmark.Suite('decode');
  const benchOptions = quick ? { minSamples: 3, maxTime: 1, initCount: 1 } : { minSamples: 7, maxTime: 4, initCount: 1 };
  let failure: unknown = null;
  for (const c of cases) {
    const run = c.run;
    if (typeof run === 'function') {
      suite.add(c.name, () => run(), benchOptions);
    } else {
      suite.add(
        c.name,
        (deferred: Benchmark.Deferred) => {
          run.async().then(
            () => deferred.resolve(),
            (error: unknown) => {
              failure ??= error;
              deferred.resolve();
            },
          );
        },
        { ...benchOptions, defer: true },
      );
    }
  }
  await new Promise<void>((resolve) => {
    suite.on('complete', () => resolve());
    suite.run({ async: true });
  });
  if (failure) throw failure;
  const rows: DecodeBenchRow[] = [];
  suite.forEach((bench: Benchmark) => {
    const c = cases.find((k) => k.name === bench.name);
    if (!c) return;
    if (bench.error) throw bench.error;
    rows.push({
      name: c.name,
      mbPerSecond: c.bytes / 1e6 / median(bench.stats.sample),
      rme: bench.stats.rme,
      samples: bench.stats.sample.length,
    });
  });
  return rows;
}

export function formatDecodeTable(rows: DecodeBenchRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = [`${'benchmark'.padEnd(width)}  ${'MB/s'.padStart(8)}  ${'±rme'.padStart(7)}  samples`];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(width)}  ${r.mbPerSecond.toFixed(1).padStart(8)}  ${`${r.rme.toFixed(1)}%`.padStart(7)}  ${String(r.samples).padStart(7)}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  runDecodeBench({ quick }).then(
    (rows) => {
      console.log(formatDecodeTable(rows));
      const mb = (prefix: string, suffix = 'train') => rows.find((r) => r.name.startsWith(prefix) && r.name.endsWith(suffix))?.mbPerSecond.toFixed(0) ?? '-';
      console.log(
        `\nWhere to decode (mnist_train.csv): the main thread decodes at ${mb('fast decoder, in memory, wasm')} MB/s (in memory) and delivers ` +
          `batches at ${mb('fast path')} MB/s from the file; cutting 100-row blocks for the workers instead runs at ` +
          `${mb('line splitting')} MB/s on the main thread (in memory), and split + ${WORKERS} workers decoding ran at ` +
          `${mb('split + 2 workers decode (file -> blocks), wasm')} MB/s end to end (no forward pass in either).`,
      );
      console.log(
        `Row decoder (mnist_train.csv, 100-row blocks, warm): JS decodeRow ${mb('block decode (100-row blocks), in memory, js')} MB/s, ` +
          `wasm ${mb('block decode (100-row blocks), in memory, wasm,')} MB/s (${mb('block decode (100-row blocks), in memory, wasm view')} MB/s ` +
          `without the copy out); cold, a fresh worker's first 10 blocks: JS ${mb('cold: fresh worker, first 10 blocks', 'js')} MB/s, ` +
          `wasm ${mb('cold: fresh worker, first 10 blocks', 'wasm')} MB/s.`,
      );
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
