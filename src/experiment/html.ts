// The experiment's self-contained HTML page, made with the project's page module (src/html/page.ts, Chart.js
// inlined, no network): throughput against batch size per thread count (log x axis), batch latency p50/p99
// against batch size, the table, the machine and how it was measured. Every pool mode is labelled.
import { lineChart, seriesColor, type ChartConfig, type LinePoint, type PointSeries } from '../html/charts.js';
import { escapeHtml } from '../html/escape.js';
import { chartCanvas, dataTable, figureList, renderHtmlPage, type PageSection } from '../html/page.js';
import type { ExperimentDocument, ExperimentResult } from './document.js';
import {
  bestText,
  configurations,
  int,
  mib,
  percent,
  poolText,
  rmeText,
  seriesText,
  sig3,
  speedupHead,
  speedupNote,
  speedupText,
} from './format.js';
import { describeConfiguration } from './grid.js';

interface Group {
  key: string;
  label: string;
  color: string;
  results: ExperimentResult[];
}

/** Grid rows grouped into lines (pool mode, threads, in-flight); every fresh-pool probe on its own. */
function groups(results: ExperimentResult[]): Group[] {
  const byKey = new Map<string, ExperimentResult[]>();
  for (const r of results) {
    const c = r.config;
    const key = c.probe ? `probe-${c.id}` : `${c.pool}-${c.threads}-${c.maxInFlight}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return [...byKey.entries()].map(([key, rs], i) => {
    const c = rs[0].config;
    const label = c.probe
      ? seriesText('fresh probe', c.threads, c.maxInFlight)
      : seriesText(c.pool, c.threads, c.maxInFlight);
    return {
      key,
      label,
      color: seriesColor(i),
      results: [...rs].sort((a, b) => a.config.batchSize - b.config.batchSize),
    };
  });
}

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/** Mean images/s with an error bar of ± its margin of error (none for a single sample: no spread to show). */
function throughputPoint(r: ExperimentResult): LinePoint {
  const { mean, moe } = r.imagesPerSecond;
  const point: LinePoint = { x: r.config.batchSize, y: Math.round(mean) };
  return moe === null ? point : { ...point, yMin: Math.round(mean - moe), yMax: Math.round(mean + moe) };
}

function throughputChart(gs: Group[]): ChartConfig {
  return lineChart({
    title: 'Throughput against batch size (error bars: \u00b1 rme)',
    series: gs.map((g) => ({ label: g.label, color: g.color, markers: true, points: g.results.map(throughputPoint) })),
    x: { title: 'batch size (rows per batch, log scale)', scale: 'logarithmic' },
    y: { title: 'images/s (benchmark.js mean)', beginAtZero: true },
  });
}

function latencyChart(gs: Group[]): ChartConfig {
  const series: PointSeries[] = [];
  for (const g of gs) {
    const points = (pick: (r: ExperimentResult) => number) =>
      g.results.map((r) => ({ x: r.config.batchSize, y: round(pick(r), 4) }));
    series.push({
      label: `p50, ${g.label}`,
      color: g.color,
      markers: true,
      points: points((r) => r.batchLatencyMs.p50),
    });
    series.push({
      label: `p99, ${g.label}`,
      color: g.color,
      markers: true,
      dashed: true,
      points: points((r) => r.batchLatencyMs.p99),
    });
  }
  return lineChart({
    title: 'Batch latency against batch size (p50 solid, p99 dashed)',
    series,
    x: { title: 'batch size (rows per batch, log scale)', scale: 'logarithmic' },
    y: { title: 'batch latency, ms (log scale)', scale: 'logarithmic' },
  });
}

function bestLine(doc: ExperimentDocument, flag: 'bestThroughput' | 'bestP99'): string {
  const rows = doc.results.filter((r) => r[flag]);
  if (rows.length === 0) return 'n/a';
  return rows
    .map((r) => {
      const value =
        flag === 'bestThroughput'
          ? `${int(r.imagesPerSecond.mean)} images/s ${rmeText(r.imagesPerSecond.rme)}`
          : `p99 ${sig3(r.batchLatencyMs.p99)} ms`;
      return (
        `<strong>${escapeHtml(value)}</strong> <span class="note">#${r.config.id}: ` +
        `${escapeHtml(describeConfiguration(r.config))}</span>`
      );
    })
    .join('<br>');
}

