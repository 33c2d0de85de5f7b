// Shared by the screenshot scripts (and its Chromium flags by the page tests, test/helpers/chromium.ts):
// opens one of our self-contained HTML pages in Debian's headless Chromium through playwright-core (no
// downloaded browser), offline, and waits until its scripts say it has rendered. Errors the page logs or
// throws are collected in `problems`.
import { pathToFileURL } from 'node:url';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * @returns {Promise<{ browser: import('playwright-core').Browser, tab: import('playwright-core').Page, problems:
 * string[] }>}
 */
export async function openRenderedPage({ browserPath, page, width }) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: browserPath, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1, offline: true });
    const tab = await context.newPage();
    const problems = [];
    tab.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    tab.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector('html[data-rendered="true"]', { timeout: 30_000 });
    return { browser, tab, problems };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
