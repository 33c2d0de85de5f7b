// The `--html` run report: summary, confusion-matrix heat map (click a cell for its images), per-class
// precision and recall, the gallery (mistakes, then close calls), the batch-latency histogram and throughput
// over the run.
//
// The page's size does not depend on the number of rows. Everything on it is bounded (a fixed budget of
// images, fixed latency buckets, a fixed number of timeline points), and everything whose *value* grows with
// the input is stored in fixed-size binary form (run-data.ts): the figures in one Float64Array, the images
// as fixed-size records. The markup, the chart configurations and the JSON hold only what does not depend on
// the row count (paths, the model, dates in fixed-width ISO form, the status, the first error messages); the
// page's scripts render every number. So a 10,000-row page and a 1,000,000-row page of the same model, input
// path and status have the same length, byte for byte.
import { basename } from 'node:path';
import type { LineMap } from '../data/line-map.js';
import type { PipelineReport } from '../stats/report.js';
import type { CollectedImages, KeptImage } from './mistakes.js';
import { WINDOW_MIN_MS, WINDOW_SHARE, type ThroughputPoint } from '../stats/timeline.js';
import { barChart, histogramChart, lineChart, type ChartConfig } from './charts.js';
import { escapeHtml } from './escape.js';
import { CELL_PANEL, DIGITS_CSS, DIGITS_SCRIPT, galleryBody, imageShape } from './gallery.js';
import { HEATMAP_CSS, HEATMAP_SCRIPT, confusionHeatmapTable } from './heatmap.js';
import { chartCanvas, figureList, renderHtmlPage, type PageSection } from './page.js';
import {
  LATENCY_SUMMARY_FIELDS,
  RUN_DATA_SCRIPT,
  encodeFigures,
  encodeImageRecords,
  figureLayout,
  imageRecordBytes,
  type FigureLayout,
} from './run-data.js';

export interface RunPageInput {
  report: PipelineReport;
  images: CollectedImages;
  /** Several input files: where each image's run line is (file and line there); else null or absent. */
  lineMap?: LineMap | null;
  /** Values per row (784): the images' shape. */
  features: number;
  /** At most `timelinePoints` points. */
  throughput: ThroughputPoint[];
  /** The sliding window the throughput points use, ms (ThroughputTimeline.windowMs). */
  throughputWindowMs: number;
  /** The timeline's fixed number of slots (ThroughputTimeline.maxPoints). */
  timelinePoints: number;
  /** Counts in every bucket of one fixed logarithmic scale (LatencyBuckets.allCounts), for both latencies. */
  latency: { minMs: number; perDecade: number; batch: ArrayLike<number>; compute: ArrayLike<number> };
  /** For a merged run (nnpipe merge / submit): its shard count; the throughput is then the shards' summed. */
  mergedShards?: number;
}

/** How many row errors the page lists (the JSON report keeps up to 100). */
export const SHOWN_ROW_ERRORS = 10;

/** What `page.data.run` holds (JSON), next to `kind: 'nnpipe-run'` and the status. */
export interface RunPageData {
  kind: CollectedImages['kind'];
  classes: number;
  features: number;
  /** [height, width]: square images when the feature count is a square (28 x 28 for MNIST), else one row. */
  shape: [number, number];
  /** T: the images the page keeps. */
  budget: number;
  /** Bytes per image record (run-data.ts). */
  recordBytes: number;
  /** The latency buckets' scale: bucket i covers [minMs x 10^(i / perDecade), minMs x 10^((i + 1) / perDecade)). */
  latencyScale: { minMs: number; perDecade: number };
  layout: FigureLayout;
  /** base64 of the Float64Array (little-endian). */
  figures: string;
  /** base64 of the image records: mistakes, close calls, unlabeled rows, each tier in display order. */
  images: string;
  /** Several input files: their names on the page, and each image's file (its record holds its line there). */
  files: { names: string[]; ofImage: number[] } | null;
}

