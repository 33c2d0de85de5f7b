// Helpers for the job tests: start a compiled CLI as a child process and talk to it while it runs
// (wait for a log line, send signals), the way a job runner does.
import { execFileSync, spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEntry, pipelineEntry } from '../helpers/cli.js';

import { mnistTestCsv, mnistTrainCsv } from '../helpers/mnist-data.js';

export const trainCsv = mnistTrainCsv;
export const testCsv = mnistTestCsv;

/** A run slow enough to overlap a 1-second cron tick whatever the kernels' speed: per-task overhead dominates. */
// Batches of one row on one thread: ~5,000-10,000 rows/s, so 20,000 rows take a few seconds.
export const slowRunArgs = (rows = 20_000) => [
  '--input',
  trainCsv,
  '--batch-size',
  '1',
  '--threads',
  '1',
  '--limit',
  String(rows),
  '--quiet',
];

/**
 * An input that keeps each run going for `holdMs` whatever the machine's speed: a FIFO that a shell fills with
 * `csv` and then holds open, once for each of `runs` readers (each run opens it anew).
 */
export function heldOpenInput(
  dir: string,
  csv: string,
  runs: number,
  holdMs: number,
): { path: string; writer: ChildProcess } {
  const path = join(dir, 'held.csv');
  execFileSync('mkfifo', [path]);
  // The pause after each close lets the reader see end-of-file before the next open (a FIFO ends only
  // when no writer holds it).
  const script = `for i in $(seq ${runs}); do { cat "$1"; sleep ${holdMs / 1000}; } > "$2"; sleep 0.7; done`;
  const writer = spawn('sh', ['-c', script, 'sh', csv, path], { stdio: 'ignore' });
  return { path, writer };
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr (or stdout) matches, rejects on exit or after timeoutMs. */
  waitFor: (
    pattern: RegExp,
    options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number },
  ) => Promise<RegExpMatchArray>;
  /** Exit code (null when killed by a signal), the signal, and when the process exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function start(cli: string, args: string[], options: { cwd?: string } = {}): Running {
  const child = spawn(process.execPath, [cli === 'pipeline' ? pipelineEntry() : cliEntry(cli), ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), notify()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), notify()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      notify();
      resolve({ code, signal, at: Date.now() });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const waitFor: Running['waitFor'] = (pattern, { stream = 'stderr', timeoutMs = 60_000 } = {}) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = (stream === 'stderr' ? err : out).match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        } else if (done) {
          cleanup();
          reject(new Error(`exited before ${pattern} appeared on ${stream}:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern} on ${stream}:\n${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

/** The structured (JSON) log lines of a non-TTY stderr. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` is true (or throws after timeoutMs). */
export async function until(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** True once the predictions temp file next to `target` has scored rows in it: the run is mid-way. */
export function predictionsInProgress(target: string): boolean {
  const dir = join(target, '..');
  const base = target.slice(dir.length + 1);
  return readdirSync(dir).some(
    (name) => name.startsWith(`${base}.`) && name.endsWith('.tmp') && statSync(join(dir, name)).size > 1000,
  );
}

const dirs: string[] = [];
export function tempDir(prefix = 'nnpipe-jobs-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
