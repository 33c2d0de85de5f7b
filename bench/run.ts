// `npm run bench`: every benchmark suite in one run, so that the figures side by side were measured on
// the same machine under the same load (compare ratios within one run; the machine is shared).
//
//   npm run bench                          every suite (~15 minutes)
//   npm run bench -- --quick               short runs: a smoke test of the harness, not a measurement
//   npm run bench -- --only forward,pipeline
//   npm run bench -- --out bench/results   where the JSON goes (default; git-ignored)
//   npm run bench -- --help
//
// Suites (each file also runs on its own: node dist/bench/<suite>.bench.js):
//   decode     CSV decode MB/s for each path (csv-parse, fast path, line splitting, block decode, workers)
//   forward    forward pass images/s and GFLOP/s, batch sizes 1/10/100/1000, 1 and 2 threads, next to
//              numpy + OpenBLAS (../shared/bench/numpy_ref.py) when python3 and numpy are there
//   pipeline   the whole process on data/mnist_test.csv and data/mnist_train.csv (wall time with start-up,
//              images/s, peak RSS), next to the book's numpy code on the same file
//   peers      nnpipe next to onnxruntime-node (../shared/bench/peers), interleaved: whole runs on both
//              CSVs (default threads, --threads 1 and 2) and the forward pass at B = 1/10/100/1000; the
//              README's performance figures come from this suite
//   startup    bare Node, `nnpipe --help`, `--limit 100`, a 100-row file with 1 and 2 threads and the test set, timed
//              alternately from outside
//   scaleout   the plain pipeline against `submit` to one local worker on ~1 GB (alternating), per-shard
//              time, queue overhead per job, merge time, and the projected wall time on 1..32 workers
//
// Prints the tables and writes bench/results/bench-<time>.json and bench/results/latest.json (the
// machine, the load average before and after, every row).
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDecodeTable, runDecodeBench, type DecodeBenchRow } from './decode.bench.js';
import {
  formatTable as formatForwardTable,
  runForwardBench,
  type ForwardBenchResult,
  type PairedScaling,
} from './forward.bench.js';
import { formatPeersReport, runPeersBench, type PeersBenchResult } from './peers.bench.js';
import { formatPipelineTable, runPipelineBench, type PipelineBenchRow } from './pipeline.bench.js';
import { formatStartupTable, runStartupBench, type StartupBenchRow } from './startup.bench.js';
import { formatScaleoutTables, runScaleoutBench, type ScaleoutResult } from './scaleout.bench.js';
import { projectRoot } from '../src/paths.js';
import { writeFileAtomic } from '../src/output/write-file.js';

const SUITES = ['decode', 'forward', 'pipeline', 'peers', 'startup', 'scaleout'] as const;
type Suite = (typeof SUITES)[number];

interface BenchReport {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  loadavg: { start: number[]; end?: number[] };
  decode?: DecodeBenchRow[];
  forward?: { results: ForwardBenchResult[]; scalings: PairedScaling[] };
  pipeline?: PipelineBenchRow[];
  peers?: PeersBenchResult;
  startup?: StartupBenchRow[];
  scaleout?: ScaleoutResult;
}

const USAGE = `usage: npm run bench -- [--quick] [--only SUITES] [--out FOLDER]

Every suite in one run (~20 minutes), so that figures side by side share the machine and its load.
Suites: ${SUITES.join(', ')} (see bench/run.ts; each also runs alone: node dist/bench/SUITE.bench.js --help).

  --quick          short runs: a smoke test of the harness, not a measurement
  --only LIST      comma list of suites, e.g. --only peers
  --out FOLDER     where bench-<time>.json and latest.json go (default bench/results)
`;

function parseCli(argv: string[]): { quick: boolean; suites: Suite[]; out: string } | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const names =
    values.only === undefined
      ? [...SUITES]
      : values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(`bench: --only takes a comma list of ${SUITES.join(', ')}; got '${values.only}'`);
  return {
    quick: values.quick,
    suites: names as Suite[],
    out: resolve(values.out ?? resolve(projectRoot, 'bench/results')),
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** The report's head: when, and on what machine. */
function newReport(quick: boolean): BenchReport {
  return {
    startedAt: new Date().toISOString(),
    quick,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    loadavg: { start: loadavg() },
  };
}

/** The JSON written (one file per run, and latest.json), the tables printed with the load. */
async function finish(report: BenchReport, tables: string[], out: string): Promise<void> {
  report.finishedAt = new Date().toISOString();
  report.loadavg.end = loadavg();
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const file = resolve(out, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFileAtomic(file, json);
  await writeFileAtomic(resolve(out, 'latest.json'), json);
  process.stdout.write(
    `${tables.join('\n\n')}\n\nload average: ${report.loadavg.start.map((v) => v.toFixed(2)).join(' ')}` +
      ` at start, ${report.loadavg.end.map((v) => v.toFixed(2)).join(' ')} at end\n`,
  );
  say(`bench: wrote ${file}`);
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2));
  if (options === 'help') return void process.stdout.write(USAGE);
  const report = newReport(options.quick);
  say(
    `bench: ${options.suites.join(', ')}${options.quick ? ' (quick: a smoke run, not a measurement)' : ''} ` +
      `on ${report.machine.cpu}, ${report.machine.cores} cores, Node ${process.version}`,
  );
  const tables: string[] = [];

  if (options.suites.includes('decode')) {
    say('bench: decode suite ...');
    report.decode = await runDecodeBench({ quick: options.quick });
    tables.push(`## CSV decode (MB/s, median of samples)\n\n${formatDecodeTable(report.decode)}`);
  }
  if (options.suites.includes('forward')) {
    say('bench: forward suite ...');
    let scalings: PairedScaling[] = [];
    const results = await runForwardBench({ quick: options.quick, log: true, onScaling: (s) => (scalings = s) });
    report.forward = { results, scalings };
    const scaling = scalings
      .map(
        (s) =>
          `${s.kind} B=${s.batchSize}: 2 threads / 1 thread = ${s.ratio.toFixed(2)}x (median of ${s.rounds} ` +
          `alternating rounds)`,
      )
      .join('\n');
    tables.push(
      `## Forward pass (images/s, median of samples; GFLOP/s = images/s x 90,400 / 1e9 in the ` +
        `JSON)\n\n${formatForwardTable(results)}` +
        `${scaling ? `\n\n${scaling}` : ''}`,
    );
  }
  if (options.suites.includes('pipeline')) {
    say('bench: pipeline suite ...');
    report.pipeline = await runPipelineBench({ quick: options.quick, log: true });
    tables.push(`## Whole process (start-up included)\n\n${formatPipelineTable(report.pipeline)}`);
  }
  if (options.suites.includes('peers')) {
    say('bench: peers suite ...');
    report.peers = await runPeersBench({ quick: options.quick, log: say });
    tables.push(`## Next to onnxruntime-node (interleaved in one run)\n\n${formatPeersReport(report.peers)}`);
  }
  if (options.suites.includes('startup')) {
    say('bench: startup suite ...');
    report.startup = await runStartupBench({ quick: options.quick });
    tables.push(`## Start-up (whole processes, alternating rounds, medians)\n\n${formatStartupTable(report.startup)}`);
  }

  if (options.suites.includes('scaleout')) {
    say('bench: scaleout suite ...');
    report.scaleout = await runScaleoutBench({ quick: options.quick, log: true });
    tables.push(
      `## Across machines: the queue on one machine, and the capacity ` +
        `model\n\n${formatScaleoutTables(report.scaleout)}`,
    );
  }

  await finish(report, tables, options.out);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