export function runPageData(input: RunPageInput): RunPageData {
  const { report, images, features } = input;
  const k = images.classes;
  const layout = figureLayout({
    classes: k,
    buckets: input.latency.batch.length,
    timelinePoints: input.timelinePoints,
    errorLines: SHOWN_ROW_ERRORS,
  });
  if (input.latency.compute.length !== input.latency.batch.length)
    throw new RangeError('runPageData: the two latency histograms must have the same buckets');
  const latency = (summary: PipelineReport['batchLatencyMs']) => LATENCY_SUMMARY_FIELDS.map((field) => summary[field]);
  const figures = encodeFigures(layout, {
    rows: report.rows,
    labeled: report.labeled,
    correct: report.correct,
    skipped: report.skipped,
    batches: report.batches,
    imagesPerSecond: report.imagesPerSecond,
    imagesPerSecondAfterFirstResult: report.imagesPerSecondAfterFirstResult,
    timeToFirstResultMs: report.timeToFirstResultMs,
    durationMs: report.durationMs,
    peakRssBytes: report.peakRssBytes,
    inputBytes: report.input.bytes,
    perImageLatencyMs: report.perImageLatencyMs,
    errorsListed: report.errors.length,
    errorsTruncated: report.errorsTruncated ? 1 : 0,
    throughputWindowMs: input.throughputWindowMs,
    batchLatencyMs: latency(report.batchLatencyMs),
    computeLatencyMs: latency(report.computeLatencyMs),
    errorLines: report.errors.slice(0, SHOWN_ROW_ERRORS).map((e) => e.line),
    confusion: report.confusionMatrix ? report.confusionMatrix.flat() : new Array<number>(k * k).fill(0),
    precision: report.perClass ? report.perClass.map((c) => c.precision) : [],
    recall: report.perClass ? report.perClass.map((c) => c.recall) : [],
    batchLatencyBuckets: input.latency.batch,
    computeLatencyBuckets: input.latency.compute,
    throughputSeconds: input.throughput.map((p) => p.seconds),
    throughputRate: input.throughput.map((p) => p.imagesPerSecond),
    throughputRows: input.throughput.map((p) => p.rows),
  });
  return {
    kind: images.kind,
    classes: k,
    features,
    shape: imageShape(features),
    budget: images.budget,
    recordBytes: imageRecordBytes(features),
    latencyScale: { minMs: input.latency.minMs, perDecade: input.latency.perDecade },
    layout,
    figures,
    ...imagesWithFiles([...images.mistakes, ...images.closeCalls, ...images.uncertain], features, input.lineMap),
  };
}

/** The image records, and with several input files each image's file, its run line made its line there. */
function imagesWithFiles(
  kept: KeptImage[],
  features: number,
  lineMap: LineMap | null | undefined,
): Pick<RunPageData, 'images' | 'files'> {
  if (!lineMap?.several) return { images: encodeImageRecords(kept, features), files: null };
  const located = kept.map((image) => ({ ...image, line: lineMap.locate(image.line).line }));
  return {
    images: encodeImageRecords(located, features),
    files: { names: fileLabels(lineMap.files), ofImage: kept.map((image) => lineMap.fileIndex(image.line)) },
  };
}

/** Short names for the page: the files' base names, or their paths when two share a base name. */
export function fileLabels(paths: readonly string[]): string[] {
  const names = paths.map((path) => basename(path));
  return new Set(names).size === names.length ? names : [...paths];
}

