// The `--html` run report: summary, confusion-matrix heat map (click a cell for its images), per-class
// precision and recall, the mistakes gallery, the batch-latency histogram and throughput over the run.
// Everything on it is bounded (images, buckets, timeline points), so its size does not grow with the input.
import type { PipelineReport } from '../stats/report.js';
import type { CollectedImages } from '../stats/mistakes.js';
import type { LatencyBucket, ThroughputPoint } from '../stats/timeline.js';
import { barChart, histogramChart, lineChart, type ChartConfig } from './charts.js';
import { escapeHtml } from './escape.js';
import { DIGITS_CSS, DIGITS_SCRIPT, digitData } from './gallery.js';
import { HEATMAP_CSS, confusionHeatmap } from './heatmap.js';
import { chartCanvas, figureList, renderHtmlPage, type PageSection } from './page.js';

export interface RunPageInput {
  report: PipelineReport;
  images: CollectedImages;
  /** Values per row (784): the images' shape. */
  features: number;
  throughput: ThroughputPoint[];
  batchLatency: LatencyBucket[];
  computeLatency: LatencyBucket[];
}

/** How many row errors the page lists (the JSON report keeps up to 100). */
const SHOWN_ROW_ERRORS = 10;

export function buildRunPage(input: RunPageInput): string {
  const { report, images } = input;
  const charts: Record<string, ChartConfig> = {};
  const sections: PageSection[] = [{ id: 'summary', title: 'Summary', body: summary(report) }];

  if (report.confusionMatrix && images.cells) {
    sections.push({
      id: 'confusion',
      title: 'Confusion matrix',
      wide: false,
      body:
        `<p class="note">Rows: true label; columns: predicted. Blue: share of the row predicted right; red: mistakes (the reddest is the most frequent confusion). Click a cell to see its images (up to ${images.perCell}).</p>` +
        confusionHeatmap(report.confusionMatrix) +
        `<div id="cell-examples" hidden><p class="cell-caption"></p><div class="digits"></div></div>`,
    });
  }
  if (report.perClass) {
    charts.perClass = barChart({
      title: 'Precision and recall per class',
      labels: report.perClass.map((c) => String(c.class)),
      series: [
        { label: 'precision %', data: report.perClass.map((c) => percentOrNull(c.precision)) },
        { label: 'recall % (per-class accuracy)', data: report.perClass.map((c) => percentOrNull(c.recall)) },
      ],
      x: { title: 'class' },
      y: { title: '%', min: 0, max: 100 },
    });
    sections.push({ id: 'per-class', title: 'Per class', wide: false, body: chartCanvas('perClass', { label: 'precision and recall per class', height: 360 }) });
  }

  sections.push({ id: 'gallery-section', title: images.kind === 'mistakes' ? 'Mistakes' : 'Least confident predictions', body: galleryIntro(input) + '<div id="gallery" class="digits"></div>' });

  if (input.batchLatency.length > 0) {
    charts.latency = histogramChart({
      title: `Batch latency (${int(report.batchLatencyMs.count)} batches)`,
      labels: input.batchLatency.map((b) => `${sig3(b.fromMs)}\u2013${sig3(b.toMs)}`),
      series: [
        { label: 'dispatch \u2192 result (queue + transfer + compute)', data: input.batchLatency.map((b) => b.count) },
        { label: 'forward pass in the worker', data: input.computeLatency.map((b) => b.count) },
      ],
      x: { title: 'ms (log-spaced buckets)' },
      y: { title: 'batches' },
    });
    sections.push({ id: 'latency', title: 'Batch latency', wide: false, body: chartCanvas('latency', { label: 'histogram of batch latency', height: 320 }) });
  }
  if (input.throughput.length > 0) {
    const average = report.imagesPerSecond;
    const last = input.throughput[input.throughput.length - 1].seconds;
    charts.throughput = lineChart({
      title: 'Throughput over the run',
      series: [
        { label: 'images/s', points: [{ x: 0, y: 0 }, ...input.throughput.map((p) => ({ x: round(p.seconds, 4), y: Math.round(p.imagesPerSecond) }))] },
        { label: `whole-run average (${int(average)} images/s)`, points: [{ x: 0, y: Math.round(average) }, { x: round(last, 4), y: Math.round(average) }], dashed: true },
      ],
      x: { title: 'seconds since start (worker start-up included)', beginAtZero: true },
      y: { title: 'images/s' },
    });
    sections.push({ id: 'throughput', title: 'Throughput', wide: false, body: chartCanvas('throughput', { label: 'throughput over the run', height: 320 }) });
  }

  return renderHtmlPage({
    title: `nnpipe run: ${report.status}${report.accuracy === null ? '' : `, accuracy ${pct(report.accuracy)}`}`,
    subtitle: `${report.model.path} on ${report.input.path}, ${report.startedAt}`,
    sections,
    charts,
    data: { kind: 'nnpipe-run', status: report.status, digits: digitData(images, input.features) },
    scripts: [DIGITS_SCRIPT],
    styles: RUN_CSS + HEATMAP_CSS + DIGITS_CSS,
  });
}

