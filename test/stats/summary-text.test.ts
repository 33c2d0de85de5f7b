// formatSummary: the key figures, unlabeled / failed / interrupted variants, colour on and off, size.
import test from 'ava';
import { buildReport, type PipelineReport, type ReportContext } from '../../src/stats/report.js';
import { RunStats } from '../../src/stats/run-stats.js';
import { formatSummary } from '../../src/stats/summary-text.js';

const ANSI = /\x1b\[/;

const context: ReportContext = {
  status: 'complete',
  model: {
    path: 'data/models/default.safetensors',
    format: 'safetensors',
    kernel: 'wasm',
    sha256: '3f2a9c1b0d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e',
    layerSizes: [784, 50, 100, 10],
    activation: 'sigmoid',
    output: 'softmax',
  },
  input: { path: 'data/mnist_test.csv', bytes: 18_289_443, hasHeader: true, labeled: true, parser: 'csv-parse' },
  config: { batchSize: 256, threads: 4, maxInFlight: 8, normalize: 'unit', onError: 'skip', limit: 10000 },
  startedAt: new Date('2025-01-02T03:04:05.000Z'),
  finishedAt: new Date('2025-01-02T03:04:07.000Z'),
};

/** 10,000 rows, 10 classes, 9,352 right. */
function labeledReport(overrides: Partial<ReportContext> = {}): PipelineReport {
  let t = 0;
  const stats = new RunStats({ classes: 10, now: () => t });
  stats.start();
  t += 240;
  const rows = 250;
  for (let b = 0; b < 40; b++) {
    const labels = Int16Array.from({ length: rows }, (_, i) => (b * rows + i) % 10);
    // Wrong on a deterministic ~6.5% of rows.
    const predicted = Int32Array.from(labels, (l, i) => ((b * rows + i) % 1000 < 65 ? (l + 1) % 10 : l));
    stats.recordBatch({
      rows,
      labels,
      predicted,
      confidence: new Float32Array(rows),
      latencyMs: 3 + (b % 5),
      computeMs: 2,
    });
    t += 40;
  }
  stats.recordRowError({ line: 17, message: 'expected 785 fields, got 12' });
  stats.finish();
  return buildReport(stats, { ...context, ...overrides });
}

test('a complete labeled run shows the key figures', (t) => {
  const report = labeledReport();
  const text = formatSummary(report);
  t.regex(text, /complete/);
  t.regex(text, /rows 10,000/);
  t.regex(text, /labeled 10,000/);
  t.regex(text, /skipped 1/);
  t.regex(text, new RegExp(`${(report.accuracy! * 100).toFixed(2)}%`));
  t.regex(text, new RegExp(`${report.correct.toLocaleString('en-US')} / 10,000`));
  t.regex(text, /images\/s whole run/);
  t.regex(text, /after the first result/);
  t.regex(text, /first result after 240 ms/);
  t.regex(text, /batch latency\s+p50 [\d.]+ ms\s+p90 [\d.]+ ms\s+p99 [\d.]+ ms\s+max 7.00 ms/);
  t.regex(text, /worker compute p50 2.00 ms\s+p99 2.00 ms/);
  t.regex(text, /peak RSS [\d.]+ MiB/);
  t.regex(text, /line 17: expected 785 fields, got 12/);
  // configuration
  t.regex(text, /batch size 256/);
  t.regex(text, /threads 4/);
  t.regex(text, /max in flight 8/);
  t.regex(text, /normalize unit/);
  t.regex(text, /sigmoid -> softmax/);
  t.regex(text, /data\/models\/default\.safetensors/);
  t.regex(text, /sha256 3f2a9c1b0d4e\b/);
  t.regex(text, /data\/mnist_test\.csv/);
  t.regex(text, /limit=10000/);
});

test('the confusion matrix has aligned columns, headings and per-class rows', (t) => {
  const report = labeledReport();
  const lines = formatSummary(report).split('\n');
  const heading = lines.findIndex((l) => l.includes('true\\pred'));
  t.true(heading > 0);
  t.regex(lines[heading - 1], /rows: true label, columns: predicted/);
  const table = lines.slice(heading, heading + 1 + 10 + 4);
  t.regex(table[0], /true\\pred\s+0\s+1\s+2\s+3\s+4\s+5\s+6\s+7\s+8\s+9$/);
  // Every row of the table has the same width, so the columns line up.
  t.is(new Set(table.map((l) => l.length)).size, 1, table.join('\n'));
  // Row 3 (true 3): the diagonal holds the correct count, the wrong ones went to class 4.
  const cells = table[1 + 3].trim().split(/\s+/).map(Number);
  t.is(cells[0], 3);
  t.deepEqual(cells.slice(1), report.confusionMatrix![3]);
  for (const label of ['support', 'predicted', 'acc/recall %', 'precision %']) {
    t.truthy(
      table.find((l) => l.trimStart().startsWith(label)),
      label,
    );
  }
  t.regex(table.find((l) => l.includes('acc/recall %'))!, /^\s+acc\/recall %(\s+9[34]\.0){10}$/);
});

test('fits in about 40 lines for 10 classes', (t) => {
  const lines = formatSummary(labeledReport()).trimEnd().split('\n');
  t.true(lines.length <= 40, `${lines.length} lines`);
});

test('no ANSI codes when color is false (the default)', (t) => {
  const report = labeledReport();
  t.notRegex(formatSummary(report), ANSI);
  t.notRegex(formatSummary(report, { color: false }), ANSI);
  t.notRegex(
    formatSummary({ ...report, status: 'failed', error: { code: 'X', message: 'y' } }, { color: false }),
    ANSI,
  );
});

test('color highlights the diagonal and keeps the columns aligned', (t) => {
  const report = labeledReport();
  const text = formatSummary(report, { color: true });
  t.regex(text, ANSI);
  const stripped = text.replace(/\x1b\[[0-9;]*m/g, '');
  t.is(stripped, formatSummary(report, { color: false }));
  const row0 = text.split('\n').find((l) => /^\s+0\s/.test(l.replace(/\x1b\[[0-9;]*m/g, '')) && l.includes('\x1b['));
  t.truthy(row0, 'row of true class 0 has a highlighted cell');
});

test('unlabeled run: accuracy not available, no matrix', (t) => {
  let now = 0;
  const stats = new RunStats({ classes: 10, now: () => now });
  stats.recordBatch({
    rows: 2,
    labels: Int16Array.from([-1, -1]),
    predicted: Int32Array.from([3, 4]),
    confidence: new Float32Array(2),
    latencyMs: 1,
    computeMs: 0.5,
  });
  now = 10;
  stats.finish();
  const report = buildReport(stats, { ...context, input: { ...context.input, labeled: false } });
  const text = formatSummary(report);
  t.regex(text, /accuracy not available \(input has no labels\)/);
  t.notRegex(text, /true\\pred/);
  t.regex(text, /unlabeled/);
  t.regex(text, /rows 2/);
});

test('failed run: shows FAILED, the error and the first row errors with their lines', (t) => {
  const stats = new RunStats({ classes: 10, now: () => 0 });
  for (let line = 2; line <= 20; line++) stats.recordRowError({ line, message: `bad pixel value at line ${line}` });
  stats.finish();
  const report = buildReport(stats, {
    ...context,
    status: 'failed',
    error: { code: 'PIPE_ERR_WORKER', message: 'worker exited with code 1' },
  });
  const text = formatSummary(report);
  t.regex(text, /FAILED/);
  t.regex(text, /PIPE_ERR_WORKER: worker exited with code 1/);
  t.regex(text, /first 5 of 19/);
  t.regex(text, /line 2: bad pixel value at line 2/);
  t.regex(text, /line 6: /);
  t.notRegex(text, /line 7: /);
  t.regex(text, /first result after n\/a/);
  t.regex(text, /batch latency\s+n\/a/);
  t.regex(text, /accuracy not available/);
});

test('interrupted run says the results are partial', (t) => {
  const text = formatSummary(
    labeledReport({ status: 'interrupted', error: { code: 'PIPE_ERR_INTERRUPTED', message: 'SIGINT' } }),
  );
  t.regex(text, /interrupted/);
  t.regex(text, /partial results/);
  t.regex(text, /PIPE_ERR_INTERRUPTED: SIGINT/);
});

test('control characters from the input cannot break the layout or reach the terminal', (t) => {
  const stats = new RunStats({ classes: 10, now: () => 0 });
  stats.recordRowError({ line: 3, message: 'bad field "\x1b[2J"\nsecond line' });
  const text = formatSummary(buildReport(stats, context));
  t.notRegex(text, ANSI);
  t.regex(text, /line 3: bad field "\?\[2J" second line/);
});
