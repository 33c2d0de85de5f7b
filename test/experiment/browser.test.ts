// The experiment page in a real browser: Debian's headless Chromium through playwright-core (no downloaded
// browser). A real small experiment run through the CLI writes experiment.html; opened from file:// offline,
// both charts (throughput and latency against batch size) must be Chart.js charts with painted pixels, the
// batch-size axis must be logarithmic with the measured batch sizes as ticks, the throughput points must
// carry error bars of ± the margin of error from experiment.json (drawn by the inlined
// chartjs-chart-error-bars), legend swatches must be lines (p99 dashed), and the page must log no error and
// make no network request.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { ExperimentDocument } from '../../src/experiment/document.js';
import { cliEntry, runNode } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';
import { hasChromium, launchChromium } from '../helpers/chromium.js';

const browserTest = hasChromium ? test.serial : test.serial.skip;
const needs = hasChromium ? '' : ' (SKIPPED: /usr/bin/chromium is missing; install Debian chromium)';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-experiment-browser-'));
let browser: Browser | null = null;

test.before(async () => {
  if (hasChromium) browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
});

// The project compiles without the DOM library, so the little that runs in the page is typed loosely here.
interface CanvasInPage {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface ChartInPage {
  config: { type: string };
  data: { datasets: { label: string; data: { x: number; y: number; yMin?: number; yMax?: number }[] }[] };
  scales: Record<string, { type: string; ticks: { value: number; label: string }[] }>;
  legend: { legendItems: { text: string; pointStyle: string; lineDash: number[] }[] };
  getDatasetMeta(index: number): {
    data: { x: number; y: number; yMin?: number | number[]; yMax?: number | number[] }[];
  };
}
interface PageGlobals {
  Chart: { getChart(canvas: CanvasInPage): ChartInPage | undefined };
}

browserTest(`headless Chromium: the experiment page of a real run draws both charts offline${needs}`, async (t) => {
  const out = join(dir, 'run');
  const model = await writeRandomModel(join(dir, 'tiny.safetensors'));
  const run = await runNode(cliEntry('experiment'), [
    '--input',
    fixture('mnist-test-100.csv'),
    '--model',
    model,
    '--batch-sizes',
    '1,10,32',
    '--threads',
    '1,2',
    '--min-samples',
    '2',
    '--max-time',
    '0.05',
    '--out',
    out,
    '--quiet',
  ]);
  t.is(run.code, 0, run.stderr);

  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  const page = await context.newPage();
  const url = pathToFileURL(join(out, 'experiment.html')).href;
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(url);
  await page.waitForSelector('html[data-rendered="true"]', { timeout: 30_000 });

  const charts = await page.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((canvas) => {
      const c = canvas as unknown as CanvasInPage;
      const chart = (globalThis as unknown as PageGlobals).Chart.getChart(c);
      const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
      return {
        key: c.dataset.chart,
        chart: Boolean(chart),
        labels: chart ? chart.data.datasets.map((d) => d.label) : [],
        xType: chart?.scales.x.type,
        yType: chart?.scales.y.type,
        xTicks: chart ? chart.scales.x.ticks.map((tick) => tick.label) : [],
        width: c.width,
        height: c.height,
        painted,
      };
    }),
  );
  t.deepEqual(
    charts.map((c) => c.key),
    ['throughput', 'latency'],
  );
  for (const c of charts) {
    t.true(c.chart, `${c.key}: a Chart.js instance`);
    t.true(c.width > 200 && c.height > 200, `${c.key}: sized`);
    t.true(c.painted > 1000, `${c.key}: drawn (${c.painted} painted pixels)`);
    t.is(c.xType, 'logarithmic', `${c.key}: log batch-size axis`);
    t.deepEqual(c.xTicks, ['1', '10', '32'], `${c.key}: the measured batch sizes as ticks`);
  }
  const [throughput, latency] = charts;
  t.deepEqual(throughput.labels, [
    'warm, 1 thread, 2 in flight',
    'warm, 2 threads, 4 in flight',
    'fresh probe, 1 thread, 2 in flight',
    'fresh probe, 2 threads, 4 in flight',
  ]);
  t.is(latency.yType, 'logarithmic');
  t.is(latency.labels.length, 8);

  // Error bars: ± the margin of error of experiment.json on every throughput point (none for one sample),
  // laid out by the plugin as pixel positions around the point.
  const doc = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as ExperimentDocument;
  const bars = await page.$eval('canvas[data-chart="throughput"]', (canvas) => {
    const chart = (globalThis as unknown as PageGlobals).Chart.getChart(canvas as unknown as CanvasInPage)!;
    return {
      type: chart.config.type,
      points: chart.data.datasets.map((d) => d.data),
      pixels: chart.data.datasets.map((_, i) =>
        chart.getDatasetMeta(i).data.map((e) => ({ y: e.y, yMin: e.yMin, yMax: e.yMax })),
      ),
    };
  });
  t.is(bars.type, 'lineWithErrorBars');
  t.true(((await page.getAttribute('meta[name="generator"]', 'content')) ?? '').includes('chartjs-chart-error-bars'));
  const points = bars.points.flat();
  t.is(points.length, doc.results.length);
  for (const r of doc.results) {
    const point = points.find((p) => p.x === r.config.batchSize && p.y === Math.round(r.imagesPerSecond.mean))!;
    t.truthy(point, `#${r.config.id}`);
    if (r.imagesPerSecond.moe === null) continue;
    t.is(point.yMin, Math.round(r.imagesPerSecond.mean - r.imagesPerSecond.moe));
    t.is(point.yMax, Math.round(r.imagesPerSecond.mean + r.imagesPerSecond.moe));
  }
  const withBars = bars.pixels.flat().filter((e) => typeof e.yMin === 'number');
  t.true(
    withBars.length >= doc.results.filter((r) => r.imagesPerSecond.moe !== null && r.imagesPerSecond.moe > 0).length,
    'every bar laid out',
  );
  for (const e of withBars)
    t.true(
      (e.yMax as number) <= e.y && e.y <= (e.yMin as number),
      `bar around its point: ${e.yMax} <= ${e.y} <= ${e.yMin} (pixels grow down)`,
    );
  const legends = await page.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((canvas) =>
      (globalThis as unknown as PageGlobals).Chart.getChart(canvas as unknown as CanvasInPage)!.legend.legendItems.map(
        (i) => [i.text, i.pointStyle, i.lineDash.join(',')],
      ),
    ),
  );
  for (const items of legends)
    for (const [text, style, dash] of items) {
      t.is(style, 'line', text);
      t.is(dash, text.startsWith('p99') ? '6,4' : '', text);
    }

  t.is(await page.locator('#results table.data tbody tr').count(), 8);
  t.is(await page.locator('#results td', { hasText: 'best images/s' }).count(), 1);
  t.regex((await page.textContent('#summary .status')) ?? '', /Experiment complete/);
  const screenshot = await page.screenshot({ fullPage: true });
  t.true(screenshot.length > 50_000, 'a full-page screenshot with content');
  t.deepEqual(problems, [], 'no console errors or warnings');
  t.deepEqual(requests, [], 'no network requests');
  await context.close();
});
