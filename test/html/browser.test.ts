// The run page in a real browser: Debian's headless Chromium through playwright-core (no downloaded
// browser; .ci/run installs the `chromium` package when /usr/bin/chromium is missing). Opens pages of real
// small runs and of a simulated 10,000-row run from file:// and checks that every chart drew with the run's
// figures (decoded in the page from the binary block), the summary and the heat map show the report's
// numbers, the gallery holds min(T, rows) images (mistakes, then close calls) drawn from the input's own
// pixels, clicking a heat-map cell shows that pair's stored images with "showing s of n", and that the page
// logged no errors and made no network requests.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildRunPage } from '../../src/html/run-page.js';
import { DEFAULT_IMAGE_BUDGET } from '../../src/html/mistakes.js';
import type { PipelineReport } from '../../src/stats/report.js';
import { writeFileAtomic } from '../../src/output/write-file.js';
import { runPipeline } from '../helpers/cli.js';
import { mnistTestCsv as mnistTest } from '../helpers/mnist-data.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { pixelByte, simulateRun } from './synthetic.js';

const browserTest = hasChromium ? test.serial : test.serial.skip;
const needs = hasChromium ? '' : ' (SKIPPED: /usr/bin/chromium is missing; .ci/run installs Debian chromium)';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-html-browser-'));
const modelReady = writeRandomModel(join(dir, 'tiny.safetensors'));
const input = fixture('mnist-test-100.csv');
/** Line L of the fixture: label then 784 pixels. */
const csvRows = readFileSync(input, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split(',').map(Number));

let browser: Browser | null = null;