function summary(report: PipelineReport): string {
  const lat = report.batchLatencyMs;
  const steady = report.imagesPerSecondAfterFirstResult;
  const figures = figureList([
    ['rows', `${int(report.rows)}${report.skipped ? ` <span class="note">(${int(report.skipped)} skipped)</span>` : ''}`],
    ['accuracy', report.accuracy === null ? 'n/a (no labels)' : `<strong>${pct(report.accuracy)}</strong> <span class="note">${int(report.correct)} / ${int(report.labeled)}</span>`],
    ['images/s', `${int(report.imagesPerSecond)}${steady === null ? '' : ` <span class="note">(${int(steady)} after the first result)</span>`}`],
    ['batch latency p50 / p99', lat.count ? `${sig3(lat.p50)} / ${sig3(lat.p99)} ms` : 'n/a'],
    ['batches', `${int(report.batches)}`],
    ['duration', `${sig3(report.durationMs / 1000)} s`],
    ['peak RSS', `${(report.peakRssBytes / 2 ** 20).toFixed(1)} MiB`],
    ['date', escapeHtml(report.startedAt.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC'))],
  ]);
  const { model, input } = report;
  const details = figureList([
    ['model', `<span class="mono">${escapeHtml(model.path)}</span>`],
    ['model sha256', `<span class="mono">${escapeHtml(model.sha256)}</span>`],
    ['layers', `${escapeHtml(model.layerSizes.join(' \u2192 '))} <span class="note">(${escapeHtml(model.format)})</span>`],
    ['activations', `${escapeHtml(model.activation)} (hidden), ${escapeHtml(model.output)} (output)`],
    ['input', `<span class="mono">${escapeHtml(input.path)}</span>${input.bytes === null ? '' : ` <span class="note">${(input.bytes / 2 ** 20).toFixed(1)} MiB</span>`}`],
    ['configuration', escapeHtml(configText(report.config))],
    ['machine', escapeHtml(`${report.environment.cpuModel}, ${report.environment.cpus} CPUs, Node ${report.environment.node}, ${report.environment.platform}`)],
  ]);
  return `${statusBlock(report)}${figures}<hr>${details}`;
}

function statusBlock(report: PipelineReport): string {
  const parts = [`<p class="status ${report.status}">Run <strong>${report.status}</strong>${statusNote(report)}</p>`];
  if (report.error) parts.push(`<p class="error"><span class="mono">${escapeHtml(report.error.code)}</span> ${escapeHtml(report.error.message)}</p>`);
  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, SHOWN_ROW_ERRORS);
    const more = report.skipped - shown.length;
    parts.push(
      `<p class="note">Rows with errors (first ${shown.length} of ${int(report.skipped)}):</p><ul class="row-errors">` +
        shown.map((e) => `<li><span class="mono">line ${e.line}</span> ${escapeHtml(e.message)}</li>`).join('') +
        `</ul>${more > 0 ? `<p class="note">and ${int(more)} more${report.errorsTruncated ? ' (the JSON report lists the first 100)' : ''}.</p>` : ''}`,
    );
  }
  return parts.join('');
}

function statusNote(report: PipelineReport): string {
  switch (report.status) {
    case 'complete':
      return '';
    case 'interrupted':
      return `: stopped early; the figures cover the ${int(report.rows)} rows scored before the stop.`;
    case 'failed':
      return `: the figures cover the ${int(report.rows)} rows scored before the failure.`;
  }
}

function galleryIntro(input: RunPageInput): string {
  const { images } = input;
  const shown = images.gallery.length;
  if (images.kind === 'mistakes') {
    if (images.mistakes === 0) return '<p class="note">No labeled row was misclassified.</p>';
    const which = shown < images.mistakes ? `The ${int(shown)} most confident of ${int(images.mistakes)} mistakes (the page keeps at most ${images.capacity})` : `All ${int(shown)} mistakes`;
    return `<p class="note">${which}, most confident first: input line, true \u2192 predicted label, confidence.</p>`;
  }
  if (shown === 0) return '<p class="note">No rows were scored.</p>';
  const which = shown < images.unlabeled ? `the ${int(shown)} least confident predictions of ${int(images.unlabeled)} rows (the page keeps at most ${images.capacity})` : `all ${int(shown)} predictions`;
  return `<p class="note">The input has no labels, so there are no mistakes to show: these are ${which}, least confident first.</p>`;
}

function configText(config: Record<string, unknown>): string {
  return Object.entries(config)
    .filter(([key, value]) => value !== null && value !== undefined && typeof value !== 'object' && key !== 'input' && key !== 'model')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');
}

const percentOrNull = (ratio: number | null): number | null => (ratio === null ? null : round(ratio * 100, 2));
const round = (x: number, decimals: number): number => Math.round(x * 10 ** decimals) / 10 ** decimals;
const int = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const pct = (ratio: number): string => `${(ratio * 100).toFixed(2)}%`;
/** About three significant digits. */
function sig3(x: number): string {
  if (x === 0) return '0';
  return x.toFixed(x < 0.01 ? 4 : x < 1 ? 3 : x < 10 ? 2 : x < 100 ? 1 : 0);
}

const RUN_CSS = `
.status { font-size: 15px; margin: 0 0 10px; padding: 6px 10px; border-radius: 6px; }
.status.complete { background: #e6f4ea; }
.status.interrupted { background: #fff4ce; }
.status.failed { background: #fde7e9; }
.error { color: #B00020; margin: 0 0 8px; overflow-wrap: anywhere; }
ul.row-errors { margin: 0 0 8px; padding-left: 18px; overflow-wrap: anywhere; }
hr { border: 0; border-top: 1px solid var(--line); margin: 12px 0; }
`;
