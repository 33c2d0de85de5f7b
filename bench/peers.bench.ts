// nnpipe next to onnxruntime-node in one run, interleaved: the figures the README quotes.
//
//   node dist/bench/peers.bench.js [--quick] [--rounds N] [--no-forward] [--no-whole]
//
// Whole run: each round starts every command once, as a job runner would (node bin/nnpipe.js, not npm),
// on data/mnist_test.csv and data/mnist_train.csv: nnpipe with its default threads, with --threads 1
// and --threads 2, and the peer (../shared/bench/peers: a byte loop feeding onnxruntime-node, batch 100).
// The order rotates every round, so a load change falls on every command alike; a ratio is the median
// of the per-round ratios (two figures measured seconds apart), never a ratio of medians. Both sides
// score the book's weights when ../shared has them, so both must print accuracy 0.9352.
//
// Forward pass: forward.bench.ts's peer comparison (B = 1/10/100/1000, 1 and 2 threads, interleaved).
// Where the peer cannot be installed or run, the suite says why and skips it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mnistCsvPath, prepareMnistCsv, type MnistSplit } from '../src/data/mnist.js';
import { defaultModelPath, projectRoot } from '../src/paths.js';
import { formatPeerTable, runForwardBench, type PeerComparison } from './forward.bench.js';
import { peerScript } from './peers.js';

const cli = resolve(projectRoot, 'bin/nnpipe.js');
const bookModel = resolve(projectRoot, '../shared/reference/sample_weight.pkl');

export interface WholeRunRow {
  input: MnistSplit;
  name: string;
  /** Wall time of the whole process, seconds: median, min and max over the rounds. */
  median: number;
  min: number;
  max: number;
  /** Median over the rounds of peer time / this time (> 1: this command was faster); null for the peer. */
  vsPeer: number | null;
  /** Median over the rounds of `--threads 1` time / this time; null where it does not apply. */
  vsOneThread: number | null;
  rows: number;
  accuracy: number;
  rounds: number;
}

export interface PeersBenchResult {
  model: string;
  whole: WholeRunRow[] | { skipped: string };
  forward: PeerComparison[] | { skipped: string };
  load: { start: number; end: number };
}

export interface PeersBenchOptions {
  quick?: boolean;
  /** Rounds of the whole-run comparison. @default 9 (quick: 1) */
  rounds?: number;
  /** @default true */
  whole?: boolean;
  /** @default true */
  forward?: boolean;
  log?: (line: string) => void;
}

interface Command {
  name: string;
  file: string;
  args: string[];
}

interface Outcome {
  seconds: number;
  rows: number;
  accuracy: number;
}

