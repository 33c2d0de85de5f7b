// The run page in a real browser: Debian's headless Chromium through playwright-core (no downloaded
// browser; .ci/run installs the `chromium` package when /usr/bin/chromium is missing). Opens the page of a
// real small run from file:// and checks that every chart drew, the gallery holds the expected images (drawn
// from the input's own pixels), clicking a heat-map cell shows that pair's images, and that the page logged
// no errors and made no network requests.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildRunPage } from '../../src/html/run-page.js';
import { writeFileAtomic } from '../../src/stats/atomic-write.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';
import { simulateRun } from './synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const browserTest = hasChromium ? test.serial : test.serial.skip;
const needs = hasChromium ? '' : ' (SKIPPED: /usr/bin/chromium is missing; .ci/run installs Debian chromium)';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-html-browser-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');
/** Line L of the fixture: label then 784 pixels. */
const csvRows = readFileSync(input, 'utf8').split('\n').filter(Boolean).map((l) => l.split(',').map(Number));

let browser: Browser | null = null;

test.before(async () => {
  if (!hasChromium) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

test.after.always(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  /** Requests other than the page's own file. */
  requests: string[];
  problems: string[];
  dialogs: string[];
}

async function open(path: string): Promise<Opened> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  const page = await context.newPage();
  const url = pathToFileURL(path).href;
  const opened: Opened = { page, requests: [], problems: [], dialogs: [] };
  page.on('request', (request) => {
    if (request.url() !== url) opened.requests.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') opened.problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => opened.problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url);
  await page.waitForSelector('html[data-rendered="true"]', { timeout: 30_000 });
  return opened;
}

/** For every chart canvas: whether Chart.js made a chart on it and whether it has any painted pixel. */
async function chartStates(page: Page) {
  return page.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((canvas) => {
      const c = canvas as unknown as CanvasInPage;
      const chart = (globalThis as unknown as PageGlobals).Chart.getChart(c);
      const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
      return { key: c.dataset.chart, chart: Boolean(chart), datasets: chart ? chart.data.datasets.length : 0, width: c.width, height: c.height, painted };
    }),
  );
}

/** The grey levels a digit canvas shows, and the row it says it is. */
async function digitsIn(page: Page, selector: string) {
  return page.$$eval(selector, (canvases) =>
    canvases.map((canvas) => {
      const c = canvas as unknown as CanvasInPage;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const grey: number[] = [];
      for (let i = 0; i < data.length; i += 4) grey.push(data[i]);
      return { label: c.getAttribute('aria-label') ?? '', width: c.width, height: c.height, cssWidth: c.getBoundingClientRect().width, rendering: (globalThis as unknown as PageGlobals).getComputedStyle(c).imageRendering, grey };
    }),
  );
}

// The project compiles without the DOM library (Node code only), so the little that runs in the page is
// typed here, loosely, instead of adding `dom` to every file's globals.
interface CanvasInPage {
  width: number;
  height: number;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { width: number };
}
interface PageGlobals {
  Chart: { getChart(canvas: CanvasInPage): { data: { datasets: unknown[] } } | undefined };
  nnpipePage: { data: { status: string } };
  getComputedStyle(element: CanvasInPage): { imageRendering: string };
}

const lineOf = (ariaLabel: string): number => Number(/^line (\d+):/.exec(ariaLabel)?.[1]);

browserTest(`headless Chromium: a labeled run's page draws its charts, gallery and heat-map cells offline${needs}`, async (t) => {
  const html = join(dir, 'labeled', 'run.html');
  const reportPath = join(dir, 'labeled', 'report.json');
  const run = await runPipeline(['--input', input, '--model', await modelReady, '--batch-size', '10', '--threads', '2', '--html', html, '--report', reportPath, '--quiet']);
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const { page, requests, problems } = await open(html);

  const charts = await chartStates(page);
  t.deepEqual(charts.map((c) => c.key).sort(), ['latency', 'perClass', 'throughput']);
  for (const c of charts) {
    t.true(c.chart, `${c.key}: a Chart.js instance`);
    t.true(c.datasets >= 2, `${c.key}: datasets`);
    t.true(c.width > 100 && c.height > 100, `${c.key}: sized`);
    t.true(c.painted > 1000, `${c.key}: drawn (${c.painted} painted pixels)`);
  }

  // The gallery: every mistake (fewer than the 200 the page keeps), most confident first, drawn from the row's pixels.
  const mistakes = report.labeled - report.correct;
  t.true(mistakes > 0);
  const gallery = await digitsIn(page, '#gallery canvas.digit-image');
  t.is(gallery.length, Math.min(200, mistakes));
  t.is(await page.locator('#gallery figure.digit').count(), gallery.length);
  const confidences = await page.$$eval('#gallery .confidence', (spans) => spans.map((s) => parseFloat(s.textContent ?? '')));
  for (let i = 1; i < confidences.length; i++) t.true(confidences[i] <= confidences[i - 1], 'most confident first');
  for (const digit of gallery) {
    t.is(digit.width, 28);
    t.is(digit.height, 28);
    t.is(digit.cssWidth, 56, 'scaled 2x');
    t.is(digit.rendering, 'pixelated');
    const row = csvRows[lineOf(digit.label) - 1];
    t.regex(digit.label, new RegExp(`^line \\d+: true ${row[0]}, predicted \\d`));
    t.deepEqual(digit.grey, row.slice(1).map((v) => 255 - v), `line ${lineOf(digit.label)}: the row's own pixels`);
  }

  // Click the biggest confusion, then a diagonal cell: the panel shows that pair's images (at most 12).
  t.true(await page.locator('#cell-examples').isHidden());
  const matrix: number[][] = report.confusionMatrix;
  const cells = matrix.flatMap((row, tr) => row.map((count, p) => ({ tr, p, count })));
  const worst = cells.filter((c) => c.tr !== c.p).sort((a, b) => b.count - a.count)[0];
  const diagonal = cells.filter((c) => c.tr === c.p && c.count > 0)[0];
  const empty = cells.find((c) => c.count === 0);
  for (const cell of [worst, diagonal, empty].filter((c) => c !== undefined)) {
    await page.click(`button.cell[data-true="${cell.tr}"][data-pred="${cell.p}"]`);
    t.true(await page.locator('#cell-examples').isVisible());
    t.regex((await page.textContent('#cell-examples .cell-caption')) ?? '', new RegExp(`^True ${cell.tr}, predicted ${cell.p}: ${cell.count} row`));
    const shown = await digitsIn(page, '#cell-examples canvas.digit-image');
    t.is(shown.length, Math.min(12, cell.count), `cell ${cell.tr}-${cell.p}`);
    for (const digit of shown) {
      t.regex(digit.label, new RegExp(`: true ${cell.tr}, predicted ${cell.p} `));
      t.deepEqual(digit.grey, csvRows[lineOf(digit.label) - 1].slice(1).map((v) => 255 - v));
    }
    t.is(await page.getAttribute(`button.cell[data-true="${cell.tr}"][data-pred="${cell.p}"]`, 'aria-pressed'), 'true');
  }

  const screenshot = await page.screenshot({ fullPage: true });
  t.true(screenshot.length > 50_000, 'a full-page screenshot with content');
  t.deepEqual(problems, [], 'no console errors or warnings');
  t.deepEqual(requests, [], 'no network requests');
  await page.context().close();
});

browserTest(`headless Chromium: an unlabeled run's page shows the least confident predictions and no matrix${needs}`, async (t) => {
  const html = join(dir, 'unlabeled', 'run.html');
  const unlabeled = csvRows.map((row) => row.slice(1).join(',')).join('\n');
  const run = await runPipeline(['--input', '-', '--model', await modelReady, '--batch-size', '16', '--html', html, '--quiet'], { stdin: unlabeled });
  t.is(run.code, 0, run.stderr);
  const { page, requests, problems } = await open(html);
  const charts = await chartStates(page);
  t.deepEqual(charts.map((c) => c.key).sort(), ['latency', 'throughput']);
  for (const c of charts) t.true(c.chart && c.painted > 1000, c.key ?? '');
  t.is(await page.locator('table.heatmap').count(), 0);
  const gallery = await digitsIn(page, '#gallery canvas.digit-image');
  t.is(gallery.length, 100, 'all 100 rows (fewer than the 200 kept)');
  for (const digit of gallery) {
    t.regex(digit.label, /^line \d+: predicted \d \(/);
    t.deepEqual(digit.grey, csvRows[lineOf(digit.label) - 1].slice(1).map((v) => 255 - v));
  }
  const confidences = await page.$$eval('#gallery .confidence', (spans) => spans.map((s) => parseFloat(s.textContent ?? '')));
  for (let i = 1; i < confidences.length; i++) t.true(confidences[i] >= confidences[i - 1], 'least confident first');
  t.deepEqual(problems, []);
  t.deepEqual(requests, []);
  await page.context().close();
});

browserTest(`headless Chromium: a hostile input path stays text (no script runs, the data block parses)${needs}`, async (t) => {
  const hostile = '</script><script>alert(1)</script><!--<script>';
  const { report, collector } = simulateRun({ rows: 2000, batchSize: 100, errorRate: 0.3, inputPath: hostile, status: 'failed', error: { code: 'PIPE_ERR_DATA', message: hostile } });
  const html = join(dir, 'hostile', 'run.html');
  await writeFileAtomic(html, buildRunPage(collector.pageInput(report)));
  const { page, requests, problems, dialogs } = await open(html);
  t.deepEqual(dialogs, [], 'no alert');
  t.true(((await page.textContent('header .subtitle')) ?? '').includes(hostile));
  t.true(((await page.textContent('#summary .error')) ?? '').includes(hostile));
  t.is(await page.evaluate(() => (globalThis as unknown as PageGlobals).nnpipePage.data.status), 'failed');
  t.is((await digitsIn(page, '#gallery canvas.digit-image')).length, 200);
  for (const c of await chartStates(page)) t.true(c.chart && c.painted > 1000, c.key ?? '');
  t.deepEqual(problems, []);
  t.deepEqual(requests, []);
  await page.context().close();
});
