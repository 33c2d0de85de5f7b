// Issue 17: `npm run bench -- --quick` mixed table styles. Every table of the bench report is a Markdown
// table: a header, a separator, and rows with as many cells as the header.
import test from 'ava';
import { formatDecodeTable } from '../../bench/decode.bench.js';
import { formatPeerTable, formatTable } from '../../bench/forward.bench.js';
import { formatStartupTable } from '../../bench/startup.bench.js';

function assertMarkdownTable(t: import('ava').ExecutionContext, text: string, what: string): void {
  const lines = text.split('\n');
  const cells = (line: string) => line.split('|').length;
  t.regex(lines[1], /^\|(-{3}:?\|)+$/, `${what}: a separator line`);
  for (const line of lines) {
    t.true(line.startsWith('|') && line.endsWith('|'), `${what}: ${line}`);
    t.is(cells(line), cells(lines[0]), `${what}: ${line}`);
  }
}

test('decode, forward, peer and start-up tables are Markdown tables', (t) => {
  assertMarkdownTable(t, formatDecodeTable([{ name: 'framer', mbPerSecond: 812.3, rme: 1.2, samples: 20 }]), 'decode');
  const forward = formatTable([
    { name: 'wasm', batchSize: 100, threads: 1, imagesPerSecond: 123_456, gflops: 11.2, rme: 0.5, samples: 9 },
  ]);
  assertMarkdownTable(t, forward.split('\n\n')[0], 'forward');
  assertMarkdownTable(
    t,
    formatPeerTable([
      {
        kernel: 'native avx2',
        batchSize: 100,
        threads: 2,
        rounds: 3,
        ours: 2e5,
        peer: 1e5,
        ratio: 2,
        load: [0.1, 0.2],
      },
    ]),
    'peers',
  );
  assertMarkdownTable(
    t,
    formatStartupTable([{ name: 'nnpipe --help', medianMs: 80, minMs: 70, maxMs: 95, rounds: 5 }]),
    'start-up',
  );
});
