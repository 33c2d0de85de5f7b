// Debian's headless Chromium for the page tests, through playwright-core (no downloaded browser): where
// it is, whether it is there (the tests skip without it; .ci/run installs the `chromium` package), and
// one way to start it, with the screenshot scripts' flags (scripts/headless-page.mjs): offline, without
// background traffic.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { repoRoot } from './paths.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const { CHROMIUM_ARGS } = (await import(pathToFileURL(join(repoRoot, 'scripts/headless-page.mjs')).href)) as {
    CHROMIUM_ARGS: string[];
  };
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
