// The predictions file through the real CLI: `--predictions -` (stdout carries the predictions only),
// the `line` and `row` columns, JSON Lines by name or by --predictions-format, --probabilities, the
// usage errors of the new flags, and shards merged in the new layouts.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-predictions-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 16, 10], 3);
const at = (name: string) => join(dir, name);
const rows = readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').filter(Boolean).slice(0, 30);

/** A header, 30 rows, two of them bad (lines 5 and 12): `line` then has gaps, `row` has none. */
const header = `label,${Array.from({ length: 784 }, (_, i) => `pixel${i}`).join(',')}`;
const withBad = [header, ...rows.map((row, i) => (i === 3 || i === 10 ? 'x' : row))];
writeFileSync(at('bad.csv'), `${withBad.join('\n')}\n`);
const clean = at('clean.csv');
writeFileSync(clean, `${rows.join('\n')}\n`);

const pipeline = async (args: string[]) =>
  runPipeline(['--model', await modelReady, '--threads', '1', '--batch-size', '4', ...args]);

test('--predictions - writes the predictions, and only them, to stdout; the summary goes to stderr', async (t) => {
  const run = await pipeline(['--input', clean, '--predictions', '-']);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  t.is(lines[0], 'line,row,label,predicted,confidence');
  t.is(lines.length, 31);
  t.true(
    lines.slice(1).every((line) => /^\d+,\d+,\d,\d,[0-9.e-]+$/.test(line)),
    run.stdout,
  );
  t.regex(run.stderr, /accuracy/i, 'the summary is on stderr');
  t.false(existsSync('-'), 'no file named -');
});

test('--predictions - as JSON Lines with --predictions-format jsonl', async (t) => {
  const run = await pipeline(['--input', clean, '--predictions', '-', '--predictions-format', 'jsonl', '--quiet']);
  t.is(run.code, 0, run.stderr);
  const objects = run.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { line: number; row: number });
  t.deepEqual(
    objects.map((o) => [o.line, o.row]),
    rows.map((_, i) => [i + 1, i]),
  );
});

test('--predictions - with --json is a usage error (both want stdout); nothing is scored', async (t) => {
  const run = await pipeline(['--input', clean, '--predictions', '-', '--json']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--predictions - and --json both want stdout/);
  t.is(run.stdout, '');
});

test('--predictions-format or --probabilities without --predictions is a usage error', async (t) => {
  for (const flags of [['--probabilities'], ['--predictions-format', 'jsonl']]) {
    const run = await pipeline(['--input', clean, ...flags]);
    t.is(run.code, 2, flags.join(' '));
    t.regex(run.stderr, new RegExp(`${flags[0]} needs --predictions FILE`));
  }
  const bad = await pipeline(['--input', clean, '--predictions', at('x.csv'), '--predictions-format', 'xml']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--predictions-format/);
});

test('line is the input line (gaps where rows were skipped), row the 0-based index of the scored row', async (t) => {
  const out = at('lines.csv');
  const run = await pipeline(['--input', at('bad.csv'), '--on-error', 'skip', '--predictions', out, '--quiet']);
  t.is(run.code, 0, run.stderr);
  const lines = readFileSync(out, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(0, 2).map(Number));
  t.is(lines.length, 28);
  t.deepEqual(
    lines.slice(0, 4),
    [
      [2, 0],
      [3, 1],
      [4, 2],
      [6, 3],
    ],
    'line 5 was skipped: row 3 is line 6',
  );
  t.deepEqual(lines.at(-1), [31, 27]);
});

