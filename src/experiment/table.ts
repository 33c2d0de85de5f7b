// The experiment's terminal table: one line per configuration, the best throughput and the best p99 marked,
// then the notes that say what the columns mean (warm / fresh, how RSS is attributed).
import type { ExperimentDocument, ExperimentResult } from './document.js';
import { speedupBaseline } from './aggregate.js';
import {
  bestText,
  configurations,
  int,
  mib,
  percent,
  poolText,
  rmeText,
  sig3,
  speedupHead,
  speedupNote,
  speedupText,
} from './format.js';

interface Column {
  /** Text, or made from the batch size the speed-ups are measured against. */
  head: string | ((baseline: number | null) => string);
  align: 'left' | 'right';
  cell: (r: ExperimentResult) => string;
}

export const TABLE_COLUMNS: Column[] = [
  { head: '#', align: 'right', cell: (r) => String(r.config.id) },
  { head: 'pool', align: 'left', cell: (r) => poolText(r.config) },
  { head: 'batch', align: 'right', cell: (r) => String(r.config.batchSize) },
  { head: 'threads', align: 'right', cell: (r) => String(r.config.threads) },
  { head: 'in flight', align: 'right', cell: (r) => String(r.config.maxInFlight) },
  { head: 'images/s', align: 'right', cell: (r) => int(r.imagesPerSecond.mean) },
  { head: '±rme', align: 'right', cell: (r) => rmeText(r.imagesPerSecond.rme) },
  { head: 'samples', align: 'right', cell: (r) => String(r.samples) },
  { head: 'p50 ms', align: 'right', cell: (r) => sig3(r.batchLatencyMs.p50) },
  { head: 'p99 ms', align: 'right', cell: (r) => sig3(r.batchLatencyMs.p99) },
  { head: 'ms/image', align: 'right', cell: (r) => (r.perImageLatencyMs === null ? 'n/a' : sig3(r.perImageLatencyMs)) },
  {
    head: '1st result ms',
    align: 'right',
    cell: (r) => (r.timeToFirstResultMs === null ? 'n/a' : sig3(r.timeToFirstResultMs)),
  },
  { head: 'RSS MiB', align: 'right', cell: (r) => mib(r.peakRssBytes) },
  { head: speedupHead, align: 'right', cell: (r) => speedupText(r.speedup) },
  { head: 'best', align: 'left', cell: (r) => bestText(r) },
];

/** The table alone, as lines (the README pastes this). */
export function formatResultsTable(results: ExperimentResult[], options: { color?: boolean } = {}): string[] {
  const baseline = speedupBaseline(results.map((r) => r.config));
  const heads = TABLE_COLUMNS.map((c) => (typeof c.head === 'string' ? c.head : c.head(baseline)));
  const cells = results.map((r) => TABLE_COLUMNS.map((c) => c.cell(r)));
  const widths = TABLE_COLUMNS.map((_, i) => Math.max(heads[i].length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (TABLE_COLUMNS[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const bold = (text: string) => (options.color ? `\u001b[1m${text}\u001b[22m` : text);
  return [
    line(heads),
    line(widths.map((w) => '-'.repeat(w))),
    ...results.map((r, i) => (r.bestThroughput || r.bestP99 ? bold(line(cells[i])) : line(cells[i]))),
  ];
}

function statusLine(doc: ExperimentDocument): string {
  const measured = `${doc.summary.measured} of ${configurations(doc.summary.configurations)} measured`;
  const time = `in ${(doc.wallTimeMs / 1000).toFixed(1)} s`;
  switch (doc.status) {
    case 'complete':
      return `experiment complete: ${measured} ${time}`;
    case 'interrupted':
      return `experiment INTERRUPTED (partial): ${measured} ${time}`;
    case 'failed':
      return `experiment FAILED (partial): ${measured} ${time}`;
    case 'running':
      return `experiment running: ${measured} so far`;
  }
}

/** The whole terminal output: status, input and machine, the table, and the notes. */
export function formatExperimentTable(doc: ExperimentDocument, options: { color?: boolean } = {}): string {
  const m = doc.machine;
  const lines = [statusLine(doc)];
  if (doc.error) lines.push(`  error ${doc.error.code}: ${doc.error.message}`);
  const rows = doc.input.rows === null ? '' : ` (${int(doc.input.rows)} rows)`;
  const accuracy =
    doc.summary.accuracy === null ? 'no labels' : `accuracy ${percent(doc.summary.accuracy)} in every pass`;
  const engine = doc.summary.kernels.length > 0 ? ` (forward engine ${doc.summary.kernels.join(', ')})` : '';
  lines.push(`  input ${doc.input.path}${rows}, model ${doc.model.layerSizes.join('-')}${engine}; ${accuracy}`);
  lines.push(
    `  machine ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.platform}; load average ` +
      `${m.loadAverageStart.join(' ')} at start` +
      (m.loadAverageEnd ? `, ${m.loadAverageEnd.join(' ')} at end` : ''),
  );
  lines.push(
    `  benchmark.js: at least ${doc.options.minSamples} samples and ${doc.options.maxTimeS} s per configuration; one ` +
      `sample = one pass over the whole input`,
  );
  lines.push('');
  if (doc.results.length > 0) lines.push(...formatResultsTable(doc.results, options));
  else lines.push('  (no configuration was measured)');
  if (doc.notMeasured.length > 0) {
    lines.push(
      '',
      `  not measured: ${doc.notMeasured.map((c) => `#${c.id}`).join(' ')} (${configurations(doc.notMeasured.length)})`,
    );
  }
  lines.push(
    '',
    `  pool: ${doc.method.pools.warm}.`,
    `        ${doc.method.pools.fresh}. "(probe)": one fresh-pool run per thread count next to a warm grid.`,
    '  images/s: rows / mean seconds per pass (benchmark.js); ±rme: its 95% relative margin of error.',
    '  p50/p99: batch latency (dispatch to result), median across passes; ms/image: mean batch latency / batch size.',
    '  1st result ms: pass start to the first scored batch (median across passes); with a fresh pool it includes ' +
      'starting the threads.',
    '  RSS: peak of a child process that measured only this configuration (worker threads included).',
    `  ${speedupNote(doc.summary.speedupBaseline)}; best: within each pool mode's grid.`,
  );
  return lines.join('\n');
}
