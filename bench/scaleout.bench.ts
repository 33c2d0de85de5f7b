// The scale-out capacity model: what a distributed run costs on this machine, measured, and what it would
// take on more workers, projected (there are not many machines here).
//
//   npm run bench -- --only scaleout        (or node dist/bench/scaleout.bench.js [--quick])
//
// Measured, side by side in alternating rounds (medians), with a local redis-server and one `nnpipe worker`
// using every core:
//   - the plain pipeline and `submit` to the one worker, on a ~1 GB input (MNIST test rows repeated): the
//     queue's cost on one machine (the issue's bound: at most 10% more wall time);
//   - per-shard time (the merged report's shard durations) and so the bytes one worker scores per second;
//   - the queue overhead per job: submit of a tiny input in 1 and in 33 shards, the difference / 32;
//   - the merge: the parent's time to merge N shard results, and the predictions merge rate (rows/s).
// Projected: makespan = ceil(shards / workers) x shard time + queue overhead + merge, for 1..32 workers on
// 1 GB and 100 GB, with shards of at most 256 MB (at least one per worker), each worker reading at most
// STORAGE_BYTES_PER_S / workers from the shared storage.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../src/paths.js';
import { hasRedisServer, startRedis } from './redis-server.js';
import { writeMnistRows } from '../test/helpers/mnist-rows.js';
import { mergeRun, readReportFiles } from '../pipelines/merge-run.js';

/** The assumed aggregate read bandwidth of the shared storage every worker reads the input from. */
export const STORAGE_BYTES_PER_S = 1e9;
/** Shards are cut to at most this size (so a run of 100 GB has work for many workers). */
export const SHARD_TARGET_BYTES = 256 * 2 ** 20;
const WORKERS = [1, 2, 4, 8, 16, 32];
const INPUTS = [1e9, 100e9];

const cli = resolve(projectRoot, 'bin/nnpipe.js');

