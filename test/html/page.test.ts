// The page builder: one self-contained file (no network, Chart.js inlined once), data embedded safely,
// the run page's sections for labeled, unlabeled, failed and interrupted runs, and its fixed-size binary data
// (figures as float64, images as records) read back exactly.
import test from 'ava';
import { chartJsLibrary } from '../../src/html/chart-library.js';
import { barChart, histogramChart, lineChart } from '../../src/html/charts.js';
import { escapeHtml, jsonForScript } from '../../src/html/escape.js';
import { chartCanvas, dataTable, renderHtmlPage } from '../../src/html/page.js';
import {
  decodeFigures,
  decodeImageRecords,
  encodeFigures,
  encodeImageRecords,
  figureLayout,
} from '../../src/html/run-data.js';
import { buildRunPage } from '../../src/html/run-page.js';
import { dataBlock, runPage } from './page-data.js';
import { random, simulateRun } from './synthetic.js';

const HOSTILE = '</script><script>alert(1)</script><!--<script>"\'&\u2028';

function assertSelfContained(t: import('ava').ExecutionContext, html: string): void {
  for (const pattern of [
    /src\s*=\s*["']?\s*(https?:)?\/\//i,
    /href\s*=\s*["']?\s*(https?:)?\/\//i,
    /url\(\s*["']?\s*(https?:)?\/\//i,
    /src="http/i,
    /href="http/i,
    /url\(http/i,
    /@import/i,
    /<link[^>]+stylesheet/i,
    /<iframe/i,
  ]) {
    t.notRegex(html, pattern);
  }
  // The only src/href attributes are in-page anchors and the empty data: favicon.
  for (const match of html.matchAll(/\s(src|href)\s*=\s*"([^"]*)"/gi))
    t.true(match[2].startsWith('#') || match[2] === 'data:,', match[0]);
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
      {
        id: 'throughput',
        title: 'Throughput <b>',
        body: chartCanvas('byBatchSize', { label: 'throughput against batch size' }),
        wide: false,
      },
      { id: 'latency', title: 'Latency', body: chartCanvas('latency') },
    ],
    charts: {
      byBatchSize: lineChart({
        series: [
          {
            label: '2 threads',
            points: [
              { x: 1, y: 10 },
              { x: 100, y: 1000 },
            ],
          },
        ],
        x: { title: 'batch size', scale: 'logarithmic' },
      }),
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
  t.is(
    (block.charts.byBatchSize as { options: { scales: { x: { type: string } } } }).options.scales.x.type,
    'logarithmic',
  );
  t.regex(html, /<canvas data-chart="byBatchSize"/);
  t.regex(html, /<script>\(function \(page\) \{\n'use strict';\npage\.data\.seen = true;/);
  t.regex(html, /data-rendered/);
  // Every <script> opened is closed by its own </script>: the number of each is the same.
  t.is(html.split(/<script[\s>]/).length, html.split('</script>').length);
});

test('dataTable: escaped text cells, numbers right-aligned', (t) => {
  t.is(
    dataTable(
      ['batch size', 'images/s'],
      [
        [HOSTILE.slice(0, 9), 1200.5],
        ['1', null],
      ],
      { caption: 'a <b>' },
    ),
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
  const line = lineChart({
    series: [
      { label: 'a', points: [{ x: 1, y: 2 }] },
      { label: 'b', points: [{ x: 1, y: 3 }], dashed: true },
    ],
    y: { scale: 'logarithmic' },
  });
  t.deepEqual(JSON.parse(JSON.stringify(line)), line);
  t.is((line.options as { scales: { y: { type: string } } }).scales.y.type, 'logarithmic');
});

test('renderHtmlPage: prepare scripts run before the charts are drawn, page scripts after', (t) => {
  const html = renderHtmlPage({
    title: 'x',
    sections: [{ id: 'a', title: 'A', body: chartCanvas('c') }],
    charts: { c: barChart({ labels: [], series: [{ label: 'n', data: [] }] }) },
    prepare: ['page.charts.c.data.labels = ["filled"];'],
    scripts: ['page.after = true;'],
  });
  const order = ['page.charts.c.data.labels', 'new Chart(canvas, config)', 'page.after = true'].map((needle) =>
    html.indexOf(needle),
  );
  t.true(order.every((at) => at > 0));
  t.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
  );
  t.throws(() => renderHtmlPage({ title: 'x', sections: [], prepare: ['"</script>"'] }));
});

test('figures: a fixed-length float64 block, read back exactly; NaN for null and for padding', (t) => {
  const layout = figureLayout({ classes: 3, buckets: 4, timelinePoints: 5, errorLines: 2 });
  const next = random(1);
  const values: Record<string, number | null | number[]> = {};
  for (const [name, [, length]] of Object.entries(layout))
    values[name] = length === 1 ? next() * 1e12 : Array.from({ length: Math.max(0, length - 1) }, () => next() * 1e6);
  values.rows = 2 ** 53 - 1;
  values.imagesPerSecondAfterFirstResult = null;
  const decoded = decodeFigures(layout, encodeFigures(layout, values));
  for (const [name, [, length]] of Object.entries(layout)) {
    const given = values[name];
    const expected =
      given === null
        ? [Number.NaN]
        : typeof given === 'number'
          ? [given]
          : [...given, ...new Array(length - given.length).fill(Number.NaN)];
    t.deepEqual(decoded[name], expected, name);
  }
  t.throws(
    () => encodeFigures(layout, { ...values, confusion: new Array(10).fill(1) }),
    { instanceOf: RangeError },
    'too long for its slot',
  );
  t.throws(() => encodeFigures(layout, { ...values, rows: undefined as never }), undefined, 'every slot given');
  t.throws(() => encodeFigures(layout, { ...values, extra: 1 }), undefined, 'no unknown names');
});

test('image records: pixels, line, label, prediction and float32 confidence read back exactly', (t) => {
  const next = random(8);
  const images = Array.from({ length: 50 }, (_, i) => ({
    line: i === 0 ? 2 ** 32 - 1 : 1 + Math.floor(next() * 1e9),
    label: i % 5 === 0 ? -1 : i % 10,
    predicted: (i * 7) % 10,
    confidence: Math.fround(next()),
    pixels: Uint8Array.from({ length: 784 }, () => Math.floor(next() * 256)),
  }));
  images[1].confidence = Number.NaN;
  const base64 = encodeImageRecords(images, 784);
  t.is(base64.length, Math.ceil((50 * 800) / 3) * 4, '800-byte records');
  t.deepEqual(decodeImageRecords(base64, 784), images);
  t.throws(() => encodeImageRecords([{ ...images[0], pixels: new Uint8Array(3) }], 784), { instanceOf: RangeError });
});

test('the run page: summary, heat map, charts and gallery data for a labeled run', (t) => {
  const { report, collector } = simulateRun({
    rows: 3000,
    batchSize: 100,
    errorRate: 0.2,
    inputPath: `/data/${HOSTILE}.csv`,
  });
  const html = buildRunPage(collector.pageInput(report));
  assertSelfContained(t, html);
  t.false(html.includes('<script>alert(1)'));
  t.true(html.includes(escapeHtml(`/data/${HOSTILE}.csv`)));
  for (const text of [
    'Run <strong>complete</strong>',
    'accuracy',
    'images/s',
    'batch latency p50 / p99',
    'ab'.repeat(32),
    '784 → 16 → 10',
    'sigmoid (hidden), softmax (output)',
    '2026-01-02 03:04:05 UTC',
  ]) {
    t.true(html.includes(text), text);
  }
  t.is(html.split('<button type="button" class="cell').length - 1, 100, 'a 10 x 10 heat map');
  t.deepEqual(Object.keys(dataBlock(html).charts).sort(), ['latency', 'perClass', 'throughput']);
  const { run, figures, images } = runPage(html);
  t.is(run.kind, 'mistakes');
  t.is(run.budget, 240);
  t.deepEqual(run.shape, [28, 28]);
  t.is(images.length, 240, 'the budget: 600 mistakes, 240 shown');
  t.true(images.every((i) => i.label !== i.predicted));
  t.is(run.images.length, (240 * 800 * 4) / 3, 'base64 of 240 records of 800 bytes');
  // Every figure the page renders is the report's.
  for (const name of [
    'rows',
    'labeled',
    'correct',
    'skipped',
    'batches',
    'imagesPerSecond',
    'durationMs',
    'peakRssBytes',
    'perImageLatencyMs',
  ] as const) {
    t.deepEqual(figures[name], [report[name]], name);
  }
  t.deepEqual(figures.imagesPerSecondAfterFirstResult, [report.imagesPerSecondAfterFirstResult]);
  t.deepEqual(figures.inputBytes, [report.input.bytes]);
  t.deepEqual(figures.confusion, report.confusionMatrix!.flat());
  t.deepEqual(
    figures.precision,
    report.perClass!.map((c) => c.precision),
  );
  t.deepEqual(
    figures.recall,
    report.perClass!.map((c) => c.recall),
  );
  t.deepEqual(figures.batchLatencyMs, [
    report.batchLatencyMs.count,
    report.batchLatencyMs.min,
    report.batchLatencyMs.mean,
    report.batchLatencyMs.p50,
    report.batchLatencyMs.p90,
    report.batchLatencyMs.p99,
    report.batchLatencyMs.max,
  ]);
  t.is(
    figures.batchLatencyBuckets.reduce((a, b) => a + b, 0),
    30,
    'every batch in the histogram',
  );
  t.is(figures.throughputRows.filter((n) => !Number.isNaN(n)).at(-1), 3000, 'every row finished by the last point');
  t.true(figures.throughputWindowMs[0] >= 50, 'the window is in the figures');
  t.is(figures.throughputSeconds.length, 60, 'padded to the fixed number of points');
});

test('unlabeled run: no heat map, no per-class chart, a gallery of the least confident predictions', (t) => {
  const { report, collector } = simulateRun({ rows: 500, batchSize: 50, labeled: false });
  const html = buildRunPage(collector.pageInput(report));
  t.false(html.includes('class="heatmap"'));
  t.deepEqual(Object.keys(dataBlock(html).charts).sort(), ['latency', 'throughput']);
  const { run, images } = runPage(html);
  t.is(run.kind, 'uncertain');
  t.is(images.length, 240);
  t.true(images.every((i) => i.label === -1));
  for (let i = 1; i < images.length; i++)
    t.true(images[i].confidence >= images[i - 1].confidence, 'least confident first');
  t.regex(html, /Least confident predictions/);
});

test('failed and interrupted runs say so, with the error and the first row errors and their lines', (t) => {
  const rowErrors = Array.from({ length: 14 }, (_, i) => ({ line: 10 + i, message: `field 3 is '${HOSTILE}' (${i})` }));
  const failed = simulateRun({
    rows: 200,
    batchSize: 50,
    status: 'failed',
    error: { code: 'PIPE_ERR_DATA', message: `/data/x.csv:7: bad ${HOSTILE}` },
    rowErrors,
  });
  const html = buildRunPage(failed.collector.pageInput(failed.report));
  t.regex(
    html,
    /Run <strong>failed<\/strong>: the figures cover the <span data-value="rows"><\/span> rows scored before the failure/,
  );
  t.true(html.includes(`PIPE_ERR_DATA</span> /data/x.csv:7: bad ${escapeHtml(HOSTILE)}`));
  t.is(html.split('data-error-line=').length - 1, 10, 'the first 10 row errors');
  t.true(html.includes(`${escapeHtml(`field 3 is '${HOSTILE}' (9)`)}</li>`));
  t.false(html.includes('(10)</li>'));
  const { figures } = runPage(html);
  t.deepEqual(figures.errorLines, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  t.deepEqual(figures.skipped, [14]);
  t.deepEqual(figures.rows, [200]);
  t.false(html.includes('<script>alert(1)'));

  const stopped = simulateRun({
    rows: 100,
    batchSize: 50,
    status: 'interrupted',
    error: { code: 'PIPE_ERR_INTERRUPTED', message: 'received SIGINT' },
  });
  t.regex(
    buildRunPage(stopped.collector.pageInput(stopped.report)),
    /Run <strong>interrupted<\/strong>: stopped early/,
  );

  const nothing = simulateRun({
    rows: 0,
    batchSize: 50,
    status: 'failed',
    error: { code: 'PIPE_ERR_WORKER', message: 'no worker' },
  });
  const empty = buildRunPage(nothing.collector.pageInput(nothing.report));
  t.deepEqual(Object.keys(dataBlock(empty).charts), [], 'no empty charts');
  t.is(runPage(empty).images.length, 0);
  assertSelfContained(t, empty);
});
