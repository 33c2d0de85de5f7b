// --decode main and --decode workers through the real CLI: the same predictions file, byte for byte,
// and the same report apart from timings and where the rows were decoded (the same batches too: every
// batch holds exactly --batch-size rows but the last, wherever the rows are decoded), under --on-error
// fail and skip (with bad rows), with and without a header, unlabeled, with --limit, and as JSON Lines
// with --probabilities.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-decode-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), [784, 24, 10], 5);
const lines = readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').filter(Boolean);
const header = `label,${Array.from({ length: 784 }, (_, i) => `pixel${i}`).join(',')}`;

/** Bad rows and blank lines put into the 100 rows (indexes into the data rows). */
function withBadRows(rows: string[]): string[] {
  const out = [...rows];
  out[4] = 'x';
  out[19] = out[19].replace(/,0,/, ',300,');
  out[20] = `${out[20]},7`;
  out[41] = '';
  out[63] = `12${out[63].slice(out[63].indexOf(','))}`; // a label out of range (a valid pixel when unlabeled)
  out[99] = out[99].slice(0, 40);
  return out;
}

const unlabeled = (rows: string[]) => rows.map((row) => row.slice(row.indexOf(',') + 1));

const inputs: Record<string, string[]> = {
  'labeled, no header': lines,
  'with a header': [header, ...lines],
  unlabeled: unlabeled(lines),
  'labeled, bad rows': withBadRows(lines),
  'header, bad rows': [header, ...withBadRows(lines)],
  'unlabeled, bad rows': withBadRows(unlabeled(lines)),
};

const path = (name: string) => join(dir, `${name.replace(/\W+/g, '-')}.csv`);
for (const [name, rows] of Object.entries(inputs)) writeFileSync(path(name), `${rows.join('\n')}\n`);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** The report without what may differ between two runs of the same work, and without where it ran. */
function comparable(report: Record<string, unknown>): Record<string, unknown> {
  const {
    imagesPerSecond,
    imagesPerSecondAfterFirstResult,
    timeToFirstResultMs,
    batchLatencyMs,
    computeLatencyMs,
    perImageLatencyMs,
    peakRssBytes,
    startedAt,
    finishedAt,
    durationMs,
    environment,
    partial,
    ...rest
  } = report;
  const input = { ...(report.input as Record<string, unknown>) };
  delete input.decode;
  const config = { ...(report.config as Record<string, unknown>) };
  delete config.decode;
  delete config.report;
  delete config.predictions;
  return { ...rest, input, config, partial: comparablePartial(partial as Record<string, unknown>) };
}

/** The mergeable state without its timings, latency histograms and file names: the counts must agree. */
function comparablePartial(partial: Record<string, unknown>): Record<string, unknown> {
  const { startedAtMs, finishedAtMs, peakRssBytes, predictions, stats, ...rest } = partial;
  const { batchLatency, computeLatency, ...counts } = stats as Record<string, unknown>;
  return { ...rest, stats: counts, predictionRows: (predictions as { rows: number } | null)?.rows ?? null };
}

async function run(input: string, decode: 'main' | 'workers', extra: string[]) {
  const tag = `${input.replace(/\W+/g, '')}-${decode}-${extra.join('').replace(/\W+/g, '')}`;
  const report = join(dir, `report-${tag}.json`);
  const predictions = join(dir, `predictions-${tag}.csv`);
  const result = await runPipeline([
    '--input',
    input,
    '--model',
    await modelReady,
    '--quiet',
    '--kernel',
    'js',
    '--threads',
    '2',
    '--batch-size',
    '7',
    '--decode',
    decode,
    '--report',
    report,
    '--predictions',
    predictions,
    ...extra,
  ]);
  return {
    code: result.code,
    stderr: result.stderr,
    report: JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>,
    predictions: existsSync(predictions) ? readFileSync(predictions, 'utf8') : null,
  };
}

const cases: Array<[input: string, onError: 'fail' | 'skip', extra: string[]]> = [
  ['labeled, no header', 'fail', []],
  ['with a header', 'fail', []],
  ['unlabeled', 'fail', []],
  ['labeled, no header', 'fail', ['--limit', '37']],
  ['labeled, bad rows', 'fail', []],
  ['labeled, bad rows', 'skip', []],
  ['header, bad rows', 'skip', []],
  ['unlabeled, bad rows', 'skip', []],
  // JSON Lines with the output vectors: workers send each batch's probabilities back with it.
  ['with a header', 'fail', ['--predictions-format', 'jsonl', '--probabilities']],
  ['header, bad rows', 'skip', ['--predictions-format', 'jsonl', '--probabilities']],
];

for (const [input, onError, extra] of cases) {
  test(`${input}, --on-error ${onError} ${extra.join(' ')}: --decode main and workers agree`, async (t) => {
    const args = ['--on-error', onError, ...extra];
    const [main, workers] = await Promise.all([run(path(input), 'main', args), run(path(input), 'workers', args)]);
    t.is(workers.code, main.code, workers.stderr);
    t.is((main.report.input as { decode: string }).decode, 'main');
    t.is((workers.report.input as { decode: string }).decode, 'workers');
    t.deepEqual(comparable(workers.report), comparable(main.report));
    t.is(workers.predictions, main.predictions);
    if (input.includes('bad rows')) {
      if (onError === 'skip') t.is(main.report.skipped, input.startsWith('unlabeled') ? 4 : 5);
      else {
        t.is(main.code, 1);
        t.regex((main.report.error as { message: string }).message, /:\d+: expected 78[45] fields, found 1$/);
      }
    } else {
      t.is(main.code, 0, main.stderr);
      t.is(main.report.rows, extra.includes('--limit') ? 37 : 100);
    }
    if (extra.includes('--probabilities'))
      t.is((JSON.parse(main.predictions!.split('\n')[0]) as { probabilities: number[] }).probabilities.length, 10);
  });
}

test('--limit under --on-error skip counts good rows, decoded in the workers: exact batches of good rows', async (t) => {
  const result = await run(path('labeled, bad rows'), 'workers', ['--on-error', 'skip', '--limit', '10']);
  t.is(result.code, 0, result.stderr);
  t.is(result.report.rows, 10);
  t.is(result.report.batches, 2);
  t.is((result.report.input as { decode: string }).decode, 'workers');
});
