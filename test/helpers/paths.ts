// Paths for tests: compiled tests live in dist/test, fixtures stay in test/fixtures.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = resolve(repoRoot, 'test/fixtures');
export const fixture = (name: string): string => resolve(fixturesDir, name);

/** The shared reference folder (the book's pickle etc.). Tests that need it skip when it is absent. */
export const sharedDir = resolve(repoRoot, '../shared');
export const bookPickle = resolve(sharedDir, 'reference/sample_weight.pkl');
export const hasBookPickle = existsSync(bookPickle);
