// The page builder: one self-contained file (no network, Chart.js inlined once), data embedded safely,
// the run page's sections for labeled, unlabeled, failed and interrupted runs.
import test from 'ava';
import { chartJsLibrary } from '../../src/html/chart-library.js';
import { barChart, histogramChart, lineChart } from '../../src/html/charts.js';
import { escapeHtml, jsonForScript } from '../../src/html/escape.js';
import { chartCanvas, dataTable, renderHtmlPage } from '../../src/html/page.js';
import { buildRunPage } from '../../src/html/run-page.js';
import { simulateRun } from './synthetic.js';

const HOSTILE = '</script><script>alert(1)</script><!--<script>"\'&\u2028';

/** The parsed JSON block of a page (fails the test if it is not there exactly once). */
function dataBlock(html: string): { charts: Record<string, unknown>; data: unknown } {
  const open = '<script type="application/json" id="page-data">';
  const start = html.indexOf(open);
  if (start < 0 || html.indexOf(open, start + 1) >= 0) throw new Error('expected one data block');
  const from = start + open.length;
  return JSON.parse(html.slice(from, html.indexOf('</script', from)));
}

function assertSelfContained(t: import('ava').ExecutionContext, html: string): void {
  for (const pattern of [/src\s*=\s*["']?\s*(https?:)?\/\//i, /href\s*=\s*["']?\s*(https?:)?\/\//i, /url\(\s*["']?\s*(https?:)?\/\//i, /src="http/i, /href="http/i, /url\(http/i, /@import/i, /<link[^>]+stylesheet/i, /<iframe/i]) {
    t.notRegex(html, pattern);
  }
  // The only src/href attributes are in-page anchors and the empty data: favicon.
  for (const match of html.matchAll(/\s(src|href)\s*=\s*"([^"]*)"/gi)) t.true(match[2].startsWith('#') || match[2] === 'data:,', match[0]);
  t.regex(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'/);
  // Chart.js is inlined exactly once: a stretch from the middle of the library occurs once.
  const library = chartJsLibrary().source;
  const probe = library.slice(100_000, 100_200);
  t.is(html.split(probe).length - 1, 1, 'Chart.js inlined once');
}

test('Chart.js comes from the installed package (4.6.1 UMD build), safe to inline', (t) => {
  const library = chartJsLibrary();
  t.is(library.version, '4.6.1');
  t.regex(library.source, /^\/\*!\n \* Chart\.js v4\.6\.1/);
  t.true(library.source.length > 150_000);
  t.notRegex(library.source, /<\/script|<!--/i);
});

test('escaping: HTML text and the JSON block', (t) => {
  t.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const json = jsonForScript({ s: HOSTILE });
  t.notRegex(json, /[<>&\u2028]/);
  t.deepEqual(JSON.parse(json), { s: HOSTILE });
  t.throws(() => jsonForScript(undefined), { instanceOf: TypeError });
});

test('renderHtmlPage: sections, charts by key, data and scripts; self-contained; hostile data stays data', (t) => {
  const html = renderHtmlPage({
    title: `Experiment ${HOSTILE}`,
    subtitle: HOSTILE,
    sections: [
      { id: 'throughput', title: 'Throughput <b>', body: chartCanvas('byBatchSize', { label: 'throughput against batch size' }), wide: false },
      { id: 'latency', title: 'Latency', body: chartCanvas('latency') },
    ],
    charts: {
      byBatchSize: lineChart({ series: [{ label: '2 threads', points: [{ x: 1, y: 10 }, { x: 100, y: 1000 }] }], x: { title: 'batch size', scale: 'logarithmic' } }),
      latency: barChart({ labels: ['1', '10'], series: [{ label: 'p99', data: [1, null] }] }),
    },
    data: { note: HOSTILE, list: [1, 2, 3] },
    scripts: ['page.data.seen = true;'],
  });
  assertSelfContained(t, html);
  t.false(html.includes('<script>alert(1)'), 'the hostile string never appears as markup');
  t.true(html.includes(`<title>Experiment ${escapeHtml(HOSTILE)}</title>`));
  t.true(html.includes('<h2>Throughput &lt;b&gt;</h2>'));
  const block = dataBlock(html);
  t.deepEqual(block.data, { note: HOSTILE, list: [1, 2, 3] });
  t.deepEqual(Object.keys(block.charts), ['byBatchSize', 'latency']);
  t.is((block.charts.byBatchSize as { options: { scales: { x: { type: string } } } }).options.scales.x.type, 'logarithmic');
  t.regex(html, /<canvas data-chart="byBatchSize"/);
  t.regex(html, /<script>\(function \(page\) \{\n'use strict';\npage\.data\.seen = true;/);
  t.regex(html, /data-rendered/);
  // Every <script> opened is closed by its own </script>: the number of each is the same.
  t.is(html.split(/<script[\s>]/).length, html.split('</script>').length);
});

test('dataTable: escaped text cells, numbers right-aligned', (t) => {
  t.is(
    dataTable(['batch size', 'images/s'], [[HOSTILE.slice(0, 9), 1200.5], ['1', null]], { caption: 'a <b>' }),
    '<table class="data"><caption>a &lt;b&gt;</caption><thead><tr><th>batch size</th><th>images/s</th></tr></thead>' +
      '<tbody><tr><td>&lt;/script&gt;</td><td class="num">1200.5</td></tr><tr><td>1</td><td></td></tr></tbody></table>',
  );
});

test('renderHtmlPage refuses ids, keys and scripts that could break out', (t) => {
  t.throws(() => renderHtmlPage({ title: 'x', sections: [{ id: 'a"b', title: 'x', body: '' }] }));
  t.throws(() => chartCanvas('x" onload="alert(1)'));
  t.throws(() => renderHtmlPage({ title: 'x', sections: [], charts: { 'a b': barChart({ labels: [], series: [] }) } }));
  t.throws(() => renderHtmlPage({ title: 'x', sections: [], scripts: ['var s = "</script>";'] }));
});

test('chart helpers: JSON-only configurations with the shared look', (t) => {
  const hist = histogramChart({ labels: ['a', 'b'], series: [{ label: 'n', data: [1, 2] }], y: { title: 'batches' } });
  t.is(hist.type, 'bar');
  t.deepEqual(JSON.parse(JSON.stringify(hist)), hist, 'survives JSON');
  const line = lineChart({ series: [{ label: 'a', points: [{ x: 1, y: 2 }] }, { label: 'b', points: [{ x: 1, y: 3 }], dashed: true }], y: { scale: 'logarithmic' } });
  t.deepEqual(JSON.parse(JSON.stringify(line)), line);
  t.is((line.options as { scales: { y: { type: string } } }).scales.y.type, 'logarithmic');
});

test('the run page: summary, heat map, charts and gallery data for a labeled run', (t) => {
  const { report, collector } = simulateRun({ rows: 3000, batchSize: 100, errorRate: 0.2, inputPath: `/data/${HOSTILE}.csv` });
  const html = buildRunPage(collector.pageInput(report));
  assertSelfContained(t, html);
  t.false(html.includes('<script>alert(1)'));
  t.true(html.includes(escapeHtml(`/data/${HOSTILE}.csv`)));
  for (const text of ['Run <strong>complete</strong>', 'accuracy', 'images/s', 'batch latency p50 / p99', 'ab'.repeat(32), '784 → 16 → 10', 'sigmoid (hidden), softmax (output)', '2026-01-02 03:04:05 UTC']) {
    t.true(html.includes(text), text);
  }
  t.is(html.split('<button type="button" class="cell').length - 1, 100, 'a 10 x 10 heat map');
  const block = dataBlock(html) as { charts: Record<string, unknown>; data: { digits: { gallery: unknown[]; cells: Record<string, unknown[]>; images: string[] } } };
  t.deepEqual(Object.keys(block.charts).sort(), ['latency', 'perClass', 'throughput']);
  t.is(block.data.digits.gallery.length, 200);
  t.is(block.data.digits.images[0].length, Math.ceil(784 / 3) * 4, 'base64 of 784 bytes');
  t.is(Object.keys(block.data.digits.cells).length, 100);
});

test('unlabeled run: no heat map, no per-class chart, a gallery of the least confident predictions', (t) => {
  const { report, collector } = simulateRun({ rows: 500, batchSize: 50, labeled: false });
  const html = buildRunPage(collector.pageInput(report));
  const block = dataBlock(html) as { charts: Record<string, unknown>; data: { digits: { kind: string; gallery: { label: number }[]; cells: unknown } } };
  t.false(html.includes('class="heatmap"'));
  t.deepEqual(Object.keys(block.charts).sort(), ['latency', 'throughput']);
  t.is(block.data.digits.kind, 'uncertain');
  t.is(block.data.digits.cells, null);
  t.is(block.data.digits.gallery.length, 200);
  t.regex(html, /least confident predictions/);
});

test('failed and interrupted runs say so, with the error and the first row errors and their lines', (t) => {
  const rowErrors = Array.from({ length: 14 }, (_, i) => ({ line: 10 + i, message: `field 3 is '${HOSTILE}'` }));
  const failed = simulateRun({ rows: 200, batchSize: 50, status: 'failed', error: { code: 'PIPE_ERR_DATA', message: `/data/x.csv:7: bad ${HOSTILE}` }, rowErrors });
  const html = buildRunPage(failed.collector.pageInput(failed.report));
  t.regex(html, /Run <strong>failed<\/strong>: the figures cover the 200 rows scored before the failure/);
  t.true(html.includes(`PIPE_ERR_DATA</span> /data/x.csv:7: bad ${escapeHtml(HOSTILE)}`));
  t.regex(html, /Rows with errors \(first 10 of 14\)/);
  t.regex(html, /line 10<\/span>/);
  t.regex(html, /line 19<\/span>/);
  t.notRegex(html, /line 20<\/span>/);
  t.regex(html, /and 4 more/);
  t.false(html.includes('<script>alert(1)'));

  const stopped = simulateRun({ rows: 100, batchSize: 50, status: 'interrupted', error: { code: 'PIPE_ERR_INTERRUPTED', message: 'received SIGINT' } });
  t.regex(buildRunPage(stopped.collector.pageInput(stopped.report)), /Run <strong>interrupted<\/strong>: stopped early/);

  const nothing = simulateRun({ rows: 0, batchSize: 50, status: 'failed', error: { code: 'PIPE_ERR_WORKER', message: 'no worker' } });
  const empty = buildRunPage(nothing.collector.pageInput(nothing.report));
  t.deepEqual(Object.keys(dataBlock(empty).charts), [], 'no empty charts');
  assertSelfContained(t, empty);
});