/** Starts `node file args` and times it from outside; rows and accuracy from its one JSON line. */
function timeProcess(command: Command): Promise<Outcome> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [command.file, ...command.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0)
        return fail(new Error(`${command.name} exited ${code}: ${stderr.trim().split('\n').slice(-3).join('\n')}`));
      try {
        const report = JSON.parse(stdout) as { rows: number; accuracy: number };
        done({ seconds, rows: report.rows, accuracy: report.accuracy });
      } catch {
        fail(new Error(`${command.name} printed no JSON report: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** The installed peer's folder (run.sh installs it on first use), or why there is none. */
function peerFolder(): Promise<{ ok: true; dir: string } | { ok: false; reason: string }> {
  if (!existsSync(peerScript)) return Promise.resolve({ ok: false, reason: `no peer kit at ${peerScript}` });
  return new Promise((done) => {
    const child = spawn('bash', [peerScript, 'path'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => done({ ok: false, reason: `cannot run bash ${peerScript}: ${error.message}` }));
    child.on('close', (code) => {
      const dir = stdout.trim();
      if (code === 0 && existsSync(resolve(dir, 'e2e_byteloop_ort.mjs'))) return done({ ok: true, dir });
      done({
        ok: false,
        reason:
          `the peer could not be installed (${peerScript} path exited ${code}): ` +
          `${stderr.trim().split('\n').slice(-3).join(' ')}`,
      });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function commandsFor(csv: string, model: string, peerDir: string): Command[] {
  const nnpipe = (name: string, extra: string[]): Command => ({
    name,
    file: cli,
    args: ['--input', csv, '--model', model, '--batch-size', '100', '--json', '--quiet', ...extra],
  });
  return [
    nnpipe('nnpipe (default threads)', []),
    nnpipe('nnpipe --threads 1', ['--threads', '1']),
    nnpipe('nnpipe --threads 2', ['--threads', '2']),
    { name: 'peer: byte loop + onnxruntime-node', file: resolve(peerDir, 'e2e_byteloop_ort.mjs'), args: [csv, '100'] },
  ];
}

/** `rounds` rounds on one CSV, the commands' order rotating each round. */
async function wholeRuns(
  split: MnistSplit,
  commands: Command[],
  rounds: number,
  log: (line: string) => void,
): Promise<WholeRunRow[]> {
  const times = commands.map(() => [] as number[]);
  const last: Outcome[] = [];
  await timeProcess(commands[0]); // warm the page cache and the compile cache before the first round
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const outcome = await timeProcess(commands[i]);
      times[i].push(outcome.seconds);
      last[i] = outcome;
    }
    log(`peers bench: ${split} round ${round + 1}/${rounds}, load ${loadavg()[0].toFixed(2)}`);
  }
  const peer = commands.length - 1;
  const oneThread = 1;
  const ratio = (to: number, i: number) => median(times[i].map((t, r) => times[to][r] / t));
  return commands.map((command, i) => ({
    input: split,
    name: command.name,
    median: median(times[i]),
    min: Math.min(...times[i]),
    max: Math.max(...times[i]),
    vsPeer: i === peer ? null : ratio(peer, i),
    vsOneThread: i === peer || i === oneThread ? null : ratio(oneThread, i),
    rows: last[i].rows,
    accuracy: last[i].accuracy,
    rounds,
  }));
}

export async function runPeersBench(options: PeersBenchOptions = {}): Promise<PeersBenchResult> {
  const log = options.log ?? (() => {});
  const quick = options.quick ?? false;
  const model = existsSync(bookModel) ? bookModel : defaultModelPath;
  const start = loadavg()[0];
  let whole: PeersBenchResult['whole'] = { skipped: 'not asked for (--no-whole)' };
  if (options.whole ?? true) {
    const peer = await peerFolder();
    if (!peer.ok) whole = { skipped: peer.reason };
    else {
      const rows: WholeRunRow[] = [];
      for (const split of ['test', 'train'] as const) {
        await prepareMnistCsv(split);
        rows.push(
          ...(await wholeRuns(
            split,
            commandsFor(mnistCsvPath(split), model, peer.dir),
            options.rounds ?? (quick ? 1 : 9),
            log,
          )),
        );
      }
      whole = rows;
    }
  }
  let forward: PeersBenchResult['forward'] = { skipped: 'not asked for (--no-forward)' };
  if (options.forward ?? true) {
    await runForwardBench({
      quick,
      single: false,
      scaling: false,
      numpy: false,
      peer: true,
      rounds: quick ? 1 : 7,
      onPeer: (c) => (forward = c),
    });
  }
  return { model, whole, forward, load: { start, end: loadavg()[0] } };
}

const times = (ratio: number | null) => (ratio === null ? '' : `${ratio.toFixed(2)}x`);

export function formatWholeTable(rows: WholeRunRow[]): string {
  const lines = [
    '| whole process, batch 100 | input | rows | accuracy | median s | min–max s | vs peer | vs --threads 1 |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.input} | ${r.rows} | ${r.accuracy.toFixed(4)} | ${r.median.toFixed(3)} | ${r.min.toFixed(3)}` +
        `–${r.max.toFixed(3)}` +
        ` | ${times(r.vsPeer)}` +
        ` | ${times(r.vsOneThread)} |`,
    );
  }
  return lines.join('\n');
}

export function formatPeersReport(result: PeersBenchResult): string {
  const whole =
    'skipped' in result.whole ? `whole run: skipped (${result.whole.skipped})` : formatWholeTable(result.whole);
  const forward =
    'skipped' in result.forward ? `forward pass: skipped (${result.forward.skipped})` : formatPeerTable(result.forward);
  return (
    `model: ${result.model}; ratios are medians of per-round ratios (> 1: nnpipe faster)\n\n${whole}` +
    `\n\nforward pass, ours / onnxruntime-node (images/s, medians of interleaved rounds)\n\n${forward}` +
    `\n\nload average (1 min): ${result.load.start.toFixed(2)}` +
    ` at start, ${result.load.end.toFixed(2)} at end`
  );
}

export const USAGE = `usage: node dist/bench/peers.bench.js [--quick] [--rounds N] [--no-whole] [--no-forward]

nnpipe next to the onnxruntime-node peer (../shared/bench/peers/run.sh), interleaved in one run:
whole processes on data/mnist_test.csv and data/mnist_train.csv (default threads, --threads 1 and 2),
and the forward pass alone at B = 1, 10, 100, 1000 on 1 and 2 threads.

  --quick        one round: a smoke run of the harness, not a measurement
  --rounds N     whole-run rounds (default 9)
  --no-whole     skip the whole runs
  --no-forward   skip the forward pass
`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      'no-whole': { type: 'boolean' },
      'no-forward': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) process.stdout.write(USAGE);
  else {
    const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
    if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))
      throw new Error(`peers bench: --rounds takes a whole number >= 1; got '${values.rounds}'`);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const result = await runPeersBench({
      quick: values.quick,
      rounds,
      whole: !values['no-whole'],
      forward: !values['no-forward'],
      log,
    });
    process.stdout.write(`${formatPeersReport(result)}\n`);
  }
}
