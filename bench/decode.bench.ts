// CSV reading throughput, MB/s, on the real MNIST CSVs (benchmark.js), stage by stage:
//   read only            the file in 1 MiB reads into shared chunks, nothing else (the floor)
//   framing              read + the framer's blocks of 100 rows (what the main thread does per run)
//   framing + decode     read, frame, decode every block here (the whole data path on one thread)
//   block decode         decodeBlock on 100-row blocks already in memory (what a worker does per batch),
//                        with the JavaScript row decoder and with the WebAssembly one (copy out,
//                        as for a decode task; view, as for a decode+score task)
//   csv-parse path       csvRows + batchRows (the general path, and the oracle)
//
//   node dist/bench/decode.bench.js [--quick] [--help]
//   runDecodeBench({ quick }) returns the rows (for a harness that collects every suite).
//
// Per benchmark.js's pitfalls (library notes, section 5): no setup/teardown (they are decompiled and lose
// their closures), data prepared beforehand, `defer: true` for the async ones. Figures are medians of
// the samples (MB/s = bytes / median time per run), with benchmark.js's relative margin of error.
import Benchmark from 'benchmark';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { blockData, decodeBlock } from '../src/data/block-decoder.js';
import { batchesHere, openSource, type ParserChoice } from '../src/data/source.js';
import { ChunkPool, readPieces } from '../src/data/chunks.js';
import { MNIST_FEATURES, prepareMnistCsv, type MnistSplit } from '../src/data/mnist.js';
import { normalizationTable } from '../src/data/normalize.js';
import { loadRowDecoder, type WasmRowDecoder } from '../src/data/row-decoder-wasm.js';
import type { Block, DecodeSpec } from '../src/data/types.js';
import { Framer } from '../src/data/framer.js';
import { markdownTable } from './table.js';

export interface DecodeBenchRow {
  name: string;
  mbPerSecond: number;
  rme: number;
  samples: number;
}

interface Case {
  name: string;
  bytes: number;
  run: (() => void) | { async: () => Promise<unknown> };
}

const table = normalizationTable('unit');
const spec: DecodeSpec = {
  layout: { hasHeader: false, fieldCount: MNIST_FEATURES + 1, labelIndex: 0 },
  features: MNIST_FEATURES,
  classes: 10,
  table,
  maxRecordBytes: 65536,
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** Every 100-row block of `path`, read and framed (the framer's work), released at once. */
async function frame(path: string, onBlock: (block: Block) => void): Promise<void> {
  const framer = new Framer({ file: path, features: MNIST_FEATURES, rowsPerBlock: 100, maxRecordBytes: 65536 });
  for await (const piece of readPieces(path, new ChunkPool())) for (const block of framer.push(piece)) onBlock(block);
  for (const block of framer.finish()) onBlock(block);
}

async function throughSource(path: string, parser: ParserChoice): Promise<void> {
  const options = {
    input: path,
    features: MNIST_FEATURES,
    classes: 10,
    onError: 'fail' as const,
    batchSize: 100,
    table,
    parser,
  };
  for await (const group of batchesHere(await openSource(options), options)) for (const batch of group) batch.release();
}

async function casesFor(split: MnistSplit, quick: boolean, wasm: WasmRowDecoder): Promise<Case[]> {
  const { path } = await prepareMnistCsv(split);
  const data = await readFile(path);
  const bytes = data.length;
  const blocks: Block[] = [];
  await frame(path, (block) => blocks.push(block));
  const sample = quick ? blocks.slice(0, 10) : blocks;
  const sampleBytes = sample.reduce((n, b) => n + b.segments.reduce((m, s) => m + s.end - s.start, 0), 0);
  const cases: Case[] = [
    {
      name: `read only (1 MiB reads), ${split}`,
      bytes,
      run: {
        async: async () => {
          for await (const piece of readPieces(path, new ChunkPool())) void piece;
        },
      },
    },
    {
      name: `framing (100-row blocks), ${split}`,
      bytes,
      run: { async: () => frame(path, (block) => block.release()) },
    },
    { name: `framing + decode here, ${split}`, bytes, run: { async: () => throughSource(path, 'fast') } },
  ];
  for (const [kind, decoder, copy] of [
    ['js', null, true],
    ['wasm', wasm, true],
    ['wasm view', wasm, false],
  ] as const) {
    cases.push({
      name: `block decode (100-row blocks), in memory, ${kind}, ${split}`,
      bytes: sampleBytes,
      run: () => sample.forEach((b) => decodeBlock(blockData(b), spec, { decoder, copy })),
    });
  }
  if (!quick || split === 'test')
    cases.push({
      name: `csv-parse path (csvRows+batchRows), ${split}`,
      bytes,
      run: { async: () => throughSource(path, 'csv-parse') },
    });
  return cases;
}

export async function runDecodeBench(options: { quick?: boolean } = {}): Promise<DecodeBenchRow[]> {
  const quick = options.quick ?? false;
  const load = loadRowDecoder();
  if (!load.ok) throw new Error(`decode bench: the WebAssembly row decoder is not built: ${load.reason}`);
  const rows: DecodeBenchRow[] = [];
  for (const split of quick ? (['test'] as const) : (['test', 'train'] as const))
    rows.push(...(await runCases(await casesFor(split, quick, load.decoder), quick)));
  return rows;
}

async function runCases(cases: Case[], quick: boolean): Promise<DecodeBenchRow[]> {
  const suite = new Benchmark.Suite('decode');
  const benchOptions = quick
    ? { minSamples: 3, maxTime: 1, initCount: 1 }
    : { minSamples: 7, maxTime: 4, initCount: 1 };
  let failure: unknown = null;
  for (const c of cases) {
    const run = c.run;
    if (typeof run === 'function') {
      suite.add(c.name, () => run(), benchOptions);
      continue;
    }
    const fn = (deferred: Benchmark.Deferred) =>
      run.async().then(
        () => deferred.resolve(),
        (error: unknown) => {
          failure ??= error;
          deferred.resolve();
        },
      );
    suite.add(c.name, fn, { ...benchOptions, defer: true });
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
  const cells = rows.map((r) => [r.name, r.mbPerSecond.toFixed(1), `${r.rme.toFixed(1)}%`, String(r.samples)]);
  return markdownTable(['benchmark', 'MB/s', '±rme', 'samples'], cells, [false, true, true, true]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--help')) {
    console.log(
      'usage: node dist/bench/decode.bench.js [--quick]\nCSV reading throughput (MB/s) per stage on the MNIST CSVs; ' +
        '--quick: a smoke ' +
        'run, not a measurement.',
    );
  } else {
    runDecodeBench({ quick: process.argv.includes('--quick') }).then(
      (rows) => console.log(formatDecodeTable(rows)),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  }
}
