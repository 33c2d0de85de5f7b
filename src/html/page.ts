// Self-contained HTML pages with Chart.js charts: the one way pages are made in the project (the run report
// of `--html`, the batch-size experiment report). A page is one file: CSS, Chart.js (and
// chartjs-chart-error-bars when a chart has error bars), the data (one JSON block) and the page's own
// scripts are all inline, and a Content-Security-Policy forbids every network
// request, so the file works opened from file:// offline, and anything that tried to fetch would fail loudly.
//
// In the page: the data block is parsed into `page = { data, charts, chartInstances }` (also
// `window.nnpipePage`); `prepare` scripts run as `function (page) { ... }` (they may fill `page.charts`
// from data that is decoded in the page); then `<canvas data-chart="KEY">` elements are drawn from
// `charts[KEY]`; then the page scripts run, also as `function (page) { ... }`; finally
// <html data-rendered="true"> is set (screenshots and tests wait for it).
// Legends draw a line dataset's swatch as a short line in its own dash pattern and width (Chart.js's
// default, a filled box with a dashed border, is a blob), and a bar dataset's as a box.
import { chartJsLibrary, errorBarsLibrary, type InlineLibrary } from './chart-library.js';
import { ERROR_BAR_CHART, type ChartConfig } from './charts.js';
import { escapeHtml, jsonForScript } from './escape.js';

export interface PageSection {
  /** The element id (an anchor for the table of contents); letters, digits, '-' and '_'. */
  id: string;
  /** Plain text. */
  title: string;
  /** Trusted HTML (build it with escapeHtml for anything that came from input). */
  body: string;
  /** Full width instead of sharing a row with a neighbouring half-width section. Default true. */
  wide?: boolean;
}

export interface HtmlPageOptions {
  /** Plain text: the <title> and the heading. */
  title: string;
  /** Plain text under the heading. */
  subtitle?: string;
  sections: PageSection[];
  /** Chart configurations by key; a section shows one with chartCanvas(key). */
  charts?: Record<string, ChartConfig>;
  /** Any JSON-safe value for the page scripts (`page.data`). */
  data?: unknown;
  /** Trusted JavaScript bodies, each run as `function (page) { ... }` after the charts are drawn. */
  scripts?: string[];
  /**
   * Trusted JavaScript bodies, each run as `function (page) { ... }` before the charts are drawn: to fill
   * `page.charts[KEY]` (data, labels, titles) from data that the page decodes itself.
   */
  prepare?: string[];
  /** Extra CSS. */
  styles?: string;
}

/** A canvas the page runtime draws `charts[key]` on. */
export function chartCanvas(key: string, options: { label?: string; height?: number } = {}): string {
  checkId(key);
  const label = escapeHtml(options.label ?? key);
  return (
    `<div class="chart" style="height:${options.height ?? 300}px"><canvas data-chart="${key}` +
    `" role="img" aria-label="${label}"></canvas></div>`
  );
}

/** A small table of label/value pairs; values are trusted HTML, labels plain text. */
export function figureList(items: [label: string, valueHtml: string][]): string {
  return `<dl class="figures">${items.map(([label, value]) => `<div><dt>${escapeHtml(label)}</dt><dd>${value}</dd></div>`).join('')}</dl>`;
}

/** A plain table: every cell is text (escaped); numbers are right-aligned. */
export function dataTable(
  head: string[],
  rows: (string | number | null)[][],
  options: { caption?: string } = {},
): string {
  const cell = (value: string | number | null, tag: 'td' | 'th') =>
    `<${tag}${typeof value === 'number' ? ' class="num"' : ''}>${value === null ? '' : escapeHtml(String(value))}` +
    `</${tag}>`;
  return (
    `<table class="data">${options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : ''}` +
    `<thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead>` +
    `<tbody>${rows.map((row) => `<tr>${row.map((v) => cell(v, 'td')).join('')}</tr>`).join('')}</tbody></table>`
  );
}

