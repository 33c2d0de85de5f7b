// Issue 17 item 6: what every run tells on stderr besides its logs ("wrote FILE" for every output file,
// unless --quiet) and the log format it is asked for (--log-format: pretty lines even off a terminal,
// JSON lines even on one; auto = by the terminal).
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-conventions-'));
const input = fixture('mnist-test-100.csv');

test('a run says "wrote FILE" on stderr for each output file it wrote', async (t) => {
  const [report, predictions, history] = ['r.json', 'p.csv', 'h.jsonl'].map((name) => join(dir, `wrote-${name}`));
  const run = await runPipeline([
    '--input',
    input,
    '--report',
    report,
    '--predictions',
    predictions,
    '--history',
    history,
  ]);
  t.is(run.code, 0, run.stderr);
  for (const file of [report, predictions]) t.true(run.stderr.includes(`nnpipe: wrote ${file}\n`), run.stderr);
  t.true(run.stderr.includes(`nnpipe: wrote ${history} (one line appended)\n`), run.stderr);
});

test('--quiet leaves out the "wrote FILE" notes', async (t) => {
  const run = await runPipeline(['--input', input, '--report', join(dir, 'quiet.json'), '--quiet']);
  t.is(run.code, 0, run.stderr);
  t.notRegex(run.stderr, /wrote/);
});

test('--log-format pretty writes readable log lines even when stderr is not a terminal', async (t) => {
  const run = await runPipeline(['--input', input, '--log-format', 'pretty']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /INFO.*scoring/);
  t.false(
    run.stderr.split('\n').some((line) => line.startsWith('{')),
    run.stderr,
  );
});

test('off a terminal the log lines are JSON (--log-format auto, the default)', async (t) => {
  const run = await runPipeline(['--input', input]);
  t.is(run.code, 0, run.stderr);
  const scoring = run.stderr.split('\n').find((line) => line.includes('"msg":"scoring"'));
  t.truthy(scoring, run.stderr);
  t.like(JSON.parse(scoring!), { level: 30, msg: 'scoring' });
});

test('--log-format takes auto, pretty or json only (exit 2)', async (t) => {
  const run = await runPipeline(['--input', input, '--log-format', 'xml']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^nnpipe: .*--log-format.*Allowed choices are auto, pretty, json/);
});

test("the report's config records --decode as given: auto by default", async (t) => {
  const run = await runPipeline(['--input', input, '--json', '--quiet']);
  t.is(run.code, 0, run.stderr);
  t.is((JSON.parse(run.stdout) as { config: { decode: string } }).config.decode, 'auto');
});