export function buildRunPage(input: RunPageInput): string {
  const { report, images } = input;
  const charts: Record<string, ChartConfig> = {};
  const sections: PageSection[] = [{ id: 'summary', title: 'Summary', body: summary(report) }];
  // Chart data, labels and titles that carry numbers are empty here and filled by RUN_CHARTS_SCRIPT.
  if (report.labeled > 0) addClassSections(sections, charts, images.classes, images.budget);
  sections.push({
    id: 'gallery-section',
    title: images.kind === 'mistakes' ? 'Mistakes' : 'Least confident predictions',
    body: galleryBody(),
  });

  if (report.batches > 0) addTimingSections(sections, charts, input.mergedShards ?? null);

  return renderHtmlPage({
    // The accuracy is added by SUMMARY_SCRIPT (its digits would make the length depend on the figures).
    title: `nnpipe run: ${report.status}`,
    subtitle: `${report.model.path} on ${inputNames(report)}, ${report.startedAt}`,
    sections,
    charts,
    data: { kind: 'nnpipe-run', status: report.status, run: runPageData(input) },
    prepare: [RUN_DATA_SCRIPT, RUN_CHARTS_SCRIPT],
    scripts: [SUMMARY_SCRIPT, HEATMAP_SCRIPT, DIGITS_SCRIPT],
    styles: RUN_CSS + HEATMAP_CSS + DIGITS_CSS,
  });
}

/** The confusion heat map and the per-class precision and recall bars (labeled input only). */
function addClassSections(
  sections: PageSection[],
  charts: Record<string, ChartConfig>,
  k: number,
  budget: number,
): void {
  sections.push({
    id: 'confusion',
    title: 'Confusion matrix',
    wide: false,
    body:
      `<p class="note">Rows: true label; columns: predicted. Blue: share of the row predicted right; red: mistakes ` +
      `(the reddest is the most frequent confusion). Click a cell to see its images among the ${budget} the page keeps.</p>` +
      confusionHeatmapTable(k) +
      CELL_PANEL,
  });
  charts.perClass = barChart({
    title: 'Precision and recall per class',
    labels: Array.from({ length: k }, (_, c) => String(c)),
    series: [
      { label: 'precision %', data: new Array<null>(k).fill(null) },
      { label: 'recall % (per-class accuracy)', data: new Array<null>(k).fill(null) },
    ],
    x: { title: 'class' },
    // The range is zoomed to the data by RUN_CHARTS_SCRIPT (97-99.5% would be flat bars on 0-100).
    y: { title: '%', min: 0, max: 100 },
  });
  sections.push({
    id: 'per-class',
    title: 'Per class',
    wide: false,
    body:
      chartCanvas('perClass', { label: 'precision and recall per class', height: 360 }) +
      '<p class="note">The axis is zoomed to the data: it does not start at 0, so compare bar heights with the axis ' +
      'labels.</p>',
  });
}

/** The batch-latency histogram and the throughput over the run. */
function addTimingSections(
  sections: PageSection[],
  charts: Record<string, ChartConfig>,
  mergedShards: number | null,
): void {
  charts.latency = histogramChart({
    title: 'Batch latency',
    labels: [],
    series: [
      { label: 'dispatch \u2192 result (queue + transfer + compute)', data: [] },
      { label: 'forward pass in the worker', data: [] },
    ],
    x: { title: 'ms (log-spaced buckets)' },
    y: { title: 'batches' },
  });
  sections.push({
    id: 'latency',
    title: 'Batch latency',
    wide: false,
    body: chartCanvas('latency', { label: 'histogram of batch latency', height: 320 }),
  });
  charts.throughput = lineChart({
    title: 'Throughput over the run',
    series: [
      { label: 'images/s over a sliding window', points: [], markers: false },
      { label: 'whole-run average', points: [], dashed: true, color: AVERAGE_COLOR, width: 2.5 },
    ],
    x: { title: 'seconds since start (worker start-up included)', beginAtZero: true },
    y: { title: 'images/s', grace: '5%' },
  });
  sections.push({
    id: 'throughput',
    title: 'Throughput',
    wide: false,
    body:
      chartCanvas('throughput', { label: 'throughput over the run', height: 320 }) +
      `<p class="note">Each point: the rows finished in the ${slot('throughput-window')}` +
      ` before it, as images/s (the window is ${Math.round(WINDOW_SHARE * 100)}` +
      `% of the run, at least ${WINDOW_MIN_MS} ms). Results come back in bursts, so a shorter window would swing ` +
      `between 0 and millions. The line starts at 0 while the model loads and the workers start.</p>` +
      (mergedShards === null
        ? ''
        : `<p class="note" id="merged-throughput">Merged from ${mergedShards} shards: the sum of the shards' own ` +
          `throughput lines, each placed at its shard's start on the wall clock (the clocks of different machines may ` +
          `disagree); each shard's window is its own (the longest is shown).</p>`),
  });
}