export interface ScaleoutResult {
  inputBytes: number;
  inputRows: number;
  rounds: number;
  plainSeconds: number;
  queueSeconds: number;
  /** queueSeconds / plainSeconds (medians of alternating rounds). */
  ratio: number;
  shards: number;
  shardSeconds: number;
  /** Bytes one worker (this machine) scores per second, from the shard durations. */
  workerBytesPerSecond: number;
  overheadPerJobSeconds: number;
  /** Per run, whatever the shards: submit's start-up and the rest (queued wall time less shards and merge). */
  runOverheadSeconds: number;
  mergeSeconds: number;
  /**
   * Rows per second the merge of the shards' predictions files writes (the merge's share that grows with the input).
   */
  predictionRowsPerSecond: number;
  projections: { inputBytes: number; workers: number; shards: number; shardSeconds: number; wallSeconds: number }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs the CLI; resolves with its wall time and stdout (rejects on a non-zero exit). */
function timed(args: string[]): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolvePromise({ seconds, stdout });
      else reject(new Error(`nnpipe ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export async function runScaleoutBench(options: { quick?: boolean; log?: boolean } = {}): Promise<ScaleoutResult> {
  if (!hasRedisServer) throw new Error('scaleout bench: redis-server is not installed (apt-get install redis-server)');
  const say = (line: string) => options.log && process.stderr.write(`scaleout bench: ${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'nnpipe-scaleout-'));
  const redis = await startRedis();
  const worker = spawn(process.execPath, [cli, 'worker', '--redis', redis.url, '--quiet'], { stdio: 'ignore' });
  try {
    const rows = options.quick ? 20_000 : 550_000; // 550,000 MNIST rows: 1.006 GB
    const big = await writeMnistRows(dir, rows);
    const tiny = await writeMnistRows(dir, 64, 'tiny.csv');
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(big));
    const shards = Math.max(1, Math.ceil(size / SHARD_TARGET_BYTES));
    say(`${rows} rows, ${(size / 1e9).toFixed(3)} GB, ${shards} shards; plain vs submit to one worker, alternating`);
    const plain: number[] = [];
    const queued: number[] = [];
    const shardSeconds: number[] = [];
    const rounds = options.quick ? 1 : 5;
    // the worker's pool is warm
    await timed(['submit', '--redis', redis.url, '--input', tiny, '--shards', '1', '--quiet']);
    for (let round = 0; round < rounds; round++) {
      const alone = await timed(['--input', big, '--json']);
      plain.push(alone.seconds);
      const run = await timed(['submit', '--redis', redis.url, '--input', big, '--shards', String(shards), '--json']);
      queued.push(run.seconds);
      checkSameCounts(JSON.parse(alone.stdout), JSON.parse(run.stdout));
      for (const shard of JSON.parse(run.stdout).shards) shardSeconds.push(shard.durationMs / 1000);
      say(`round ${round + 1}: plain ${plain.at(-1)!.toFixed(2)} s, submit ${queued.at(-1)!.toFixed(2)} s`);
    }
    const many = options.quick ? 9 : 33;
    const one: number[] = [];
    const spread: number[] = [];
    for (let round = 0; round < rounds; round++) {
      one.push((await timed(['submit', '--redis', redis.url, '--input', tiny, '--shards', '1', '--quiet'])).seconds);
      spread.push(
        (await timed(['submit', '--redis', redis.url, '--input', tiny, '--shards', String(many), '--quiet'])).seconds,
      );
    }
    const overheadPerJobSeconds = Math.max(0, (median(spread) - median(one)) / (many - 1));
    const merge = await timeMerge(dir, big, shards, say);
    const shardSecondsMedian = median(shardSeconds);
    const workerBytesPerSecond = size / shards / shardSecondsMedian;
    // What a run costs besides its shards on one worker: submit's start-up, the model's sha256, the head
    // read, adding the flow, the wake-up at the end.
    const runOverheadSeconds = Math.max(
      0,
      median(queued) - shards * (shardSecondsMedian + overheadPerJobSeconds) - merge.seconds,
    );
    return {
      inputBytes: size,
      inputRows: rows,
      rounds,
      plainSeconds: median(plain),
      queueSeconds: median(queued),
      ratio: median(queued) / median(plain),
      shards,
      shardSeconds: shardSecondsMedian,
      workerBytesPerSecond,
      overheadPerJobSeconds,
      runOverheadSeconds,
      mergeSeconds: merge.seconds,
      predictionRowsPerSecond: merge.predictionRowsPerSecond,
      projections: project(workerBytesPerSecond, overheadPerJobSeconds, runOverheadSeconds, merge.seconds / shards),
    };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((done) => worker.once('exit', done));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A timing means nothing if the runs did not count the same: rows and correct must agree. */
function checkSameCounts(plain: { rows: number; correct: number }, merged: { rows: number; correct: number }): void {
  if (plain.rows !== merged.rows || plain.correct !== merged.correct) {
    throw new Error(
      `scaleout bench: the queued run counted ${merged.rows} rows / ${merged.correct}` +
        ` correct, the plain run ${plain.rows}` +
        ` / ${plain.correct}`,
    );
  }
}

/**
 * The merge of N static shard reports, timed in this process as a parent job runs it (mergeRun), without
 * and with the predictions files; per shard, for the projection.
 */
async function timeMerge(
  dir: string,
  input: string,
  shards: number,
  say: (line: string) => void,
): Promise<{ seconds: number; predictionRowsPerSecond: number }> {
  const count = Math.max(shards, 8);
  const paths: string[] = [];
  for (let i = 1; i <= count; i++) {
    const report = join(dir, `shard-${i}.json`);
    await timed([
      '--input',
      input,
      '--shard',
      `${i}/${count}`,
      '--quiet',
      '--report',
      report,
      '--predictions',
      join(dir, `shard-${i}.csv`),
    ]);
    paths.push(report);
  }
  const reports = await readReportFiles(paths);
  const times: number[] = [];
  let predictionSeconds = Infinity;
  let rows = 0;
  for (let round = 0; round < 3; round++) {
    let started = performance.now();
    await mergeRun({ reports, outputs: { report: null, predictions: null } });
    times.push((performance.now() - started) / 1000);
    started = performance.now();
    rows = (await mergeRun({ reports, outputs: { report: null, predictions: join(dir, 'merged.csv') } })).rows;
    predictionSeconds = Math.min(predictionSeconds, (performance.now() - started) / 1000);
  }
  const seconds = (median(times) / count) * shards;
  say(
    `merge of ${count} shard reports: ${(median(times) * 1000).toFixed(1)} ms; with predictions (${rows}` +
      ` rows): ${predictionSeconds.toFixed(2)} s`,
  );
  return { seconds, predictionRowsPerSecond: rows / predictionSeconds };
}

/** Projected wall time: ceil(shards / workers) x (shard time + overhead per job) + overhead per run + merge. */
function project(
  workerBytesPerSecond: number,
  overheadPerJob: number,
  overheadPerRun: number,
  mergePerShard: number,
): ScaleoutResult['projections'] {
  const out: ScaleoutResult['projections'] = [];
  for (const inputBytes of INPUTS) {
    for (const workers of WORKERS) {
      const shards = Math.max(workers, Math.ceil(inputBytes / SHARD_TARGET_BYTES));
      // Each worker reads its share of the storage's bandwidth at most.
      const rate = Math.min(workerBytesPerSecond, STORAGE_BYTES_PER_S / workers);
      const shardSeconds = inputBytes / shards / rate + overheadPerJob;
      out.push({
        inputBytes,
        workers,
        shards,
        shardSeconds,
        wallSeconds: Math.ceil(shards / workers) * shardSeconds + overheadPerRun + mergePerShard * shards,
      });
    }
  }
  return out;
}

const duration = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

export function formatScaleoutTables(r: ScaleoutResult): string {
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 2)} GB`;
  const measured = [
    '| measured on this machine | value |',
    '|---|---:|',
    `| plain pipeline, ${gb(r.inputBytes)} (${r.inputRows.toLocaleString('en-US')} rows), wall s (median of ` +
      `${r.rounds}` +
      `) | ${r.plainSeconds.toFixed(2)} |`,
    `| submit to 1 worker, ${r.shards} shards, same input, wall s | ${r.queueSeconds.toFixed(2)} |`,
    `| submit / plain | **${r.ratio.toFixed(3)}** |`,
    `| per-shard time (${gb(r.inputBytes / r.shards)} shard), s | ${r.shardSeconds.toFixed(2)} |`,
    `| one worker scores, MB/s | ${(r.workerBytesPerSecond / 1e6).toFixed(0)} |`,
    `| queue overhead per job, ms | ${(r.overheadPerJobSeconds * 1000).toFixed(1)} |`,
    `| overhead per run (submit's start-up, model sha256, adding the flow, the end), s | ` +
      `${r.runOverheadSeconds.toFixed(2)} |`,
    `| merge of ${r.shards} shard results, ms | ${(r.mergeSeconds * 1000).toFixed(1)} |`,
    `| merge of the predictions files, rows/s | ${Math.round(r.predictionRowsPerSecond).toLocaleString('en-US')} |`,
  ];
  const table = [
    `| projected wall time | ${WORKERS.map((w) => `${w} worker${w > 1 ? 's' : ''}`).join(' | ')} |`,
    `|---|${WORKERS.map(() => '---:').join('|')}|`,
  ];
  for (const inputBytes of INPUTS) {
    const rows = r.projections.filter((p) => p.inputBytes === inputBytes);
    table.push(
      `| ${gb(inputBytes)} (${rows
        .map((p) => p.shards)
        .filter((v, i, a) => a.indexOf(v) === i)
        .join('/')} shards) | ${rows.map((p) => duration(p.wallSeconds)).join(' | ')} |`,
    );
  }
  const note =
    `Assumes shared storage that serves ${STORAGE_BYTES_PER_S / 1e9}` +
    ` GB/s in all (each of n workers reads at most 1/n of it), shards of at most ${SHARD_TARGET_BYTES / 2 ** 20} MiB ` +
    `(at least one per worker), workers like this machine, and a merge without --predictions.`;
  return `${measured.join('\n')}\n\n${table.join('\n')}\n\n${note}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runScaleoutBench({ quick: process.argv.includes('--quick'), log: true });
  process.stdout.write(`${formatScaleoutTables(result)}\n`);
}
