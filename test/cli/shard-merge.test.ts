// Static shards: `nnpipe --shard i/n` on each part of a 120,000-row MNIST input, then `nnpipe merge`, give
// exactly the rows, correct count, confusion matrix and predictions file of one plain run; bad rows under
// --on-error skip are listed at their absolute lines; merge refuses incomplete, duplicate, mixed and
// changed sets; --shard refuses what cannot be cut.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type CliRun } from '../helpers/cli.js';
import { writeMnistRows } from '../helpers/mnist-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-shard-merge-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const SHARDS = 12;
const big = writeMnistRows(dir, 120_000);
const at = (name: string) => join(dir, name);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const ok = (t: import('ava').ExecutionContext, run: CliRun, what: string) =>
  t.is(run.code, 0, `${what}: ${run.stderr}`);

/** The figures a merged run must share exactly with one plain run. */
const counted = (r: Record<string, unknown>) => ({
  status: r.status,
  rows: r.rows,
  labeled: r.labeled,
  correct: r.correct,
  skipped: r.skipped,
  errors: r.errors,
  confusionMatrix: r.confusionMatrix,
  perClass: r.perClass,
});

async function shardRuns(input: string, prefix: string, count: number, extra: string[] = []): Promise<string[]> {
  const reports: string[] = [];
  for (let i = 1; i <= count; i++) {
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
        at(`${prefix}-${i}.json`),
        '--predictions',
        at(`${prefix}-${i}.csv`),
        ...extra,
      ],
      { timeoutMs: 180_000 },
    );
    if (run.code !== 0) throw new Error(`shard ${i}/${count} exited ${run.code}: ${run.stderr}`);
    reports.push(at(`${prefix}-${i}.json`));
  }
  return reports;
}

test.serial('12 shards of 120,000 rows merge into exactly the report and predictions of one plain run', async (t) => {
  const input = await big;
  ok(
    t,
    await runPipeline(['--input', input, '--quiet', '--report', at('plain.json'), '--predictions', at('plain.csv')], {
      timeoutMs: 180_000,
    }),
    'plain run',
  );
  const reports = await shardRuns(input, 'big', SHARDS);
  const merge = await runPipeline([
    'merge',
    '--report',
    at('merged.json'),
    '--predictions',
    at('merged.csv'),
    '--quiet',
    ...[...reports].reverse(),
  ]);
  ok(t, merge, 'merge');
  const [plain, merged] = [json(at('plain.json')), json(at('merged.json'))];
  t.is(plain.rows, 120_000);
  t.deepEqual(counted(merged), counted(plain));
  t.true(
    readFileSync(at('merged.csv')).equals(readFileSync(at('plain.csv'))),
    "the merged predictions file is byte for byte the plain run's",
  );
  t.is(merged.shards.length, SHARDS);
  t.deepEqual(merged.shards.map((s: { firstLine: number }) => s.firstLine)[0], 1);
  t.is(merged.shards[SHARDS - 1].lastLine, 120_000);
  t.is(merged.batchLatencyMs.count, merged.batches, "latency merged from every shard's histogram");
  t.is(merged.partial.lines, 120_000);
});

test.serial(
  'merge refuses a missing shard, a duplicate, another option and a changed input; writes nothing',
  async (t) => {
    const input = await big;
    const reports = Array.from({ length: SHARDS }, (_, i) => at(`big-${i + 1}.json`));
    const refused = async (args: string[], message: RegExp) => {
      const run = await runPipeline(['merge', '--report', at('refused.json'), ...args]);
      t.is(run.code, 2, run.stderr);
      t.regex(run.stderr, message);
      t.throws(() => readFileSync(at('refused.json')), undefined, 'nothing written');
    };
    await refused(reports.slice(1), /^nnpipe merge: shard 1 of 12 is missing\n$/);
    await refused([...reports, reports[4]], /shard 5\/12 is given twice/);
    // Another batch size: its own cut of the same file would merge; mixed with the others it must not.
    await shardRuns(input, 'other', 1, ['--batch-size', '50']);
    await refused(
      [...reports.slice(1), at('other-1.json')],
      /other-1\.json and \S*big-2\.json are not shards of one run: the option batchSize differs \(50 and 100\)/,
    );
    // The input changed after the shards ran: the shard reports no longer describe it ... and a shard run now sees
    // another file.
    const stamped = new Date(Date.now() + 60_000);
    utimesSync(input, stamped, stamped);
    const late = await runPipeline(
      ['--input', input, '--shard', `12/${SHARDS}`, '--quiet', '--threads', '1', '--report', at('late-12.json')],
      { timeoutMs: 120_000 },
    );
    ok(t, late, 'a shard run on the touched file');
    await refused(
      [...reports.slice(0, 11), at('late-12.json')],
      /late-12\.json and .* are not shards of one run: the input file \(size and modification time\) differs/,
    );
  },
);

