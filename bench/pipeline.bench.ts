// Whole-process benchmark: start the CLI, read the CSV, batch 100, forward, accuracy, exit — timed from
// outside, as a user or a job runner sees it, next to the book's numpy code on the same file.
//
//   node dist/bench/pipeline.bench.js [--quick] [--json FILE]
//
// Each sample is one complete process run (benchmark.js deferred benchmark around a child process);
// we quote the median sample. Our runs go through `node bin/nnpipe.js` (not `npm run`, whose own
// start-up adds ~0.2 s). Peak RSS comes from the pipeline's own report (process maxRSS, workers included).
import Benchmark from 'benchmark';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnistCsvPath, prepareMnistCsv, type MnistSplit } from '../src/data/mnist.js';
import { defaultModelPath, projectRoot } from '../src/paths.js';
import { numpyDescription } from './numpy.js';

export interface PipelineBenchRow {
  name: string;
  input: MnistSplit;
  rows: number;
  accuracy: number | null;
  /** Median wall time of one whole process run, seconds. */
  wallSeconds: number;
  imagesPerSecond: number;
  peakRssMiB: number | null;
  rme: number;
  samples: number;
}

const numpyScript = resolve(projectRoot, '../shared/bench/numpy_ref.py');
const bookModel = resolve(projectRoot, '../shared/reference/sample_weight.pkl');
const cli = resolve(projectRoot, 'bin/nnpipe.js');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

/** Which numpy will run the book's code, or null when it cannot. */
function numpyToRun(): string | null {
  if (!existsSync(numpyScript) || !existsSync(bookModel)) return null;
  return numpyDescription();
}

interface Candidate {
  name: string;
  command: string;
  args: string[];
  /** Reads rows / accuracy / peak RSS from the process output of the last run. */
  parse: (stdout: string) => { rows: number; accuracy: number | null; peakRssMiB: number | null };
}

function candidates(split: MnistSplit, numpy: string | null): Candidate[] {
  const csv = mnistCsvPath(split);
  // Default threads (= cores), and one worker: on 2 cores the main thread (reading, splitting,
  // dispatching) needs a core of its own, so one worker can be as fast for a whole file.
  const ours = (label: string, extra: string[]): Candidate => ({
    name: `nnpipe (fast path), default model${label}`,
    command: process.execPath,
    args: [
      cli,
      '--input',
      csv,
      '--model',
      defaultModelPath,
      '--batch-size',
      '100',
      '--json',
      '--quiet',
      '--parser',
      'auto',
      ...extra,
    ],
    parse: (stdout) => {
      const report = JSON.parse(stdout);
      return { rows: report.rows, accuracy: report.accuracy, peakRssMiB: report.peakRssBytes / 2 ** 20 };
    },
  });
  const list = [ours('', []), ours(', --threads 1', ['--threads', '1'])];
  if (numpy) {
    for (const reader of ['loadtxt', 'fromstring']) {
      list.push({
        name: `${numpy}: ${reader === 'loadtxt' ? 'np.loadtxt (the book)' : 'np.fromstring'} + forward, book model`,
        command: 'python3',
        args: [numpyScript, csv, bookModel, '--batch', '100', '--reader', reader],
        parse: (stdout) => {
          const fields = Object.fromEntries(
            stdout
              .trim()
              .split(' ')
              .map((kv) => kv.split('=')),
          );
          return { rows: Number(fields.rows), accuracy: Number(fields.accuracy), peakRssMiB: null };
        },
      });
    }
  }
  return list;
}

function measure(candidate: Candidate, split: MnistSplit, quick: boolean): Promise<PipelineBenchRow> {
  return new Promise((resolvePromise, reject) => {
    let last = '';
    const bench = new Benchmark(candidate.name, {
      defer: true,
      minSamples: quick ? 1 : 5,
      maxTime: quick ? 0.1 : 8,
      initCount: 1,
      fn(deferred: Benchmark.Deferred) {
        run(candidate.command, candidate.args).then(
          (out) => {
            last = out;
            deferred.resolve();
          },
          (error) => {
            (bench as Benchmark & { error?: unknown }).error = error;
            deferred.benchmark.abort();
            reject(error);
          },
        );
      },
      onComplete() {
        const seconds = median(bench.stats.sample);
        const parsed = candidate.parse(last);
        resolvePromise({
          name: candidate.name,
          input: split,
          rows: parsed.rows,
          accuracy: parsed.accuracy,
          wallSeconds: seconds,
          imagesPerSecond: parsed.rows / seconds,
          peakRssMiB: parsed.peakRssMiB,
          rme: bench.stats.rme,
          samples: bench.stats.sample.length,
        });
      },
    });
    bench.run({ async: true });
  });
}

export async function runPipelineBench(
  options: { quick?: boolean; log?: boolean; splits?: MnistSplit[] } = {},
): Promise<PipelineBenchRow[]> {
  const quick = options.quick ?? false;
  const numpy = numpyToRun();
  if (numpy === null && options.log)
    process.stderr.write('pipeline bench: python3 + numpy or ../shared not found; numpy rows skipped\n');
  const rows: PipelineBenchRow[] = [];
  for (const split of options.splits ?? ['test', 'train']) {
    await prepareMnistCsv(split);
    for (const candidate of candidates(split, numpy)) {
      if (options.log) process.stderr.write(`pipeline bench: ${split}: ${candidate.name} ...\n`);
      rows.push(await measure(candidate, split, quick));
    }
  }
  return rows;
}

export function formatPipelineTable(rows: PipelineBenchRow[]): string {
  const lines = [
    '| whole process, batch 100 | input | rows | accuracy | wall s (median) | images/s | peak RSS MiB | ±% | samples |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.input} | ${r.rows} | ${r.accuracy === null ? 'n/a' : r.accuracy.toFixed(4)} | ` +
        `${r.wallSeconds.toFixed(3)}` +
        ` | ${Math.round(r.imagesPerSecond).toLocaleString('en-US')}` +
        ` | ${r.peakRssMiB === null ? '' : r.peakRssMiB.toFixed(0)}` +
        ` | ${r.rme.toFixed(1)}` +
        ` | ${r.samples} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await runPipelineBench({ quick: process.argv.includes('--quick'), log: true });
  process.stdout.write(`${formatPipelineTable(rows)}\n`);
}
