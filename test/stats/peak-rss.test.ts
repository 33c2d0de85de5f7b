// Peak RSS is the run's own: a pipeline started by a process that holds a lot of memory must not report
// the parent's memory (Linux's maxRSS survives fork + exec; VmHWM does not).
import test from 'ava';
import { peakRssBytes } from '../../src/stats/peak-rss.js';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';

const MiB = 2 ** 20;

test('peakRssBytes is at least the current RSS and grows with memory touched', (t) => {
  const before = peakRssBytes();
  t.true(before >= process.memoryUsage.rss() * 0.9);
  const held = Buffer.alloc(64 * MiB, 1);
  t.true(peakRssBytes() >= before + 32 * MiB || before >= process.memoryUsage.rss());
  t.is(held[held.length - 1], 1);
});

(process.platform === 'linux' ? test : test.skip)(
  "a run started by a 600 MiB process reports its own peak, not its parent's (Linux)",
  async (t) => {
    const held = Buffer.alloc(600 * MiB, 1);
    const run = await runPipeline(['--input', fixture('mnist-test-100.csv'), '--json', '--threads', '1']);
    t.is(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    t.log(
      `child peak RSS ${(report.peakRssBytes / MiB).toFixed(0)} MiB, this process ` +
        `${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB`,
    );
    t.true(report.peakRssBytes < 400 * MiB);
    t.true(report.peakRssBytes > 20 * MiB);
    t.is(held[0], 1);
  },
);
