// Start-up: how long a process takes before it does any work, next to bare Node. Each command runs
// `rounds` times, the commands alternating round after round (so that load changes on a shared machine
// fall on all of them alike); we quote medians.
//
//   node dist/bench/startup.bench.js [--quick]
//   runStartupBench({ quick }) returns the rows (for bench/run.ts).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareMnistCsv } from '../src/data/mnist.js';
import { projectRoot } from '../src/paths.js';
import { markdownTable } from './table.js';

export interface StartupBenchRow {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  rounds: number;
}

const cli = resolve(projectRoot, 'bin/nnpipe.js');
const hundredRows = resolve(projectRoot, 'test/fixtures/mnist-test-100.csv');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function runStartupBench(options: { quick?: boolean } = {}): Promise<StartupBenchRow[]> {
  const { path: testCsv } = await prepareMnistCsv('test');
  const commands: Array<{ name: string; args: string[] }> = [
    { name: 'node -e 0 (bare Node)', args: ['-e', '0'] },
    { name: 'nnpipe --help', args: [cli, '--help'] },
    // The default run cut to 100 rows: --threads auto scores so small an input on the main thread.
    { name: 'nnpipe --limit 100 (default input and threads)', args: [cli, '--quiet', '--limit', '100'] },
    {
      name: 'nnpipe, 100 rows (test/fixtures/mnist-test-100.csv), 1 thread',
      args: [cli, '--quiet', '--threads', '1', '--input', hundredRows],
    },
    { name: 'nnpipe, 100 rows, 2 threads', args: [cli, '--quiet', '--threads', '2', '--input', hundredRows] },
    {
      name: 'nnpipe, mnist_test.csv (10,000 rows), 2 threads',
      args: [cli, '--quiet', '--threads', '2', '--input', testCsv],
    },
  ];
  const rounds = options.quick ? 3 : 21;
  const times = commands.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, command] of commands.entries()) {
      const started = performance.now();
      const run = spawnSync(process.execPath, command.args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`startup bench: ${command.name} exited ${run.status}: ${run.stderr}`);
      times[i].push(performance.now() - started);
    }
  }
  return commands.map((command, i) => ({
    name: command.name,
    medianMs: median(times[i]),
    minMs: Math.min(...times[i]),
    maxMs: Math.max(...times[i]),
    rounds,
  }));
}

export function formatStartupTable(rows: StartupBenchRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.medianMs.toFixed(0),
    r.minMs.toFixed(0),
    r.maxMs.toFixed(0),
    String(r.rounds),
  ]);
  return markdownTable(['process, start to exit', 'median ms', 'min', 'max', 'rounds'], cells, [
    false,
    true,
    true,
    true,
    true,
  ]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await runStartupBench({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${formatStartupTable(rows)}\n`);
}
