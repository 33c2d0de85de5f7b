import test from 'ava';
import { existsSync } from 'node:fs';
import { repoRoot } from '../helpers/paths.js';

test('repo root holds package.json', (t) => {
  t.true(existsSync(`${repoRoot}/package.json`));
});
