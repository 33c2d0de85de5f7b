#!/usr/bin/env node
// Renders a real run's HTML report to PNG: runs the pipeline (the MNIST test set and the default model
// unless told otherwise) with --html reports/run.html, then opens the page in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core: no downloaded browser) and takes a full-page screenshot
// reports/run.png. reports/ is git-ignored: the picture is made on demand, not committed.
//
//   npm run report:screenshot
//   npm run report:screenshot -- --model ../shared/reference/sample_weight.pkl --input data/mnist_test.csv
//   npm run report:screenshot -- --page reports/run.html --skip-run      # only re-render an existing page
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openRenderedPage } from './headless-page.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    limit: { type: 'string' },
    page: { type: 'string', default: 'reports/run.html' },
    png: { type: 'string', default: 'reports/run.png' },
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
    'usage: node scripts/screenshot-report.mjs [--model FILE] [--input FILE] [--limit N] [--page reports/run.html] ' +
      '[--png reports/run.png] ' +
      '[--build dist] ' +
      '[--browser ' +
      '/usr/bin/chromium] [--skip-run]\n',
  );
  process.exit(0);
}
const page = resolve(repoRoot, values.page);
const png = resolve(repoRoot, values.png);

if (!values['skip-run']) {
  const cli = resolve(repoRoot, values.build, 'src/cli/pipeline.js');
  if (!existsSync(cli)) fail(`${cli} is missing: run \`npm run build\` first (or pass --build <folder>)`);
  mkdirSync(dirname(page), { recursive: true }); // nnpipe writes into existing folders only
  const args = [cli, '--html', page, '--quiet'];
  for (const flag of ['model', 'input', 'limit']) if (values[flag] !== undefined) args.push(`--${flag}`, values[flag]);
  process.stderr.write(`running: node ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  // A failed or interrupted run still writes its page (that is worth a look); only a missing page stops here.
  if (run.status !== 0) process.stderr.write(`the pipeline exited with ${run.status ?? run.signal}\n`);
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
  // Open the most frequent confusion's images too, so the picture shows the click-through panel.
  const counts = await tab.$$eval('button.cell:not(.diagonal)', (cells) =>
    cells.map((c) => Number(c.getAttribute('data-count'))),
  );
  const worst = counts.indexOf(Math.max(0, ...counts));
  if (worst >= 0 && counts[worst] > 0) await tab.locator('button.cell:not(.diagonal)').nth(worst).click();
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
  process.stderr.write(`screenshot-report: ${message}\n`);
  process.exit(1);
}
