// Issue 17: following the README left `git status` dirty (out.json, data/models/*.safetensors, ...). Every
// file that an example command in the README or docs/ writes inside the project (--report, --out, --html,
// --history, --predictions, --png, --page, and `convert`'s output) must be git-ignored, except the
// committed default model, which `npm run train -- --out data/models/default.safetensors` deliberately
// replaces.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const COMMITTED = new Set(['data/models/default.safetensors']);

/** Relative output paths of the example commands (code lines that run npm or node). */
function exampleOutputs(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const command = line.replace(/^\$ /, '');
    if (!/^(npm run|node |cat .*\| *npm run)/.test(command)) continue;
    for (const match of command.matchAll(/--(?:report|out|html|history|predictions|png|page) ([^\s`|;)]+)/g))
      paths.add(match[1]);
    const convert = /\bconvert -- \S+ (\S+)/.exec(command);
    if (convert) paths.add(convert[1]);
  }
  // Absolute paths (/data/..., /opt/...) and ../shared are outside the project; FILE, DIR, <file> are placeholders.
  return [...paths].filter((p) => !p.startsWith('/') && !p.startsWith('..') && p !== '-' && !/^[A-Z]+$|^</.test(p));
}

const hasGit = existsSync(join(repoRoot, '.git')) && spawnSync('git', ['--version']).status === 0;
(hasGit ? test : test.skip)('every file the README and docs examples write in the project is git-ignored', (t) => {
  const docs = [
    'README.md',
    ...readdirSync(join(repoRoot, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const outputs = [...new Set(docs.flatMap((file) => exampleOutputs(readFileSync(join(repoRoot, file), 'utf8'))))];
  for (const expected of [
    'out.json',
    'data/models/mine.safetensors',
    'data/models/book.safetensors',
    'mlp-frozen.safetensors',
    'reports/latest.json',
  ]) {
    t.true(outputs.includes(expected), `the examples still write ${expected} (found: ${outputs.join(' ')})`);
  }
  for (const path of outputs) {
    const ignored = spawnSync('git', ['check-ignore', '-q', path], { cwd: repoRoot }).status === 0;
    t.is(
      ignored,
      !COMMITTED.has(path),
      `${path}: ${COMMITTED.has(path) ? 'committed, must not be ignored' : 'must be git-ignored'}`,
    );
  }
});