function summary(doc: ExperimentDocument): string {
  const statusNote =
    doc.status === 'complete'
      ? ''
      : doc.status === 'running'
        ? ': still running; this page is a checkpoint of the configurations measured so far.'
        : `: partial, the figures cover the ${configurations(doc.summary.measured)} measured before the ` +
          `${doc.status === 'failed' ? 'failure' : 'stop'}.`;
  const parts = [
    `<p class="status ${doc.status}">Experiment ` +
      `<strong>${escapeHtml(doc.status)}</strong>${escapeHtml(statusNote)}</p>`,
  ];
  if (doc.error)
    parts.push(
      `<p class="error"><span class="mono">${escapeHtml(doc.error.code)}</span> ${escapeHtml(doc.error.message)}</p>`,
    );
  parts.push(
    figureList([
      ['configurations measured', `${doc.summary.measured} of ${doc.summary.configurations}`],
      [
        'accuracy (identical in every pass)',
        doc.summary.accuracy === null ? 'n/a (no labels)' : `<strong>${percent(doc.summary.accuracy)}</strong>`,
      ],
      ['best throughput', bestLine(doc, 'bestThroughput')],
      ['best p99 batch latency', bestLine(doc, 'bestP99')],
      [
        'input',
        `<span class="mono">${escapeHtml(doc.input.path)}</span>${
          doc.input.rows === null ? '' : ` <span class="note">${int(doc.input.rows)} rows</span>`
        }`,
      ],
      [
        'model',
        `${escapeHtml(doc.model.layerSizes.join(' \u2192 '))} <span class="note ` +
          `mono">${escapeHtml(doc.model.sha256.slice(0, 12))}</span>`,
      ],
      [
        'forward engine',
        doc.summary.kernels.length > 0
          ? escapeHtml(doc.summary.kernels.join(', '))
          : '<span class="note">not reported</span>',
      ],
      [
        'benchmark.js',
        escapeHtml(`min ${doc.options.minSamples} samples, max time ${doc.options.maxTimeS} s per configuration`),
      ],
      ['wall time', `${(doc.wallTimeMs / 1000).toFixed(1)} s`],
      ['date', escapeHtml(doc.startedAt.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC'))],
    ]),
  );
  return parts.join('');
}

function resultsTable(doc: ExperimentDocument): string {
  const head = [
    '#',
    'pool',
    'batch',
    'threads',
    'in flight',
    'images/s',
    '±rme',
    'samples',
    'p50 ms',
    'p99 ms',
    'ms/image',
    '1st result ms',
    'RSS MiB',
    speedupHead(doc.summary.speedupBaseline),
    'best',
  ];
  const rows = doc.results.map((r) => [
    r.config.id,
    poolText(r.config),
    r.config.batchSize,
    r.config.threads,
    r.config.maxInFlight,
    int(r.imagesPerSecond.mean),
    rmeText(r.imagesPerSecond.rme),
    r.samples,
    sig3(r.batchLatencyMs.p50),
    sig3(r.batchLatencyMs.p99),
    r.perImageLatencyMs === null ? 'n/a' : sig3(r.perImageLatencyMs),
    r.timeToFirstResultMs === null ? 'n/a' : sig3(r.timeToFirstResultMs),
    mib(r.peakRssBytes),
    speedupText(r.speedup),
    bestText(r),
  ]);
  return (
    dataTable(head, rows, {
      caption: 'One row per configuration, in measuring order. Pool: warm or fresh (see "How it was measured").',
    }) +
    `<p class="note">images/s: rows / benchmark.js mean seconds per pass, ± its 95% relative margin of error. ` +
    `p50/p99: batch latency (dispatch to result), median across passes. 1st result: pass start to the first scored batch ` +
    `(with a fresh pool, thread start-up included). RSS: peak of the child process that measured only this ` +
    `configuration. ${escapeHtml(speedupNote(doc.summary.speedupBaseline))}.</p>`
  );
}

function machine(doc: ExperimentDocument): string {
  const m = doc.machine;
  return figureList([
    ['CPU', escapeHtml(m.cpuModel)],
    ['cores', `${m.cores} <span class="note">(${m.logicalCpus} logical CPUs)</span>`],
    ['memory', `${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['Node', escapeHtml(`${m.node} (V8 ${m.v8})`)],
    ['platform', escapeHtml(`${m.platform}, ${m.osRelease}`)],
    ['load average at start', escapeHtml(m.loadAverageStart.join(' / '))],
    ['load average at end', escapeHtml(m.loadAverageEnd ? m.loadAverageEnd.join(' / ') : 'n/a')],
  ]);
}

function method(doc: ExperimentDocument): string {
  const items = [
    doc.method.pools.warm,
    doc.method.pools.fresh,
    doc.method.engine,
    doc.method.sampling,
    doc.method.imagesPerSecond,
    doc.method.latency,
    doc.method.rss,
    doc.method.speedup,
    doc.method.best,
    doc.method.accuracy,
  ];
  return `<ul class="method">${items.map((text) => `<li>${escapeHtml(text)}</li>`).join('')}</ul>`;
}

export function buildExperimentPage(doc: ExperimentDocument): string {
  const gs = groups(doc.results);
  const charts: Record<string, ChartConfig> = {};
  const sections: PageSection[] = [{ id: 'summary', title: 'Summary', body: summary(doc) }];
  const poolNote =
    '<p class="note">Warm pool: started once per configuration and warmed up; the samples reuse it. Fresh pool: ' +
    'every pass starts ' +
    'and closes its own ' +
    '(thread start-up included).</p>';
  if (doc.results.length > 0) {
    charts.throughput = throughputChart(gs);
    charts.latency = latencyChart(gs);
    sections.push({
      id: 'throughput-section',
      title: 'Throughput',
      wide: false,
      body: chartCanvas('throughput', { label: 'throughput against batch size', height: 420 }) + poolNote,
    });
    sections.push({
      id: 'latency-section',
      title: 'Latency',
      wide: false,
      body: chartCanvas('latency', { label: 'batch latency p50 and p99 against batch size', height: 420 }) + poolNote,
    });
  }
  sections.push({
    id: 'results',
    title: 'Results',
    body: doc.results.length > 0 ? resultsTable(doc) : '<p class="note">No configuration was measured.</p>',
  });
  if (doc.notMeasured.length > 0) {
    sections.push({
      id: 'not-measured',
      title: 'Not measured',
      body: `<ul>${doc.notMeasured
        .map((c) => `<li>#${c.id}: ` + `${escapeHtml(describeConfiguration(c))}</li>`)
        .join('')}</ul>`,
    });
  }
  sections.push({ id: 'machine', title: 'Machine', wide: false, body: machine(doc) });
  sections.push({ id: 'method', title: 'How it was measured', wide: false, body: method(doc) });
  const partial = doc.partial ? ' (partial)' : '';
  return renderHtmlPage({
    title: `nnpipe batch-size experiment: ${doc.status}${partial}`,
    subtitle: `${doc.model.path} on ${doc.input.path}, ${doc.startedAt}`,
    sections,
    charts,
    data: doc,
    scripts: [BATCH_SIZE_TICKS],
    styles: EXPERIMENT_CSS,
  });
}

// Chart configurations are plain JSON (no callbacks), so the batch-size axis gets its ticks here: exactly the
// measured batch sizes, each labelled (Chart.js's log axis would pick 1, 3, 10, 20, ... and hide 32 and 320).
const BATCH_SIZE_TICKS =
  `
var sizes = [];
page.data.results.forEach(function (r) { if (sizes.indexOf(r.config.batchSize) < 0) sizes.push(r.config.batchSize); });
sizes.sort(function (a, b) { return a - b; });
['throughput', 'latency'].forEach(function (key) {
  var chart = page.chartInstances[key];
  if (!chart) return;
  chart.options.scales.x.afterBuildTicks = function (axis) { axis.ticks = sizes.map(function (v) { return { value: v ` +
  `}; }); };
  chart.options.scales.x.ticks.callback = function (value) { return String(value); };
  chart.update();
});
`;

const EXPERIMENT_CSS = `
.status { font-size: 15px; margin: 0 0 10px; padding: 6px 10px; border-radius: 6px; }
.status.complete { background: #e6f4ea; }
.status.running { background: #e8f0fe; }
.status.interrupted { background: #fff4ce; }
.status.failed { background: #fde7e9; }
.error { color: #B00020; margin: 0 0 8px; overflow-wrap: anywhere; }
#results table.data td { text-align: right; }
#results table.data td:nth-child(2), #results table.data td:last-child { text-align: left; }
ul.method { margin: 0; padding-left: 18px; }
ul.method li { margin-bottom: 6px; }
`;