/** The whole-run average's dashed line: black, thicker than the series, so that it stands out. */
const AVERAGE_COLOR = '#000000';

/** A placeholder the summary script fills with the figure it names. */
const slot = (name: string, className?: string): string =>
  `<span${className ? ` class="${className}"` : ''} data-value="${name}"></span>`;

function summary(report: PipelineReport): string {
  const figures = figureList([
    ['rows', `${slot('rows')} ${slot('skipped-note', 'note')}`],
    ['accuracy', `<strong>${slot('accuracy')}</strong> ${slot('correct-of-labeled', 'note')}`],
    ['images/s', `${slot('images-per-second')} ${slot('steady-rate', 'note')}`],
    ['batch latency p50 / p99', slot('latency-p50-p99')],
    ['batches', slot('batches')],
    ['duration', slot('duration')],
    ['peak RSS', slot('peak-rss')],
    // toISOString is fixed-width, and so is this: "2026-01-02 03:04:05 UTC".
    ['date', escapeHtml(report.startedAt.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC'))],
  ]);
  const { model, input } = report;
  const details = figureList([
    ['model', `<span class="mono">${escapeHtml(model.path)}</span>`],
    ['model sha256', `<span class="mono">${escapeHtml(model.sha256)}</span>`],
    [
      'layers',
      `${escapeHtml(model.layerSizes.join(' \u2192 '))} <span class="note">(${escapeHtml(model.format)})</span>`,
    ],
    ['activations', `${escapeHtml(model.activation)} (hidden), ${escapeHtml(model.output)} (output)`],
    ['input', `<span class="mono">${escapeHtml(input.path)}</span> ${slot('input-size', 'note')}`],
    ['configuration', escapeHtml(configText(report.config))],
    [
      'machine',
      escapeHtml(
        `${report.environment.cpuModel}, ${report.environment.cpus} CPUs, Node ${report.environment.node}, ` +
          `${report.environment.platform}`,
      ),
    ],
  ]);
  return (
    `<noscript><p class="error">This report draws its figures, charts and images with JavaScript; please enable ` +
    `it.</p></noscript>${statusBlock(report)}` +
    `${figures}` +
    `<hr>${details}`
  );
}

function statusBlock(report: PipelineReport): string {
  const parts = [`<p class="status ${report.status}">Run <strong>${report.status}</strong>${statusNote(report)}</p>`];
  if (report.error)
    parts.push(
      `<p class="error"><span class="mono">${escapeHtml(report.error.code)}</span> ` +
        `${escapeHtml(report.error.message)}</p>`,
    );
  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, SHOWN_ROW_ERRORS);
    parts.push(
      `<p class="note">Rows with errors (first ${slot('errors-shown')} of ${slot('skipped')}):</p><ul ` +
        `class="row-errors">` +
        shown
          .map(
            (e, i) =>
              `<li><span class="mono">${errorFile(report, e.file)}<span data-error-line="${i}"></span></span> ` +
              `${escapeHtml(e.message)}</li>`,
          )
          .join('') +
        `</ul><p class="note" data-value="errors-more" hidden></p>`,
    );
  }
  return parts.join('');
}

/** "b.csv:" before a row error's line when the run read several files, else "line ". */
function errorFile(report: PipelineReport, file: string | undefined): string {
  const files = report.input.files;
  if (file === undefined || files === undefined) return 'line ';
  const labels = fileLabels(files.map((f) => f.path));
  return `${escapeHtml(labels[files.findIndex((f) => f.path === file)] ?? file)}:`;
}

