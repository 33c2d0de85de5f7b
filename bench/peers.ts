// The onnxruntime-node peer (../shared/bench/peers/run.sh): what a competent Node developer would run
// instead of nnpipe. run.sh installs it outside the project on first use (into a temp folder), so nnpipe
// never depends on onnxruntime; where it cannot be installed or run, the functions here say why and the
// benchmarks skip the peer.
//
//   const peer = await runPeerForward('data/mnist_test.csv', { batches: [100, 1000], threads: [1, 2] });
//   if (peer.ok) for (const row of peer.rows) console.log(row.batch, row.threads, row.imagesPerSecond);
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** run.sh of the shared peer kit; NNPIPE_PEER_SCRIPT points elsewhere. */
export const peerScript = process.env.NNPIPE_PEER_SCRIPT ?? resolve(repoRoot, '../shared/bench/peers/run.sh');

/** One line of `run.sh forward`: the peer's forward pass alone on the CSV's images (decoded before timing). */
export interface PeerForwardRow {
  peer: string;
  /** onnxruntime's intra-op threads. */
  threads: number;
  batch: number;
  /** Of the peer's own predictions (0.9352 on the MNIST test set with the book's weights). */
  accuracy: number;
  imagesPerSecond: number;
  gflops: number;
}

export type PeerOutcome<T> = { ok: true; rows: T[] } | { ok: false; reason: string };

export interface PeerForwardOptions {
  /** @default [1, 10, 100, 1000] */
  batches?: readonly number[];
  /** @default [1, 2] */
  threads?: readonly number[];
  /** Samples per configuration (the peer interleaves its configurations sample by sample); @default 5 */
  samples?: number;
  /** The peer kit's run.sh; @default peerScript */
  script?: string;
}

/** Runs `run.sh forward CSV BATCHES THREADS SAMPLES` and parses its JSON lines. */
export async function runPeerForward(
  csv: string,
  options: PeerForwardOptions = {},
): Promise<PeerOutcome<PeerForwardRow>> {
  const script = options.script ?? peerScript;
  if (!existsSync(script)) return { ok: false, reason: `no peer kit at ${script}` };
  if (!existsSync(csv)) return { ok: false, reason: `no ${csv} (node dist/src/cli/data.js --split test writes it)` };
  const batches = (options.batches ?? [1, 10, 100, 1000]).join(',');
  const threads = (options.threads ?? [1, 2]).join(',');
  const run = await runScript(script, ['forward', csv, batches, threads, String(options.samples ?? 5)]);
  if (!run.ok) return run;
  const rows: PeerForwardRow[] = [];
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const row = parseForwardRow(line);
    if (!row) return { ok: false, reason: `unexpected peer output: ${line}` };
    rows.push(row);
  }
  if (rows.length === 0) return { ok: false, reason: `the peer printed no results:\n${run.stdout.trim()}` };
  return { ok: true, rows };
}

function parseForwardRow(line: string): PeerForwardRow | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const row = value as Record<string, unknown>;
  const numbers = ['threads', 'batch', 'accuracy', 'imagesPerSecond', 'gflops'] as const;
  if (
    typeof row !== 'object' ||
    row === null ||
    typeof row.peer !== 'string' ||
    numbers.some((key) => typeof row[key] !== 'number')
  )
    return null;
  return {
    peer: row.peer,
    threads: row.threads,
    batch: row.batch,
    accuracy: row.accuracy,
    imagesPerSecond: row.imagesPerSecond,
    gflops: row.gflops,
  } as PeerForwardRow;
}

/** bash run.sh ARGS: its stdout, or why it failed (the tail of its stderr: npm's install errors end there). */
function runScript(
  script: string,
  args: string[],
): Promise<{ ok: true; stdout: string } | { ok: false; reason: string }> {
  return new Promise((done) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => done({ ok: false, reason: `cannot run bash ${script}: ${error.message}` }));
    child.on('close', (code, signal) => {
      if (code === 0) return done({ ok: true, stdout });
      const tail = stderr.trim().split('\n').slice(-5).join('\n');
      done({
        ok: false,
        reason: `bash ${script} ${args[0]} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`,
      });
    });
  });
}