test("bad rows under --on-error skip: merged errors and skipped count are the plain run's, at absolute lines", async (t) => {
  const rows = readFileSync(await big, 'utf8')
    .split('\n')
    .slice(0, 600);
  const lines = [
    `label,${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}`,
    ...rows.map((row, i) => (i % 97 === 5 ? row.replace(/,/, ',x') : i % 131 === 7 ? '' : row)),
  ];
  writeFileSync(at('bad.csv'), `${lines.join('\n')}\n`);
  ok(
    t,
    await runPipeline([
      '--input',
      at('bad.csv'),
      '--on-error',
      'skip',
      '--quiet',
      '--report',
      at('bad-plain.json'),
      '--predictions',
      at('bad-plain.csv'),
    ]),
    'plain',
  );
  const reports = await shardRuns(at('bad.csv'), 'bad', 5, ['--on-error', 'skip']);
  ok(
    t,
    await runPipeline([
      'merge',
      '--quiet',
      '--report',
      at('bad-merged.json'),
      '--predictions',
      at('bad-merged.csv'),
      ...reports,
    ]),
    'merge',
  );
  const [plain, merged] = [json(at('bad-plain.json')), json(at('bad-merged.json'))];
  t.true(plain.skipped > 3);
  t.deepEqual(counted(merged), counted(plain));
  t.is(readFileSync(at('bad-merged.csv'), 'utf8'), readFileSync(at('bad-plain.csv'), 'utf8'));
});

test('a bad row under --on-error fail: the merged run fails at its absolute line, as one run does', async (t) => {
  const rows = readFileSync(await big, 'utf8')
    .split('\n')
    .slice(0, 400);
  rows[301] = rows[301].replace(/^\d/, '12');
  writeFileSync(at('fail.csv'), `${rows.join('\n')}\n`);
  const plain = await runPipeline(['--input', at('fail.csv'), '--quiet', '--json']);
  t.is(plain.code, 1);
  const reports: string[] = [];
  for (let i = 1; i <= 4; i++) {
    await runPipeline(['--input', at('fail.csv'), '--shard', `${i}/4`, '--quiet', '--report', at(`fail-${i}.json`)]);
    reports.push(at(`fail-${i}.json`));
  }
  const merge = await runPipeline(['merge', '--json', ...reports]);
  t.is(merge.code, 1);
  const merged = JSON.parse(merge.stdout);
  t.is(merged.status, 'failed');
  t.is(merged.error.message, JSON.parse(plain.stdout).error.message);
  t.regex(merged.error.message, /fail\.csv:302: /);
  t.is(merge.stderr, `nnpipe merge: ${merged.error.message}\n`);
});

test('--shard refuses stdin, --limit, csv-parse and specs that are not i/n', async (t) => {
  for (const [args, message] of [
    [['--shard', '0/3'], /--shard i must be 1\.\.3 \(got '0\/3'\)/],
    [['--shard', '3'], /--shard must be i\/n/],
    [['--shard', '1/2', '--input', '-'], /--input - \(stdin\) cannot be cut into shards/],
    [['--shard', '1/2', '--limit', '5'], /--shard and --limit do not go together/],
    [['--shard', '1/2', '--parser', 'csv-parse'], /--parser csv-parse reads records across lines/],
  ] as const) {
    const run = await runPipeline([...args]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
  }
});