function statusNote(report: PipelineReport): string {
  switch (report.status) {
    case 'complete':
      return '';
    case 'interrupted':
      return `: stopped early; the figures cover the ${slot('rows')} rows scored before the stop.`;
    case 'failed':
      return `: the figures cover the ${slot('rows')} rows scored before the failure.`;
  }
}

function configText(config: Record<string, unknown>): string {
  return Object.entries(config)
    .filter(
      ([key, value]) =>
        value !== null && value !== undefined && typeof value !== 'object' && key !== 'input' && key !== 'model',
    )
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');
}

/** Fills the charts' data, labels and titles from the decoded figures (a prepare script: before drawing). */
const RUN_CHARTS_SCRIPT =
  `
var run = page.run;
if (!run) return;
var f = run.format, charts = page.charts;
var percent = function (ratio) { return isNaN(ratio) ? null : Math.round(ratio * 1e4) / 100; };
if (charts.perClass) {
  var precision = run.values('precision').map(percent), recall = run.values('recall').map(percent);
  charts.perClass.data.datasets[0].data = precision;
  charts.perClass.data.datasets[1].data = recall;
  var shown = precision.concat(recall).filter(function (v) { return v !== null; });
  if (shown.length > 0) {
    var range = zoomedRange(Math.min.apply(null, shown), Math.max.apply(null, shown));
    var y = charts.perClass.options.scales.y;
    y.min = range[0];
    y.max = range[1];
    charts.perClass.options.plugins.title.text += ' (axis ' + range[0] + '\u2013' + range[1] + '%)';
  }
}
// An axis range for percentages in [lo, hi]: whole steps (0.5, 1, 2, 5, ... chosen for about 4-8 grid
// lines), a step of room under the lowest bar so that it shows, within 0-100.
function zoomedRange(lo, hi) {
  var steps = [0.5, 1, 2, 5, 10, 20, 25, 50];
  var span = Math.max(hi - lo, 1);
  var step = steps.filter(function (s) { return s >= span / 5; })[0] || 50;
  var round = function (x) { return Math.round(x * 100) / 100; };
  return [round(Math.max(0, Math.floor(lo / step) * step - step)), round(Math.min(100, Math.ceil(hi / step) * step))];
}
if (charts.latency) {
  var batch = run.values('batchLatencyBuckets'), compute = run.values('computeLatencyBuckets');
  // One range for both latencies (the non-empty buckets of either, the empty ones between included).
  var first = -1, last = -1;
  for (var i = 0; i < batch.length; i++) {
    if (batch[i] > 0 || compute[i] > 0) { if (first < 0) first = i; last = i; }
  }
  var edge = function (i) { return run.latencyScale.minMs * Math.pow(10, i / run.latencyScale.perDecade); };
  var labels = [];
  for (var j = first; first >= 0 && j <= last; j++) labels.push(f.sig3(edge(j)) + '\\u2013' + f.sig3(edge(j + 1)));
  charts.latency.data.labels = labels;
  charts.latency.data.datasets[0].data = first < 0 ? [] : batch.slice(first, last + 1);
  charts.latency.data.datasets[1].data = first < 0 ? [] : compute.slice(first, last + 1);
  var batches = run.values('batchLatencyMs')[0];
  charts.latency.options.plugins.title.text = 'Batch latency (' + f.int(batches) + (batches === 1 ? ' batch)' : ' ` +
  `batches)');
}
if (charts.throughput) {
  var seconds = run.values('throughputSeconds'), rate = run.values('throughputRate');
  var points = [{ x: 0, y: 0 }];
  for (var k = 0; k < seconds.length; k++) if (!isNaN(seconds[k])) points.push({ x: seconds[k], y: ` +
  `Math.round(rate[k]) });
  var average = run.value('imagesPerSecond');
  var end = points[points.length - 1].x;
  var windowMs = run.value('throughputWindowMs');
  var windowText = windowMs >= 1000 ? f.sig3(windowMs / 1000) + ' s' : f.sig3(windowMs) + ' ms';
  var line = charts.throughput.data.datasets[0], mean = charts.throughput.data.datasets[1];
  line.data = points;
  line.pointRadius = points.length <= 30 ? 3 : 0;
  line.label = 'images/s, rows finished in the last ' + windowText;
  mean.data = [{ x: 0, y: Math.round(average) }, { x: end, y: Math.round(average) }];
  mean.label = 'whole-run average (' + f.int(average) + ' images/s)';
  document.querySelectorAll('[data-value="throughput-window"]').forEach(function (element) { element.textContent = ` +
  `windowText; });
}
`;