/** Renders the whole page as one string (write it with writeFileAtomic). */
export function renderHtmlPage(options: HtmlPageOptions): string {
  const charts = options.charts ?? {};
  const libraries: InlineLibrary[] = [chartJsLibrary()];
  if (Object.values(charts).some((c) => (c.type as string) === ERROR_BAR_CHART)) libraries.push(errorBarsLibrary());
  const named = libraries.map((l) => `${escapeHtml(l.name)} ${escapeHtml(l.version)}`);
  for (const key of Object.keys(charts)) checkId(key);
  for (const section of options.sections) checkId(section.id);
  const scripts = options.scripts ?? [];
  const prepare = options.prepare ?? [];
  for (const script of [...prepare, ...scripts]) {
    if (/<\/script|<!--/i.test(script)) throw new Error('a page script must not contain </script or <!--');
  }

  const nav = options.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('');
  const sections = options.sections
    .map(
      (s) =>
        `<section id="${s.id}" ` +
        `class="${s.wide === false ? 'half' : 'wide'}"><h2>${escapeHtml(s.title)}</h2>${s.body}</section>`,
    )
    .join('\n');

  return (
    `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="nnpipe (${named.join(', ')} inlined)">
<link rel="icon" href="data:,">
<title>${escapeHtml(options.title)}</title>
<style>${BASE_CSS}${options.styles ?? ''}</style>
</head>
<body>
<header><h1>${escapeHtml(options.title)}</h1>${
      options.subtitle ? `<p class="subtitle">${escapeHtml(options.subtitle)}</p>` : ''
    }<nav>${nav}</nav></header>
<main>
${sections}
</main>
<footer>Self-contained page: ${libraries.map((l, i) => `${named[i]} (${escapeHtml(l.license)})`).join(', ')} and the ` +
    `data are inlined; it makes no network requests.</footer>
<script type="application/json" id="page-data">${jsonForScript({ charts, data: options.data ?? null })}</script>
${libraries.map((l, i) => `<script>/* ${named[i]} */\n${l.source}</script>`).join('\n')}
<script>${RUNTIME_DATA}</script>
${prepare.map(pageScript).join('\n')}
<script>${RUNTIME_CHARTS}</script>
${scripts.map(pageScript).join('\n')}
<script>document.documentElement.setAttribute('data-rendered', 'true');</script>
</body>
</html>
`
  );
}

const pageScript = (body: string): string =>
  `<script>(function (page) {\n'use strict';\n${body}\n})(window.nnpipePage);</script>`;

/** Ids and chart keys go into attributes and selectors unescaped, so keep them plain. */
function checkId(id: string): void {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`not a plain id: ${JSON.stringify(id)}`);
}

// No fetch, image, font, frame or connection can leave the page; inline scripts and styles only.
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " +
  "form-action 'none'";

// Parses the data block for the scripts.
const RUNTIME_DATA = `(function () {
  'use strict';
  var parsed = JSON.parse(document.getElementById('page-data').textContent);
  window.nnpipePage = { data: parsed.data, charts: parsed.charts, chartInstances: {} };
})();`;

// Draws every chart. Animation off: the page is complete as soon as it is rendered (screenshots, print).
// Legend swatches: a line for line datasets (dashed as the line is, as thick), a box for bars.
const RUNTIME_CHARTS = `(function () {
  'use strict';
  var page = window.nnpipePage;
  Chart.defaults.animation = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#333';
  var legend = Chart.defaults.plugins.legend.labels;
  var defaultLabels = legend.generateLabels;
  legend.usePointStyle = true;
  legend.pointStyleWidth = 32;
  legend.generateLabels = function (chart) {
    return defaultLabels(chart).map(function (item) {
      var dataset = chart.data.datasets[item.datasetIndex];
      var type = dataset.type || chart.config.type;
      if (type === 'line' || type === '${ERROR_BAR_CHART}') {
        item.pointStyle = 'line';
        item.lineDash = dataset.borderDash || [];
        item.lineWidth = dataset.borderWidth || 2;
        item.strokeStyle = dataset.borderColor;
      } else {
        item.pointStyle = 'rect';
      }
      return item;
    });
  };
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var key = canvas.getAttribute('data-chart');
    var config = page.charts[key];
    if (!config) throw new Error('no chart configuration for ' + key);
    page.chartInstances[key] = new Chart(canvas, config);
  });
})();`;

const BASE_CSS =
  `
:root { --fg: #1d1d1f; --muted: #666; --line: #ddd; --bg: #fff; --panel: #f7f7f8; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; ` +
  `color: var(--fg); background: var(--bg); }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 0 0 12px; font-size: 17px; }
.subtitle { margin: 0 0 8px; color: var(--muted); }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; font-size: 13px; }
main { display: flex; flex-wrap: wrap; gap: 18px; padding: 18px 28px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; ` +
  `min-width: 0; }
section.wide { flex: 1 1 100%; }
section.half { flex: 1 1 calc(50% - 9px); min-width: 420px; }
.chart { position: relative; width: 100%; }
.note { color: var(--muted); font-size: 13px; margin: 6px 0; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px 18px; margin: 0; }
dl.figures div { min-width: 0; }
dl.figures dt { color: var(--muted); font-size: 12px; }
dl.figures dd { margin: 0; font-size: 15px; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
table.data { font-size: 13px; font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
table.data th, table.data td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; }
table.data .num { text-align: right; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
footer { padding: 8px 28px 24px; color: var(--muted); font-size: 12px; }
`;