test('a .jsonl name gets JSON Lines; --predictions-format csv wins over the name', async (t) => {
  const run = await pipeline(['--input', clean, '--predictions', at('p.jsonl'), '--quiet']);
  t.is(run.code, 0, run.stderr);
  const first = JSON.parse(readFileSync(at('p.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
  t.deepEqual(Object.keys(first), ['line', 'row', 'label', 'predicted', 'confidence']);
  const forced = await pipeline([
    '--input',
    clean,
    '--predictions',
    at('forced.jsonl'),
    '--predictions-format',
    'csv',
    '--quiet',
  ]);
  t.is(forced.code, 0, forced.stderr);
  t.is(readFileSync(at('forced.jsonl'), 'utf8').split('\n')[0], 'line,row,label,predicted,confidence');
});

test(
  '--probabilities adds p0..p9 in CSV (each row sums to 1) and a `probabilities` array in JSON Lines; the report ' +
    'records them',
  async (t) => {
    const run = await pipeline([
      '--input',
      clean,
      '--predictions',
      at('probs.csv'),
      '--probabilities',
      '--report',
      at('probs.json'),
      '--quiet',
    ]);
    t.is(run.code, 0, run.stderr);
    const [head, ...data] = readFileSync(at('probs.csv'), 'utf8').trimEnd().split('\n');
    t.is(head, `line,row,label,predicted,confidence,${Array.from({ length: 10 }, (_, k) => `p${k}`).join(',')}`);
    for (const line of data) {
      const fields = line.split(',').map(Number);
      const probs = fields.slice(5);
      t.true(Math.abs(probs.reduce((s, p) => s + p, 0) - 1) < 1e-5);
      t.is(probs[fields[3]], fields[4], "the predicted class's probability is the confidence");
    }
    const report = JSON.parse(readFileSync(at('probs.json'), 'utf8'));
    t.like(report.config, { predictionsFormat: 'csv', probabilities: true });
    t.like(report.partial.predictions, { rows: 30, format: 'csv', probabilities: 10 });
    const jsonl = await pipeline(['--input', clean, '--predictions', at('probs.jsonl'), '--probabilities', '--quiet']);
    t.is(jsonl.code, 0, jsonl.stderr);
    const objects = readFileSync(at('probs.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { probabilities: number[]; confidence: number });
    t.true(objects.every((o) => o.probabilities.length === 10 && o.probabilities.includes(o.confidence)));
  },
);

/** Runs shards 1..n of `input` with `extra`; returns their report paths. */
async function shards(input: string, tag: string, count: number, extra: string[], ext = 'jsonl'): Promise<string[]> {
  const reports: string[] = [];
  for (let i = 1; i <= count; i++) {
    const run = await pipeline([
      '--input',
      input,
      '--shard',
      `${i}/${count}`,
      '--on-error',
      'skip',
      '--quiet',
      '--report',
      at(`${tag}-${i}.json`),
      '--predictions',
      at(`${tag}-${i}.${ext}`),
      ...extra,
    ]);
    if (run.code !== 0) throw new Error(`shard ${i}: ${run.stderr}`);
    reports.push(at(`${tag}-${i}.json`));
  }
  return reports;
}

test.serial(
  "shards as JSON Lines with probabilities merge into the plain run's file, byte for byte (lines and rows renumbered)",
  async (t) => {
    const plain = await pipeline([
      '--input',
      at('bad.csv'),
      '--on-error',
      'skip',
      '--quiet',
      '--predictions',
      at('plain.jsonl'),
      '--probabilities',
    ]);
    t.is(plain.code, 0, plain.stderr);
    const reports = await shards(at('bad.csv'), 'js', 3, ['--probabilities']);
    const merge = await runPipeline(['merge', '--quiet', '--predictions', at('merged.jsonl'), ...reports.reverse()]);
    t.is(merge.code, 0, merge.stderr);
    t.is(readFileSync(at('merged.jsonl'), 'utf8'), readFileSync(at('plain.jsonl'), 'utf8'));
    const toStdout = await runPipeline(['merge', '--predictions', '-', ...reports]);
    t.is(toStdout.code, 0, toStdout.stderr);
    t.is(
      toStdout.stdout,
      readFileSync(at('plain.jsonl'), 'utf8'),
      'merge --predictions - writes the file to stdout, the summary to stderr',
    );
    t.regex(toStdout.stderr, /accuracy/i);
  },
);

test.serial(
  'merge refuses shards of different layouts, and a target named for another format; writes nothing',
  async (t) => {
    const jsonl = await shards(at('bad.csv'), 'js', 3, ['--probabilities']);
    const csv = await shards(at('bad.csv'), 'cs', 3, [], 'csv');
    const mixed = await runPipeline([
      'merge',
      '--quiet',
      '--predictions',
      at('mixed.jsonl'),
      csv[0],
      jsonl[1],
      jsonl[2],
    ]);
    t.is(mixed.code, 2, mixed.stderr);
    t.regex(
      mixed.stderr,
      /its predictions are JSON Lines with 10 probabilities per row, those of .*cs-1\.json \(shard 1\/3\) CSV without probabilities/,
    );
    const named = await runPipeline(['merge', '--quiet', '--predictions', at('merged.csv'), ...jsonl]);
    t.is(named.code, 2, named.stderr);
    t.regex(named.stderr, /the shards' predictions are JSON Lines .*name the merged file for that format \(\.jsonl\)/);
    t.false(existsSync(at('mixed.jsonl')) || existsSync(at('merged.csv')));
  },
);
