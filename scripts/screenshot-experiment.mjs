#!/usr/bin/env node
// Renders a real experiment's HTML page to PNG and checks that both charts drew: runs `npm run experiment`
// (the default grid on the MNIST test set unless told otherwise; arguments after `--` are passed on) into
// reports/experiment-screenshot/, then opens experiment.html in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core: no downloaded browser), waits for <html data-rendered="true">, checks that the
// throughput and latency charts are Chart.js charts with painted pixels, and takes a full-page screenshot
// experiment.png next to it. Exit 1 when a chart did not draw or the page logged an error.
//
//   npm run experiment:screenshot
//   npm run experiment:screenshot -- -- --input test/fixtures/mnist-test-100.csv --batch-sizes 1,10,100 --min-samples 2
// --max-time 0.2
//   npm run experiment:screenshot -- --skip-run --out reports/exp-1       # only re-render an existing page
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openRenderedPage } from './headless-page.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'reports/experiment-screenshot' },
    png: { type: 'string' },
    // The compiled project to run (dist/ from `npm run build`; a private build folder works too).
    build: { type: 'string', default: 'dist' },
    browser: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    width: { type: 'string', default: '1400' },
    'skip-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node scripts/screenshot-experiment.mjs [--out DIR] [--png FILE] [--build dist] [--browser ' +
      '/usr/bin/chromium] ' +
      '[--skip-run] [-- ' +
      'experiment options...]\n',
  );
  process.exit(0);
}
const out = resolve(repoRoot, values.out);
const page = join(out, 'experiment.html');
const png = resolve(repoRoot, values.png ?? join(values.out, 'experiment.png'));

if (!values['skip-run']) {
  const cli = resolve(repoRoot, values.build, 'src/cli/experiment.js');
  if (!existsSync(cli)) fail(`${cli} is missing: run \`npm run build\` first (or pass --build <folder>)`);
  const args = [cli, '--out', out, ...positionals];
  process.stderr.write(`running: node ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  // A failed or interrupted experiment still writes its page (partial); only a missing page stops here.
  if (run.status !== 0) process.stderr.write(`the experiment exited with ${run.status ?? run.signal}\n`);
}
if (!existsSync(page)) fail(`${page}: no page to render`);
if (!existsSync(values.browser))
  fail(`${values.browser}: no Chromium (Debian: apt-get install chromium; or pass --browser)`);

const { browser, tab, problems } = await openRenderedPage({
  browserPath: values.browser,
  page,
  width: Number(values.width),
});
try {
  const charts = await tab.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((canvas) => {
      const chart = globalThis.Chart.getChart(canvas);
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
      return {
        key: canvas.dataset.chart,
        chart: Boolean(chart),
        datasets: chart ? chart.data.datasets.length : 0,
        painted,
      };
    }),
  );
  for (const key of ['throughput', 'latency']) {
    const c = charts.find((x) => x.key === key);
    if (!c?.chart || c.datasets === 0 || c.painted < 1000)
      problems.push(`chart ${key} did not draw: ${JSON.stringify(c ?? null)}`);
    else process.stderr.write(`chart ${key}: ${c.datasets} series, ${c.painted} painted pixels\n`);
  }
  await tab.screenshot({ path: png, fullPage: true });
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.stderr.write(
    `wrote ${png} (${(statSync(png).size / 1024).toFixed(0)} KiB) from ${page} ` +
      `(${(statSync(page).size / 1024).toFixed(0)} KiB)\n`,
  );
  if (problems.length > 0) process.exitCode = 1;
} finally {
  await browser.close();
}

function fail(message) {
  process.stderr.write(`screenshot-experiment: ${message}\n`);
  process.exit(1);
}
