// A million rows piped on stdin: memory stays flat (peak RSS independent of the row count), also with
// one thread and one batch in flight, and with batches of one row. Peak RSS is compared with a run of
// 200,000 rows: V8's heaps take some 100,000 rows to settle at their working size (measured: 20,000
// rows peak ~30-60 MiB lower than 100,000), after which five times more rows must not cost more.
//
// Batches of one row run at ~6,000 rows/s on a 2-core machine (a thread hand-off per row), so a
// million of them take ~3 minutes: too long for every CI run. By default that case compares 100,000
// with 400,000 rows (still 4x); NNPIPE_LONG_TESTS=1 runs the full million (measured: 214 MiB for
// 200,000 rows, 215 MiB for 1,000,000, 6,102 rows/s).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';

const block = readFileSync(fixture('mnist-test-100.csv')); // 100 labeled rows, '\n'-terminated
const MiB = 2 ** 20;

/** Runs the CLI on `rows` rows (the fixture repeated) piped to its stdin and returns the report. */
async function runOnStdin(rows: number, args: string[]) {
  const repeats = rows / 100;
  const run = await runPipeline(['--input', '-', '--json', ...args], {
    timeoutMs: 300_000,
    stdin: (stdin) => {
      let sent = 0;
      const pump = () => {
        while (sent < repeats) {
          sent++;
          if (!stdin.write(block)) return void stdin.once('drain', pump);
        }
        stdin.end();
      };
      pump();
    },
  });
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const long = process.env.NNPIPE_LONG_TESTS === '1';
const fmt = (n: number) => n.toLocaleString('en-US');

for (const [name, args, smallRows, rows] of [
  ['defaults', [], 200_000, 1_000_000],
  ['--threads 1 --max-in-flight 1', ['--threads', '1', '--max-in-flight', '1'], 200_000, 1_000_000],
  ['--batch-size 1', ['--batch-size', '1'], long ? 200_000 : 100_000, long ? 1_000_000 : 400_000],
] as const) {
  test.serial(
    `${fmt(rows)} rows on stdin (${name}): every row scored, peak RSS as for ${fmt(smallRows)} rows`,
    async (t) => {
      t.timeout(400_000);
      const small = await runOnStdin(smallRows, [...args]);
      const big = await runOnStdin(rows, [...args]);
      t.is(big.status, 'complete');
      t.is(big.rows, rows);
      t.is(big.correct, small.correct * (rows / smallRows), 'the same 100 rows, so the same predictions every time');
      t.log(
        `peak RSS: ${(small.peakRssBytes / MiB).toFixed(0)} MiB for ${fmt(smallRows)} rows, ` +
          `${(big.peakRssBytes / MiB).toFixed(0)}` +
          ` MiB for ${fmt(rows)}` +
          ` rows; ${Math.round(big.imagesPerSecond)} images/s`,
      );
      t.true(big.peakRssBytes < small.peakRssBytes + 40 * MiB, 'memory does not grow with the row count');
    },
  );
}