/** Fills the summary's placeholders, and adds the accuracy to the title. */
const SUMMARY_SCRIPT =
  `
var run = page.run;
if (!run) return;
var f = run.format, value = run.value;
function set(name, text) {
  document.querySelectorAll('[data-value="' + name + '"]').forEach(function (element) { element.textContent = text; });
}
var rows = value('rows'), labeled = value('labeled'), correct = value('correct'), skipped = value('skipped');
set('rows', f.int(rows));
set('skipped', f.int(skipped));
set('skipped-note', skipped > 0 ? '(' + f.int(skipped) + ' skipped)' : '');
set('accuracy', labeled > 0 ? f.pct(correct / labeled) : 'n/a (no labels)');
set('correct-of-labeled', labeled > 0 ? f.int(correct) + ' / ' + f.int(labeled) : '');
set('images-per-second', f.int(value('imagesPerSecond')));
var steady = value('imagesPerSecondAfterFirstResult');
set('steady-rate', isNaN(steady) ? '' : '(' + f.int(steady) + ' after the first result)');
var latency = run.values('batchLatencyMs'); // count, min, mean, p50, p90, p99, max
set('latency-p50-p99', latency[0] > 0 ? f.sig3(latency[3]) + ' / ' + f.sig3(latency[5]) + ' ms' : 'n/a');
set('batches', f.int(value('batches')));
set('duration', f.sig3(value('durationMs') / 1000) + ' s');
set('peak-rss', (value('peakRssBytes') / 1048576).toFixed(1) + ' MiB');
var inputBytes = value('inputBytes');
set('input-size', isNaN(inputBytes) ? '' : (inputBytes / 1048576).toFixed(1) + ' MiB');
var errorLines = run.values('errorLines');
document.querySelectorAll('[data-error-line]').forEach(function (element) {
  element.textContent = String(errorLines[Number(element.getAttribute('data-error-line'))]);
});
var shown = document.querySelectorAll('[data-error-line]').length;
set('errors-shown', f.int(shown));
var more = skipped - shown;
document.querySelectorAll('[data-value="errors-more"]').forEach(function (element) {
  element.textContent = 'and ' + f.int(more) + ' more' + (value('errorsTruncated') === 1 ? ' (the JSON report lists ` +
  `the first ' + f.int(value('errorsListed')) + ')' : '') + '.';
  element.hidden = !(more > 0);
});
if (labeled > 0) {
  var title = document.title + ', accuracy ' + f.pct(correct / labeled);
  document.title = title;
  document.querySelector('header h1').textContent = title;
}
`;

const RUN_CSS = `
.status { font-size: 15px; margin: 0 0 10px; padding: 6px 10px; border-radius: 6px; }
.status.complete { background: #e6f4ea; }
.status.interrupted { background: #fff4ce; }
.status.failed { background: #fde7e9; }
.error { color: #B00020; margin: 0 0 8px; overflow-wrap: anywhere; }
ul.row-errors { margin: 0 0 8px; padding-left: 18px; overflow-wrap: anywhere; }
hr { border: 0; border-top: 1px solid var(--line); margin: 12px 0; }
`;

/** The input as the page's subtitle names it: its path, or several files' paths in order. */
function inputNames(report: PipelineReport): string {
  const files = report.input.files;
  if (files === undefined) return report.input.path;
  // Paths only: a row count here would make the page's length depend on it.
  return `${files.length} files (${files.map((file) => file.path).join(', ')})`;
}
