// `nnpipe merge --html`: the page of shards run with `--shard i/n --html` shows exactly the images and
// counts of the page of one run over the whole input, for 2, 3 and 7 shards of the 100-row fixture and of
// 3,000 MNIST rows; shards without page data are refused by name (exit 2, nothing written).
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type CliRun } from '../helpers/cli.js';
import { writeMnistRows } from '../helpers/mnist-rows.js';
import { fixture } from '../helpers/paths.js';
import { pageContent } from '../html/page-data.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-merge-html-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const ok = (t: import('ava').ExecutionContext, run: CliRun, what: string) =>
  t.is(run.code, 0, `${what}: ${run.stderr}`);

async function shardRuns(input: string, prefix: string, count: number, extra: string[]): Promise<string[]> {
  const reports: string[] = [];
  for (let i = 1; i <= count; i++) {
    const report = at(`${prefix}-${count}-${i}.json`);
    const run = await runPipeline(
      [
        '--input',
        input,
        '--shard',
        `${i}/${count}`,
        '--quiet',
        '--threads',
        '1',
        '--report',
        report,
        ...extra.map((a) => a.replace('{i}', String(i))),
      ],
      { timeoutMs: 120_000 },
    );
    if (run.code !== 0) throw new Error(`shard ${i}/${count} exited ${run.code}: ${run.stderr}`);
    reports.push(report);
  }
  return reports;
}

const inputs: [string, () => Promise<string>][] = [
  ['the 100-row fixture', async () => fixture('mnist-test-100.csv')],
  ['3,000 MNIST rows', () => writeMnistRows(dir, 3000)],
];

for (const [what, inputOf] of inputs) {
  test.serial(`merge --html of 2, 3 and 7 shards of ${what}: the images and counts of one run's page`, async (t) => {
    const input = await inputOf();
    const name = what.replace(/\W+/g, '-');
    ok(
      t,
      await runPipeline(
        [
          '--input',
          input,
          '--quiet',
          '--threads',
          '1',
          '--report',
          at(`${name}-plain.json`),
          '--html',
          at(`${name}-plain.html`),
        ],
        { timeoutMs: 120_000 },
      ),
      'plain run',
    );
    const expected = pageContent(readFileSync(at(`${name}-plain.html`), 'utf8'));
    t.true(expected.images.length > 0);
    for (const count of [2, 3, 7]) {
      const reports = await shardRuns(input, name, count, ['--html', at(`${name}-${count}-{i}.html`)]);
      const merged = at(`${name}-merged-${count}.html`);
      const run = await runPipeline([
        'merge',
        '--report',
        at(`${name}-merged-${count}.json`),
        '--html',
        merged,
        ...[...reports].reverse(),
      ]);
      ok(t, run, `merge of ${count}`);
      t.regex(run.stderr, new RegExp(`wrote ${merged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      t.deepEqual(pageContent(readFileSync(merged, 'utf8')), expected, `${count} shards`);
      t.regex(readFileSync(merged, 'utf8'), new RegExp(`Merged from ${count} shards`));
      t.is(JSON.parse(readFileSync(at(`${name}-merged-${count}.json`), 'utf8')).config.html, merged);
    }
  });
}

test.serial('merge --html refuses shards run without --html, naming them; nothing is written', async (t) => {
  const input = fixture('mnist-test-100.csv');
  const reports = await shardRuns(input, 'bare', 3, []);
  const run = await runPipeline(['merge', '--report', at('bare.json'), '--html', at('bare.html'), ...reports]);
  t.is(run.code, 2, run.stderr);
  t.regex(
    run.stderr,
    /^nnpipe merge: --html: \S*bare-3-1\.json, \S*bare-3-2\.json, \S*bare-3-3\.json have no page data \(partial\.page\)/,
  );
  t.false(existsSync(at('bare.json')));
  t.false(existsSync(at('bare.html')));
  ok(
    t,
    await runPipeline(['merge', '--quiet', '--report', at('bare.json'), ...reports]),
    'the same set merges without --html',
  );
});

test.serial("merge --html refuses to overwrite a shard's own page (exit 2)", async (t) => {
  const input = fixture('mnist-test-100.csv');
  const reports = await shardRuns(input, 'own', 2, ['--html', at('own-{i}.html')]);
  const before = readFileSync(at('own-1.html'));
  const run = await runPipeline(['merge', '--html', at('own-1.html'), ...reports]);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /--html .* refusing to overwrite a shard's HTML page/);
  t.deepEqual(readFileSync(at('own-1.html')), before);
});