test.before(async () => {
  if (hasChromium) browser = await launchChromium();
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
    if (message.type() === 'error' || message.type() === 'warning')
      opened.problems.push(`${message.type()}: ${message.text()}`);
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

/**
 * For every chart canvas: whether Chart.js made a chart on it, whether it has any painted pixel, and what
 * its legend swatches look like as drawn: the painted rows (a line is 1-3 px high, a box ~12) and the runs
 * of painted pixels along the swatch's fullest row (a dashed line has several). One readback per canvas
 * (Chromium warns about repeated ones).
 */
async function chartStates(page: Page) {
  return page.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((canvas) => {
      const c = canvas as unknown as CanvasInPage;
      const chart = (globalThis as unknown as PageGlobals).Chart.getChart(c);
      const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
      const alpha = (x: number, y: number) => pixels[4 * (Math.round(y) * c.width + Math.round(x)) + 3];
      const legend = chart?.legend;
      const swatches = (legend?.legendItems ?? []).map((item, i) => {
        const box = legend!.legendHitBoxes[i];
        const width = legend!.options.labels.pointStyleWidth;
        const [from, to] = [Math.floor(box.left) - 1, Math.ceil(box.left + width) + 1];
        const rows: number[] = [];
        let best = { row: -1, ink: -1, peak: 0 };
        for (let y = Math.floor(box.top); y < box.top + box.height; y++) {
          let ink = 0;
          let peak = 0;
          for (let x = from; x <= to; x++) {
            ink += alpha(x, y);
            peak = Math.max(peak, alpha(x, y));
          }
          if (ink > 0) rows.push(y);
          if (ink > best.ink) best = { row: y, ink, peak };
        }
        // Runs of pixels at least half as opaque as the row's most opaque one (antialiased edges aside).
        const on = (x: number) => alpha(x, best.row) >= best.peak / 2;
        let runs = 0;
        for (let x = from + 1; x <= to; x++) if (on(x) && !on(x - 1)) runs += 1;
        return {
          text: item.text,
          pointStyle: item.pointStyle,
          lineDash: item.lineDash,
          paintedRows: rows.length,
          runs,
        };
      });
      return {
        key: c.dataset.chart,
        chart: Boolean(chart),
        datasets: chart ? chart.data.datasets.length : 0,
        width: c.width,
        height: c.height,
        painted,
        swatches,
      };
    }),
  );
}

/** Legend swatches as drawn: lines (dashed ones in dashes) for line datasets, boxes for bars. */
function checkSwatches(t: import('ava').ExecutionContext, charts: Awaited<ReturnType<typeof chartStates>>) {
  for (const chart of charts) {
    if (chart.swatches.length === 0) continue; // a single-series chart has no legend
    for (const s of chart.swatches) {
      if (chart.key === 'throughput') {
        t.is(s.pointStyle, 'line', `${chart.key}: ${s.text}`);
        t.true(
          s.paintedRows >= 1 && s.paintedRows <= 4,
          `${chart.key}: ${s.text}: a line, ${s.paintedRows} px high, not a blob`,
        );
        const dashed = s.text.startsWith('whole-run average');
        t.deepEqual(s.lineDash, dashed ? [6, 4] : []);
        t.true(dashed ? s.runs >= 3 : s.runs === 1, `${chart.key}: ${s.text}: ${s.runs} painted runs`);
      } else {
        t.is(s.pointStyle, 'rect', `${chart.key}: ${s.text}`);
        t.true(s.paintedRows >= 8, `${chart.key}: ${s.text}: a box, ${s.paintedRows} px high`);
        t.is(s.runs, 1, `${chart.key}: ${JSON.stringify(s)}`);
      }
    }
  }
}

/** The axes and chart data of a drawn chart: ticks, range, title, the datasets' points. */
async function chartScales(page: Page, key: string) {
  return page.$eval(`canvas[data-chart="${key}"]`, (canvas) => {
    const chart = (globalThis as unknown as PageGlobals).Chart.getChart(canvas as unknown as CanvasInPage)!;
    const y = chart.scales.y;
    return {
      title: chart.options.plugins.title.text,
      yMin: y.min,
      yMax: y.max,
      yTicks: y.ticks.map((tick) => tick.value),
      data: chart.data.datasets.map((d) => d.data),
    };
  });
}

/** The grey levels a digit canvas shows, and the row it says it is. */
async function digitsIn(page: Page, selector: string) {
  return page.$$eval(selector, (canvases) =>
    canvases.map((canvas) => {
      const c = canvas as unknown as CanvasInPage;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const grey: number[] = [];
      for (let i = 0; i < data.length; i += 4) grey.push(data[i]);
      return {
        label: c.getAttribute('aria-label') ?? '',
        container: c.closest('.digits')?.id ?? '',
        width: c.width,
        height: c.height,
        cssWidth: c.getBoundingClientRect().width,
        rendering: (globalThis as unknown as PageGlobals).getComputedStyle(c).imageRendering,
        grey,
      };
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
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { width: number };
  closest(selector: string): { id: string } | null;
}
interface LegendInPage {
  legendItems: { text: string; pointStyle: string; lineDash: number[] }[];
  legendHitBoxes: { left: number; top: number; width: number; height: number }[];
  options: { labels: { pointStyleWidth: number } };
}
interface ChartInPage {
  data: { labels: unknown[]; datasets: { label: string; data: unknown[] }[] };
  options: { plugins: { title: { text: string } } };
  legend: LegendInPage;
  scales: Record<string, { min: number; max: number; ticks: { value: number }[] }>;
}
interface PageGlobals {
  Chart: { getChart(canvas: CanvasInPage): ChartInPage | undefined };
  nnpipePage: { data: { status: string } };
  getComputedStyle(element: CanvasInPage): { imageRendering: string };
}

const lineOf = (ariaLabel: string): number => Number(/^line (\d+):/.exec(ariaLabel)?.[1]);

const T = DEFAULT_IMAGE_BUDGET;
const int = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The fixture repeated: `times` copies of its 100 rows (line L is fixture row (L - 1) % 100). */
const repeated = (times: number, labeled: boolean): string =>
  Array.from({ length: times }, () => csvRows.map((row) => (labeled ? row : row.slice(1)).join(',')).join('\n')).join(
    '\n',
  );
const fixturePixels = (line: number): number[] => csvRows[(line - 1) % csvRows.length].slice(1);

/** The chart data as drawn (Chart.js's own objects), by key. */
async function chartData(page: Page) {
  return page.$$eval('canvas[data-chart]', (canvases) =>
    Object.fromEntries(
      canvases.map((canvas) => {
        const chart = (globalThis as unknown as PageGlobals).Chart.getChart(canvas as unknown as CanvasInPage)!;
        return [
          (canvas as unknown as CanvasInPage).dataset.chart,
          {
            labels: chart.data.labels,
            title: chart.options.plugins.title.text,
            datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
          },
        ];
      }),
    ),
  );
}

/**
 * Issue 17: per-class bars on an axis zoomed to the data (its range in the title), whole-number latency
 * counts, and a throughput line whose last point has every row.
 */
async function checkChartAxes(t: import('ava').ExecutionContext, page: Page, report: PipelineReport) {
  const perClass = await chartScales(page, 'perClass');
  const values = perClass.data.flat().filter((v): v is number => typeof v === 'number');
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  t.true(perClass.yMin <= lo && hi <= perClass.yMax, `axis ${perClass.yMin}-${perClass.yMax} holds ${lo}-${hi}`);
  t.true(perClass.yMin >= 0 && perClass.yMax <= 100);
  // Zoomed: the empty space under the lowest bar and over the highest is at most the data's own spread.
  const spread = Math.max(hi - lo, 1);
  t.true(
    lo - perClass.yMin <= spread && perClass.yMax - hi <= spread,
    `zoomed: axis ${perClass.yMin}-${perClass.yMax} for ${lo}-${hi}`,
  );
  t.true(lo - perClass.yMin > 0 || lo === 0, 'room under the lowest bar');
  t.true(perClass.title.endsWith(` (axis ${perClass.yMin}\u2013${perClass.yMax}%)`), perClass.title);

  const latency = await chartScales(page, 'latency');
  t.true(
    latency.yTicks.every((v) => Number.isInteger(v)),
    `whole-number ticks: ${latency.yTicks.join(' ')}`,
  );

  const throughput = await chartScales(page, 'throughput');
  const line = throughput.data[0] as { x: number; y: number }[];
  t.deepEqual(line[0], { x: 0, y: 0 }, 'from the start, worker start-up included');
  for (let i = 1; i < line.length; i++) t.true(line[i].x > line[i - 1].x && line[i].y >= 0);
  const rows = (
    await page.evaluate(() =>
      (globalThis as unknown as { nnpipePage: { run: { values(name: string): number[] } } }).nnpipePage.run.values(
        'throughputRows',
      ),
    )
  ).filter((n) => !Number.isNaN(n));
  t.is(rows.at(-1), report.rows, 'the last point has finished every row');
  return { line, average: report.imagesPerSecond };
}

/**
 * Everything a labeled run's page must show: the charts drawn from the report's figures, the summary, the
 * heat map's counts, min(T, rows) images (mistakes most confident first, then close calls least confident
 * first, each the row's own pixels), and the cells' click-through with "showing s of n".
 */
async function checkLabeledPage(
  t: import('ava').ExecutionContext,
  path: string,
  report: PipelineReport,
  pixelsOf: (line: number) => number[],
) {
  const { page, requests, problems } = await open(path);

  const charts = await chartStates(page);
  t.deepEqual(charts.map((c) => c.key).sort(), ['latency', 'perClass', 'throughput']);
  for (const c of charts) {
    t.true(c.chart, `${c.key}: a Chart.js instance`);
    t.true(c.datasets >= 2, `${c.key}: datasets`);
    t.true(c.width > 100 && c.height > 100, `${c.key}: sized`);
    t.true(c.painted > 1000, `${c.key}: drawn (${c.painted} painted pixels)`);
  }
  checkSwatches(t, charts);
  await checkChartAxes(t, page, report);
  const data = await chartData(page);
  const percent = (ratio: number | null) => (ratio === null ? null : Math.round(ratio * 1e4) / 100);
  t.deepEqual(
    data.perClass.datasets[0].data,
    report.perClass!.map((c) => percent(c.precision)),
  );
  t.deepEqual(
    data.perClass.datasets[1].data,
    report.perClass!.map((c) => percent(c.recall)),
  );
  t.is(data.latency.title, `Batch latency (${int(report.batches)} batch${report.batches === 1 ? '' : 'es'})`);
  t.is(
    (data.latency.datasets[0].data as number[]).reduce((a, b) => a + b, 0),
    report.batches,
    'every batch in the histogram',
  );
  t.is(data.latency.labels.length, data.latency.datasets[0].data.length);
  t.is(data.throughput.datasets[1].label, `whole-run average (${int(report.imagesPerSecond)} images/s)`);
  t.true(data.throughput.datasets[0].data.length >= 2);

  // The summary and the title carry the report's numbers.
  const accuracy = `${(report.accuracy! * 100).toFixed(2)}%`;
  t.is(await page.title(), `nnpipe run: ${report.status}, accuracy ${accuracy}`);
  t.is(await page.textContent('header h1'), await page.title());
  t.is(await page.textContent('#summary [data-value="rows"]'), int(report.rows));
  t.is(await page.textContent('#summary [data-value="accuracy"]'), accuracy);
  t.is(
    await page.textContent('#summary [data-value="correct-of-labeled"]'),
    `${int(report.correct)} / ${int(report.labeled)}`,
  );
  t.is(await page.textContent('#summary [data-value="batches"]'), int(report.batches));

  // The heat map: the report's matrix, cell by cell.
  const matrix = report.confusionMatrix!;
  const shownMatrix = await page.$$eval('button.cell', (buttons) =>
    buttons.map((b) => [
      Number(b.getAttribute('data-true')),
      Number(b.getAttribute('data-pred')),
      b.textContent,
      b.getAttribute('data-count'),
    ]),
  );
  t.is(shownMatrix.length, matrix.length ** 2);
  for (const [tr, p, text, count] of shownMatrix) {
    t.is(text, String(matrix[tr as number][p as number]));
    t.is(count, String(matrix[tr as number][p as number]));
  }

  // The gallery: min(T, rows) images; the mistakes (all of them, or T picked round-robin) most confident
  // first, then the close calls, least confident first; every one drawn from its row's pixels.
  const mistakes = report.labeled - report.correct;
  const shownMistakes = Math.min(T, mistakes);
  // Each canvas is read once (Chromium warns about repeated readbacks of one canvas).
  const all = await digitsIn(page, '#gallery-section canvas.digit-image');
  t.is(all.length, Math.min(T, report.rows), 'min(T, rows) images');
  const gallery = all.filter((d) => d.container === 'gallery');
  const closeCalls = all.filter((d) => d.container === 'close-calls');
  t.is(gallery.length, shownMistakes);
  t.is(closeCalls.length, all.length - shownMistakes);
  t.is(await page.locator('#close-calls-block').isVisible(), closeCalls.length > 0);
  if (closeCalls.length > 0) t.regex((await page.textContent('#close-calls-block h3')) ?? '', /^Close calls/);
  t.regex(
    (await page.textContent('#gallery-intro')) ?? '',
    mistakes > T ? new RegExp(`^${int(T)} of ${int(mistakes)} mistakes`) : new RegExp(`^All ${int(mistakes)} mistake`),
  );
  const confidences = async (selector: string) =>
    page.$$eval(selector, (spans) => spans.map((s) => parseFloat(s.textContent ?? '')));
  const mistakeConfidences = await confidences('#gallery .confidence');
  for (let i = 1; i < mistakeConfidences.length; i++)
    t.true(mistakeConfidences[i] <= mistakeConfidences[i - 1], 'most confident first');
  const closeConfidences = await confidences('#close-calls .confidence');
  for (let i = 1; i < closeConfidences.length; i++)
    t.true(closeConfidences[i] >= closeConfidences[i - 1], 'least confident first');
  const pairs = new Map<string, number>();
  for (const [list, wrong] of [
    [gallery, true],
    [closeCalls, false],
  ] as const) {
    for (const digit of list) {
      t.is(digit.width, 28);
      t.is(digit.height, 28);
      t.is(digit.cssWidth, 56, 'scaled 2x');
      t.is(digit.rendering, 'pixelated');
      const [, label, predicted] = /: true (\d+), predicted (\d+) /.exec(digit.label)!.map(Number);
      t.is(label !== predicted, wrong, digit.label);
      if (!wrong) t.regex(digit.label, /a close call$/);
      pairs.set(`${label}-${predicted}`, (pairs.get(`${label}-${predicted}`) ?? 0) + 1);
      t.deepEqual(
        digit.grey,
        pixelsOf(lineOf(digit.label)).map((v) => 255 - v),
        `line ${lineOf(digit.label)}: the row's own pixels`,
      );
    }
  }
  // Round-robin: every kind of mistake that occurred is shown (when there are fewer kinds than T).
  const kinds = matrix
    .flatMap((row, tr) => row.map((count, p) => ({ tr, p, count })))
    .filter((c) => c.tr !== c.p && c.count > 0);
  if (kinds.length <= T)
    for (const kind of kinds) t.true((pairs.get(`${kind.tr}-${kind.p}`) ?? 0) > 0, `cell ${kind.tr}-${kind.p} shown`);

  // Click the biggest confusion, a diagonal cell and an empty cell: the panel shows that pair's stored images.
  t.true(await page.locator('#cell-examples').isHidden());
  const cells = matrix.flatMap((row, tr) => row.map((count, p) => ({ tr, p, count })));
  const worst = kinds.sort((a, b) => b.count - a.count)[0];
  const diagonal = cells
    .filter((c) => c.tr === c.p && c.count > 0)
    .sort((a, b) => (pairs.get(`${b.tr}-${b.p}`) ?? 0) - (pairs.get(`${a.tr}-${a.p}`) ?? 0))[0];
  const empty = cells.find((c) => c.count === 0);
  for (const cell of [worst, diagonal, empty].filter((c) => c !== undefined)) {
    await page.click(`button.cell[data-true="${cell.tr}"][data-pred="${cell.p}"]`);
    t.true(await page.locator('#cell-examples').isVisible());
    const stored = pairs.get(`${cell.tr}-${cell.p}`) ?? 0;
    const caption = (await page.textContent('#cell-examples .cell-caption')) ?? '';
    t.regex(caption, new RegExp(`^True ${cell.tr}, predicted ${cell.p}: ${escapeRegExp(int(cell.count))} rows?`));
    if (stored > 0) t.true(caption.includes(`showing ${int(stored)} of ${int(cell.count)}`), caption);
    const shown = await digitsIn(page, '#cell-examples canvas.digit-image');
    t.is(shown.length, stored, `cell ${cell.tr}-${cell.p}`);
    for (const digit of shown) {
      t.regex(digit.label, new RegExp(`: true ${cell.tr}, predicted ${cell.p} `));
      t.deepEqual(
        digit.grey,
        pixelsOf(lineOf(digit.label)).map((v) => 255 - v),
      );
    }
    t.is(await page.getAttribute(`button.cell[data-true="${cell.tr}"][data-pred="${cell.p}"]`, 'aria-pressed'), 'true');
  }

  const screenshot = await page.screenshot({ fullPage: true });
  t.true(screenshot.length > 50_000, 'a full-page screenshot with content');
  t.deepEqual(problems, [], 'no console errors or warnings');
  t.deepEqual(requests, [], 'no network requests');
  await page.context().close();
  return { mistakes: gallery.length, closeCalls: closeCalls.length };
}

browserTest(
  `headless Chromium: a labeled run of 100 rows shows all 100 (mistakes, then close calls), its charts and heat-map ` +
    `cells${needs}`,
  async (t) => {
    mkdirSync(join(dir, 'labeled')); // outputs go into existing folders
    const html = join(dir, 'labeled', 'run.html');
    const reportPath = join(dir, 'labeled', 'report.json');
    const run = await runPipeline([
      '--input',
      input,
      '--model',
      await modelReady,
      '--batch-size',
      '10',
      '--threads',
      '2',
      '--html',
      html,
      '--report',
      reportPath,
      '--quiet',
    ]);
    t.is(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as PipelineReport;
    const shown = await checkLabeledPage(t, html, report, fixturePixels);
    t.is(shown.mistakes + shown.closeCalls, 100);
    t.true(shown.closeCalls > 0, 'a random model gets a few right: close calls fill the rest');
  },
);

browserTest(
  `headless Chromium: the page of 3 merged shards (nnpipe merge --html) shows all 100 rows' images, its charts and ` +
    `heat-map cells, and says how its throughput was merged${needs}`,
  async (t) => {
    const out = join(dir, 'merged');
    mkdirSync(out);
    const reports: string[] = [];
    for (let i = 1; i <= 3; i++) {
      reports.push(join(out, `shard-${i}.json`));
      const shard = await runPipeline([
        '--input',
        input,
        '--model',
        await modelReady,
        '--batch-size',
        '10',
        '--threads',
        '1',
        '--shard',
        `${i}/3`,
        '--html',
        join(out, `shard-${i}.html`),
        '--report',
        reports[i - 1],
        '--quiet',
      ]);
      t.is(shard.code, 0, shard.stderr);
    }
    const html = join(out, 'run.html');
    const reportPath = join(out, 'report.json');
    const merge = await runPipeline(['merge', '--quiet', '--report', reportPath, '--html', html, ...reports]);
    t.is(merge.code, 0, merge.stderr);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as PipelineReport;
    const shown = await checkLabeledPage(t, html, report, fixturePixels);
    t.is(shown.mistakes + shown.closeCalls, 100, 'every row, at its absolute line with its own pixels');
    const { page } = await open(html);
    t.regex(
      (await page.textContent('#merged-throughput')) ?? '',
      /^Merged from 3 shards: the sum of the shards' own throughput lines/,
    );
  },
);

browserTest(
  `headless Chromium: a labeled run of 300 rows (stdin) shows exactly T images, every kind of mistake${needs}`,
  async (t) => {
    mkdirSync(join(dir, 'labeled-300')); // outputs go into existing folders
    const html = join(dir, 'labeled-300', 'run.html');
    const reportPath = join(dir, 'labeled-300', 'report.json');
    const run = await runPipeline(
      [
        '--input',
        '-',
        '--model',
        await modelReady,
        '--batch-size',
        '16',
        '--html',
        html,
        '--report',
        reportPath,
        '--quiet',
      ],
      { stdin: repeated(3, true) },
    );
    t.is(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as PipelineReport;
    t.is(report.rows, 300);
    const shown = await checkLabeledPage(t, html, report, fixturePixels);
    t.is(shown.mistakes + shown.closeCalls, T);
  },
);

browserTest(
  `headless Chromium: a simulated run of 10,000 rows with 2% mistakes: all mistakes, then labelled close calls${needs}`,
  async (t) => {
    const { report, collector } = simulateRun({ rows: 10_000, batchSize: 500, errorRate: 0.02, seed: 3 });
    const html = join(dir, 'simulated', 'run.html');
    await writeFileAtomic(html, buildRunPage(collector.pageInput(report)));
    // Line L is row (L - 1) % 500 of batch floor((L - 1) / 500), whose pixels came from pool buffer index % 4.
    const pixelsOf = (line: number) =>
      Array.from({ length: 784 }, (_, i) => pixelByte(Math.floor((line - 1) / 500) % 4, (line - 1) % 500, i));
    const shown = await checkLabeledPage(t, html, report, pixelsOf);
    t.is(shown.mistakes, report.labeled - report.correct);
    t.is(shown.mistakes + shown.closeCalls, T);
  },
);

browserTest(
  `headless Chromium: an unlabeled run's page shows the T least confident predictions and no matrix${needs}`,
  async (t) => {
    mkdirSync(join(dir, 'unlabeled')); // outputs go into existing folders
    const html = join(dir, 'unlabeled', 'run.html');
    const run = await runPipeline(
      ['--input', '-', '--model', await modelReady, '--batch-size', '16', '--html', html, '--quiet'],
      { stdin: repeated(3, false) },
    );
    t.is(run.code, 0, run.stderr);
    const { page, requests, problems } = await open(html);
    const charts = await chartStates(page);
    t.deepEqual(charts.map((c) => c.key).sort(), ['latency', 'throughput']);
    for (const c of charts) t.true(c.chart && c.painted > 1000, c.key ?? '');
    t.is(await page.locator('table.heatmap').count(), 0);
    t.is(await page.textContent('#summary [data-value="accuracy"]'), 'n/a (no labels)');
    t.is(await page.title(), 'nnpipe run: complete');
    const gallery = await digitsIn(page, '#gallery-section canvas.digit-image');
    t.is(gallery.length, T, 'T of the 300 rows');
    t.regex(
      (await page.textContent('#gallery-intro')) ?? '',
      new RegExp(`the ${T} least confident predictions of 300 rows`),
    );
    for (const digit of gallery) {
      t.regex(digit.label, /^line \d+: predicted \d \(/);
      t.deepEqual(
        digit.grey,
        fixturePixels(lineOf(digit.label)).map((v) => 255 - v),
      );
    }
    const confidences = await page.$$eval('#gallery .confidence', (spans) =>
      spans.map((s) => parseFloat(s.textContent ?? '')),
    );
    for (let i = 1; i < confidences.length; i++) t.true(confidences[i] >= confidences[i - 1], 'least confident first');
    t.deepEqual(problems, []);
    t.deepEqual(requests, []);
    await page.context().close();
  },
);

browserTest(
  `headless Chromium: a hostile input path stays text (no script runs, the data block parses); row errors ` +
    `listed${needs}`,
  async (t) => {
    const hostile = '</script><script>alert(1)</script><!--<script>';
    const rowErrors = Array.from({ length: 14 }, (_, i) => ({ line: 10 + i, message: `${hostile} ${i}` }));
    const { report, collector } = simulateRun({
      rows: 2000,
      batchSize: 100,
      errorRate: 0.3,
      inputPath: hostile,
      status: 'failed',
      error: { code: 'PIPE_ERR_DATA', message: hostile },
      rowErrors,
    });
    const html = join(dir, 'hostile', 'run.html');
    await writeFileAtomic(html, buildRunPage(collector.pageInput(report)));
    const { page, requests, problems, dialogs } = await open(html);
    t.deepEqual(dialogs, [], 'no alert');
    t.true(((await page.textContent('header .subtitle')) ?? '').includes(hostile));
    t.true(((await page.textContent('#summary .error')) ?? '').includes(hostile));
    t.is(await page.evaluate(() => (globalThis as unknown as PageGlobals).nnpipePage.data.status), 'failed');
    const status = (await page.textContent('#summary .status')) ?? '';
    t.is(status, 'Run failed: the figures cover the 2,000 rows scored before the failure.');
    const summary = (await page.textContent('#summary')) ?? '';
    t.true(summary.includes('Rows with errors (first 10 of 14):'), summary);
    t.deepEqual(
      await page.$$eval('ul.row-errors li', (items) => items.map((i) => i.textContent)),
      rowErrors.slice(0, 10).map((e) => `line ${e.line} ${e.message}`),
    );
    t.is(await page.textContent('[data-value="errors-more"]'), 'and 4 more.');
    t.true(await page.locator('[data-value="errors-more"]').isVisible());
    t.is((await digitsIn(page, '#gallery-section canvas.digit-image')).length, T);
    for (const c of await chartStates(page)) t.true(c.chart && c.painted > 1000, c.key ?? '');
    t.deepEqual(problems, []);
    t.deepEqual(requests, []);
    await page.context().close();
  },
);

// Issue 17: on the MNIST test set the chart sat at 0, then spiked to 13,000,000 images/s against a
// whole-run average of 28,233 drawn flat at the bottom. Rows finished per sliding window stay within a
// sane factor of the rates the report gives.
browserTest(
  `headless Chromium: throughput on the MNIST test set is a rate over a window, near the averages${needs}`,
  async (t) => {
    mkdirSync(join(dir, 'mnist'));
    const html = join(dir, 'mnist', 'run.html');
    const reportPath = join(dir, 'mnist', 'report.json');
    const run = await runPipeline(['--input', mnistTest, '--html', html, '--report', reportPath, '--quiet']);
    t.is(run.code, 0, run.stderr);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as PipelineReport;
    t.is(report.rows, 10_000);
    const { page, problems } = await open(html);
    const charts = await chartStates(page);
    checkSwatches(t, charts);
    const { line } = await checkChartAxes(t, page, report);
    const rates = line.slice(1).map((p) => p.y);
    const max = Math.max(...rates);
    const end = line.at(-1)!.x;
    const average = report.rows / end; // the timeline's own whole-run average
    const steady = report.imagesPerSecondAfterFirstResult!;
    t.true(max <= 6 * average, `max ${max} images/s vs whole-run average ${Math.round(average)}`);
    // A factor of 5: on a loaded machine the workers' results come in bursts (3.1x seen under a parallel test
    // run); the spike this guards against was 460x.
    t.true(max <= 5 * steady, `max ${max} images/s vs ${Math.round(steady)} after the first result`);
    t.true(max >= 0.5 * steady, `the line reaches the steady rate (${max} vs ${Math.round(steady)})`);
    // Evenly spaced windows: every row finished before the last window is counted by at least
    // floor(window / spacing) of the 60 points (the window is >= 3 spacings: >= 3/4 of its share), rows in
    // the last window by fewer; so the line's mean lies between 3/4 of those rows' average and the whole
    // run's average. (A bound on the average alone fails on a loaded machine, where most rows of a short
    // run can finish in its last window.)
    const windowText = (await page.textContent('[data-value="throughput-window"]')) ?? '';
    const [, amount, unit] = /^(\d[\d.]*) (m?s)$/.exec(windowText) ?? [];
    t.truthy(amount, windowText);
    const windowS = Number(amount) / (unit === 'ms' ? 1000 : 1);
    const covered = (report.rows - rates.at(-1)! * windowS) / end;
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    t.true(
      mean >= 0.75 * covered && mean <= 1.05 * average,
      `mean of the line ${Math.round(mean)} vs average ${Math.round(average)} (${Math.round(covered)} before the ` +
        `last window)`,
    );
    const data = await chartData(page);
    t.is(data.throughput.datasets[0].label, `images/s, rows finished in the last ${windowText}`);
    t.deepEqual(problems, []);
    await page.context().close();
  },
);

browserTest(`headless Chromium: 3 batches: the latency histogram counts in whole numbers${needs}`, async (t) => {
  mkdirSync(join(dir, 'three'));
  const html = join(dir, 'three', 'run.html');
  const run = await runPipeline([
    '--input',
    input,
    '--model',
    await modelReady,
    '--batch-size',
    '40',
    '--html',
    html,
    '--quiet',
  ]);
  t.is(run.code, 0, run.stderr);
  const { page, problems } = await open(html);
  const latency = await chartScales(page, 'latency');
  t.is(
    (latency.data[0] as number[]).reduce((a, b) => a + b, 0),
    3,
  );
  t.true(latency.yTicks.length >= 2);
  t.true(
    latency.yTicks.every((v) => Number.isInteger(v)),
    `ticks ${latency.yTicks.join(' ')}`,
  );
  t.deepEqual(problems, []);
  await page.context().close();
});

browserTest(
  `headless Chromium: several input files: each image and row error named by its file and line there${needs}`,
  async (t) => {
    mkdirSync(join(dir, 'several'));
    const [a, b] = [join(dir, 'several', 'a.csv'), join(dir, 'several', 'b.csv')];
    const lines = csvRows.map((row) => row.join(','));
    const bLines = lines.slice(60);
    bLines[4] = `${bLines[4]},0`; // b.csv:5: one field too many
    writeFileSync(a, `${lines.slice(0, 60).join('\n')}\n`);
    writeFileSync(b, `${bLines.join('\n')}\n`);
    const html = join(dir, 'several', 'run.html');
    const run = await runPipeline([
      '--input',
      a,
      b,
      '--model',
      await modelReady,
      '--on-error',
      'skip',
      '--batch-size',
      '16',
      '--html',
      html,
      '--quiet',
    ]);
    t.is(run.code, 0, run.stderr);
    const { page, problems } = await open(html);
    const gallery = await digitsIn(page, '#gallery-section canvas.digit-image');
    t.is(gallery.length, 99, 'every good row of both files');
    const seen = new Set<string>();
    for (const digit of gallery) {
      const [, file, line] = /^([ab])\.csv:(\d+): /.exec(digit.label) ?? [];
      t.truthy(file, digit.label);
      seen.add(`${file}:${line}`);
      // The fixture row that is that file's line: the picture drawn is its pixels.
      const row = file === 'a' ? Number(line) : 60 + Number(line);
      t.deepEqual(
        digit.grey,
        csvRows[row - 1].slice(1).map((v) => 255 - v),
        digit.label,
      );
    }
    t.is(seen.size, 99);
    t.false(seen.has('b:5'), 'the bad row is not an image');
    t.deepEqual(await page.$$eval('ul.row-errors li', (items) => items.map((i) => i.textContent)), [
      'b.csv:5 expected 785 fields, found 786',
    ]);
    t.deepEqual(problems, []);
    await page.context().close();
  },
);
