// --input patterns that reach nnpipe unexpanded (quoted, or from a scheduler or a systemd unit, which
// expand none): nnpipe expands them as a shell would, the files in name order; a path that exists as
// written is taken as it is; a pattern that matches nothing fails as a missing file does (exit 1).
import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandInputPatterns, isInputPattern } from '../../src/cli/input-globs.js';
import { runPipeline } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-patterns-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const rows = fixture('mnist-test-100.csv');
// Written in another order than their names': the expansion sorts them.
for (const name of ['part-10.csv', 'part-2.csv', 'part-1.csv', 'other.csv']) copyFileSync(rows, join(dir, name));
mkdirSync(join(dir, 'part-9.csv.d'));

test('a pattern becomes the files it matches, in name order (no folders); other inputs stay as given', (t) => {
  t.deepEqual(expandInputPatterns([join(dir, 'other.csv'), join(dir, 'part-*.csv')]), [
    join(dir, 'other.csv'),
    join(dir, 'part-1.csv'),
    join(dir, 'part-10.csv'),
    join(dir, 'part-2.csv'),
  ]);
  t.deepEqual(expandInputPatterns([join(dir, 'part-{2,1}.csv')]), [join(dir, 'part-1.csv'), join(dir, 'part-2.csv')]);
  t.deepEqual(expandInputPatterns(['-']), ['-']);
});

test('a pattern that matches nothing is kept as written (to fail as a missing file), and named a pattern', (t) => {
  const none = join(dir, 'none-*.csv');
  t.deepEqual(expandInputPatterns([none]), [none]);
  t.true(isInputPattern(none));
  t.false(isInputPattern(join(dir, 'missing.csv')));
});

test('a file whose name has pattern characters is read as it is', (t) => {
  const odd = join(dir, 'odd[1].csv');
  copyFileSync(rows, odd);
  t.deepEqual(expandInputPatterns([odd]), [odd]);
  t.false(isInputPattern(odd));
});

test('nnpipe --input "part-*.csv" scores the matching files as one run, in name order', async (t) => {
  const run = await runPipeline(['--input', join(dir, 'part-*.csv'), '--json', '--quiet']);
  t.is(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.is(report.rows, 300);
  t.deepEqual(
    report.input.files.map((file: { path: string }) => file.path),
    ['part-1.csv', 'part-10.csv', 'part-2.csv'].map((name) => join(dir, name)),
  );
});

test('a pattern that matches no file fails with exit 1, naming the pattern', async (t) => {
  const run = await runPipeline(['--input', join(dir, 'none-*.csv'), '--quiet']);
  t.is(run.code, 1, run.stderr);
  t.true(run.stderr.includes(`${join(dir, 'none-*.csv')}: no file matches this pattern`), run.stderr);
});
