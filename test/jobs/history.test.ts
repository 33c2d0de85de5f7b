// The run history: one JSON line per run, appended without ever damaging earlier lines (kill -9 in the
// middle of a run, a write cut short), repaired on the next append, and shown by `npm run history`.
import test from 'ava';
import { appendFileSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { appendHistoryLine, checkHistoryFile, NotAHistoryError, readHistory } from '../../src/jobs/history-file.js';
import { buildRunRecord, type RunRecord } from '../../src/jobs/run-record.js';
import { runNode, cliEntry, pipelineEntry } from '../helpers/cli.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { logLines, removeTempDirs, sleep, start, tempDir, testCsv, trainCsv } from './helpers.js';

test.after.always(removeTempDirs);

const input = fixture('mnist-test-100.csv');

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  const base = buildRunRecord({
    startedAt: new Date('2025-01-01T00:00:00Z'),
    finishedAt: new Date('2025-01-01T00:00:02Z'),
    exitCode: 0,
    report: null,
    error: null,
    signal: null,
    minAccuracy: null,
    modelPath: '/models/m.safetensors',
    inputPath: '/data/in.csv',
    reportPath: null,
  });
  return {
    ...base,
    status: 'complete',
    rows: 10000,
    accuracy: 0.98,
    imagesPerSecond: 1000,
    batchP99Ms: 12.5,
    model: { path: '/m', sha256: 'a'.repeat(64) },
    ...overrides,
  };
}

test('appends one line per record and reads them back', (t) => {
  const path = join(tempDir(), 'history.jsonl');
  t.is(appendHistoryLine(path, record()), null);
  t.is(appendHistoryLine(path, record({ rows: 5 })), null);
  const text = readFileSync(path, 'utf8');
  t.is(text.split('\n').length, 3);
  t.true(text.endsWith('\n'));
  const { records, problems, tornTail } = readHistory(path);
  t.deepEqual(
    records.map((r) => [r.line, r.rows]),
    [
      [1, 10000],
      [2, 5],
    ],
  );
  t.deepEqual(problems, []);
  t.is(tornTail, null);
});

test('a torn last line is reported by readers and cut off by the next append; earlier lines stay byte for byte', (t) => {
  const path = join(tempDir(), 'history.jsonl');
  appendHistoryLine(path, record());
  appendHistoryLine(path, record({ rows: 2 }));
  const before = readFileSync(path, 'utf8');
  const half = JSON.stringify(record({ rows: 3 })).slice(0, 57);
  appendFileSync(path, half);
  const torn = readHistory(path);
  t.is(torn.records.length, 2);
  t.deepEqual(torn.tornTail, { line: 3, bytes: 57 });
  const repair = appendHistoryLine(path, record({ rows: 4 }));
  t.like(repair, { action: 'truncated', bytes: 57 });
  const after = readFileSync(path, 'utf8');
  t.true(after.startsWith(before));
  t.deepEqual(
    readHistory(path).records.map((r) => r.rows),
    [10000, 2, 4],
  );
});

test('a whole record that only lacks its newline is kept', (t) => {
  const path = join(tempDir(), 'history.jsonl');
  writeFileSync(path, JSON.stringify(record({ rows: 1 })));
  t.like(appendHistoryLine(path, record({ rows: 2 })), { action: 'completed' });
  t.deepEqual(
    readHistory(path).records.map((r) => r.rows),
    [1, 2],
  );
});

test('a torn tail with no complete line before it leaves an empty file before the append', (t) => {
  const path = join(tempDir(), 'history.jsonl');
  writeFileSync(path, '{"schema":1,"sta');
  t.like(appendHistoryLine(path, record()), { action: 'truncated', bytes: 16 });
  t.is(readHistory(path).records.length, 1);
});

// Issue 12, row 6: the torn-line repair cut off the only line of a file that never was a history.
test('a file that is not a history is refused as it is (NotAHistoryError, exit 2), torn last line or not', (t) => {
  const dir = tempDir();
  const cases: Record<string, string> = {
    'notes.txt': 'remember the milk',
    'two-lines.txt': 'first line\nsecond line',
    'ends-well.txt': 'a line\n',
    'json-lines.jsonl': '{"a":1}\n{"b":2',
    'first-is-a-record.jsonl': `${JSON.stringify(record())}\nnot a record\n`,
    'last-is-not.jsonl': `${JSON.stringify(record())}\n${JSON.stringify(record())}\n{"x":1}\n`,
    'huge-first-line.txt': 'x'.repeat(100_000),
    'record-start-inside.txt': 'x{"schema":1',
  };
  for (const [name, text] of Object.entries(cases)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const error = t.throws(() => appendHistoryLine(path, record()), { instanceOf: NotAHistoryError }, name);
    t.is(error?.exitCode, 2);
    t.regex(error?.message ?? '', /is not a run history \(.*\); refusing to append to it/);
    t.is(readFileSync(path, 'utf8'), text, `${name} unchanged`);
    t.throws(() => checkHistoryFile(path), { instanceOf: NotAHistoryError });
  }
  // What a history can look like: empty, records, records and a torn last one, a first record torn.
  const torn = JSON.stringify(record()).slice(0, 30);
  for (const text of [
    '',
    `${JSON.stringify(record())}\n`,
    `${JSON.stringify(record())}\n${torn}`,
    torn,
    '{',
    '{"schema":1',
  ]) {
    const path = join(dir, `ok-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(path, text);
    t.notThrows(() => checkHistoryFile(path), JSON.stringify(text));
    appendHistoryLine(path, record({ rows: 42 }));
    t.is(readHistory(path).records.at(-1)?.rows, 42);
  }
});

test(
  'row 6 through the CLI: --history naming a file that is not a history is exit 2 before the run, the file ' +
    'unchanged',
  async (t) => {
    const dir = tempDir();
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'my only line, no newline');
    const run = await runNode(pipelineEntry(), ['--input', input, '--history', notes, '--quiet']);
    t.is(run.code, 2, run.stderr);
    t.regex(
      run.stderr,
      /^nnpipe: --history .*notes\.txt is not a run history \(its first line is not a run record\); refusing to append to it/,
    );
    t.is(readFileSync(notes, 'utf8'), 'my only line, no newline');
    t.deepEqual(readdirSync(dir), ['notes.txt'], 'no lock, nothing else');
  },
);

test('readers skip lines that are not run records and say which', (t) => {
  const path = join(tempDir(), 'history.jsonl');
  writeFileSync(
    path,
    `${JSON.stringify(record())}\nnot json\n{"schema":1}\n\n${JSON.stringify(record({ rows: 7 }))}\n`,
  );
  const { records, problems } = readHistory(path);
  t.deepEqual(
    records.map((r) => r.line),
    [1, 5],
  );
  t.deepEqual(
    problems.map((p) => p.line),
    [2, 3],
  );
  t.regex(problems[0].message, /not JSON/);
  t.regex(problems[1].message, /not a run record/);
});

// Issue 17: `npm run history -- some.csv` printed 10,000 "skipped: not JSON" lines and exited 0.
test('history on a file that is not a history: refused with exit 2 and one line, by the rule --history applies', async (t) => {
  const dir = tempDir();
  const csv = join(dir, 'some.csv');
  writeFileSync(csv, `${Array.from({ length: 10_000 }, (_, i) => `${i % 10},0,0,0`).join('\n')}\n`);
  const run = await runNode(cliEntry('history'), [csv]);
  t.is(run.code, 2, run.stderr);
  t.is(run.stdout, '');
  t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  t.regex(
    run.stderr,
    /^nnpipe history: .*some\.csv is not a run history \(line 1 is not JSON \(.*\)\); give a file written by --history\n$/,
  );
  // The same rule for --json, a file whose last line is not a record, and a pipe's contents.
  t.is((await runNode(cliEntry('history'), [csv, '--json'])).code, 2);
  const tail = join(dir, 'tail.jsonl');
  writeFileSync(tail, `${JSON.stringify(record())}\nnot a record\n`);
  const error = t.throws(() => readHistory(tail), { instanceOf: NotAHistoryError });
  t.is(error?.problem, 'its last complete line is not a run record');
  // A shell pipe is a FIFO (node's own child stdin is a socket): read first, then judged the same way.
  const piped = spawnSync('sh', ['-c', `echo hello | "${process.execPath}" "${cliEntry('history')}" /dev/stdin`], {
    encoding: 'utf8',
  });
  t.is(piped.status, 2, piped.stderr);
  t.regex(piped.stderr, /is not a run history \(line 1 is not JSON \(/);
});

test('history lists the first 10 lines that are not run records and counts the rest', async (t) => {
  const path = join(tempDir(), 'history.jsonl');
  const good = JSON.stringify(record());
  writeFileSync(path, `${good}\n${Array.from({ length: 25 }, (_, i) => `garbage ${i}`).join('\n')}\n${good}\n`);
  const run = await runNode(cliEntry('history'), [path]);
  t.is(run.code, 0, run.stderr);
  const lines = run.stderr.trim().split('\n');
  t.is(lines.length, 11, run.stderr);
  t.regex(lines[0], /history\.jsonl:2: skipped: not JSON/);
  t.regex(lines[9], /history\.jsonl:11: skipped: not JSON/);
  t.regex(lines[10], /history\.jsonl: skipped 15 more lines that are not run records$/);
  t.regex(run.stdout, /: 2 runs/);
});

test.serial(
  'kill -9 in the middle of a run: earlier lines intact, the file parses, the stale lock is taken over and the torn ' +
    'tail repaired',
  async (t) => {
    const dir = tempDir();
    const history = join(dir, 'history.jsonl');
    const report = join(dir, 'latest.json');
    // --lock-stale 5000: the lock is refreshed every 2.5 s, so right after the kill it is surely still fresh.
    const quick = ['--input', input, '--quiet', '--report', report, '--history', history, '--lock-stale', '5000'];
    for (let i = 0; i < 2; i++) t.is((await runNode(pipelineEntry(), quick)).code, 0);
    const before = readFileSync(history);

    const long = start('pipeline', [
      '--input',
      trainCsv,
      '--report',
      report,
      '--history',
      history,
      '--lock-stale',
      '5000',
    ]);
    await long.waitFor(/"msg":"scoring"/);
    await sleep(300);
    long.child.kill('SIGKILL');
    const killed = await long.exited;
    const killedAt = Date.now();
    t.is(killed.signal, 'SIGKILL');
    t.deepEqual(readFileSync(history), before, 'earlier lines intact, nothing added');
    t.is(readHistory(history).records.length, 2);

    // The dead run's lock is still there, fresh for up to --lock-stale: a run right now is refused, and says the holder
    // is gone.
    const refused = await runNode(pipelineEntry(), quick);
    t.is(refused.code, 75, refused.stderr);
    t.regex(refused.stderr, new RegExp(`pid ${long.child.pid}, since .*that process is gone`));

    // A write cut short (simulated): half a line at the end.
    appendFileSync(history, JSON.stringify(record()).slice(0, 40));
    const shown = await runNode(cliEntry('history'), [history]);
    t.is(shown.code, 0);
    t.regex(shown.stdout, /: 2 runs/);
    t.regex(shown.stderr, /history\.jsonl:3: skipped an incomplete last line \(40 bytes/);

    // The lock is stale by now (+1.5 s: proper-lockfile may keep mtimes at whole seconds, rounded up).
    await sleep(Math.max(0, killedAt + 6500 - Date.now()));
    const next = await runNode(pipelineEntry(), quick);
    t.is(next.code, 0, next.stderr);
    const repaired = logLines(next.stderr).find((l) => typeof l.msg === 'string' && l.msg.includes('incomplete line'));
    t.like(repaired, { level: 40, action: 'truncated', bytes: 40 });
    const after = readHistory(history);
    t.is(after.tornTail, null);
    t.deepEqual(after.problems, []);
    t.deepEqual(
      after.records.map((r) => r.status),
      ['complete', 'complete', 'complete'],
    );
    t.true(readFileSync(history).subarray(0, before.length).equals(before));
  },
);

test('a run that fails before scoring and a run below --min-accuracy are recorded too', async (t) => {
  const dir = tempDir();
  const history = join(dir, 'history.jsonl');
  const missing = await runNode(pipelineEntry(), ['--input', join(dir, 'nope.csv'), '--quiet', '--history', history]);
  t.is(missing.code, 1);
  const below = await runNode(pipelineEntry(), [
    '--input',
    testCsv,
    '--limit',
    '500',
    '--quiet',
    '--history',
    history,
    '--min-accuracy',
    '0.999',
  ]);
  t.is(below.code, 3);
  const [failed, refused] = readHistory(history).records;
  t.like(failed, {
    status: 'failed',
    exitCode: 1,
    rows: 0,
    error: { code: 'PIPE_ERR_INPUT' },
    input: { path: join(dir, 'nope.csv') },
  });
  t.like(refused, {
    status: 'complete',
    exitCode: 3,
    rows: 500,
    minAccuracy: 0.999,
    error: { code: 'PIPE_ERR_MIN_ACCURACY' },
  });
  t.regex(refused.error!.message, /accuracy 0\.\d+ is below --min-accuracy 0\.999/);
  t.is(refused.model.sha256?.length, 64);
  t.is(refused.input.bytes, readFileSync(testCsv).length);
  t.true(refused.imagesPerSecond! > 0);
  t.true(refused.batchP99Ms! > 0);
});

test('--history naming the input or the model file is refused before anything touches it', async (t) => {
  const dir = tempDir();
  const copy = join(dir, 'input.csv');
  copyFileSync(input, copy);
  const run = await runNode(pipelineEntry(), ['--input', copy, '--history', copy]);
  t.is(run.code, 2);
  t.regex(
    run.stderr,
    /--history .*input\.csv is the same file as --input .*input\.csv; refusing to overwrite the input/,
  );
  t.deepEqual(readFileSync(copy), readFileSync(input));
  t.deepEqual(readdirSync(dir), ['input.csv'], 'no lock, no history line');
  const model = join(dir, 'model.safetensors');
  copyFileSync(join(repoRoot, 'data/models/default.safetensors'), model);
  const onModel = await runNode(pipelineEntry(), ['--input', copy, '--model', model, '--history', model]);
  t.is(onModel.code, 2);
  t.regex(onModel.stderr, /is the same file as --model .*; refusing to overwrite the model/);
  t.deepEqual(readFileSync(model), readFileSync(join(repoRoot, 'data/models/default.safetensors')));
});

// ---- the history command ----

function sampleHistory(): string {
  const path = join(tempDir(), 'history.jsonl');
  const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
  appendHistoryLine(path, record({ startedAt: at(0), accuracy: 0.98, imagesPerSecond: 1000 }));
  appendHistoryLine(path, record({ startedAt: at(15), accuracy: 0.985, imagesPerSecond: 900 }));
  appendHistoryLine(
    path,
    record({
      startedAt: at(30),
      status: 'failed',
      exitCode: 1,
      rows: 0,
      accuracy: null,
      imagesPerSecond: null,
      batchP99Ms: null,
      model: { path: '/m', sha256: null },
      error: { code: 'PIPE_ERR_INPUT', message: 'in.csv: no such file' },
    }),
  );
  appendHistoryLine(
    path,
    record({ startedAt: at(45), accuracy: 0.985, imagesPerSecond: 990, model: { path: '/m', sha256: 'b'.repeat(64) } }),
  );
  return path;
}

test('history prints a table with trends against the previous run', async (t) => {
  const path = sampleHistory();
  const run = await runNode(cliEntry('history'), [path]);
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '');
  const lines = run.stdout.trimEnd().split('\n');
  t.regex(lines[0], /history\.jsonl: 4 runs$/);
  t.regex(
    lines[2],
    /^line\s+started \(UTC\)\s+status\s+exit\s+rows\s+accuracy\s+images\/s\s+p99 ms\s+took\s+model\s+note$/,
  );
  t.regex(
    lines[3],
    /^\s*1\s+2025-01-01 00:00:00Z\s+complete\s+0\s+10,000\s+98\.00%\s+1,000\s+12\.5\s+2\.0 s\s+aaaaaaaa$/,
  );
  t.regex(lines[4], /98\.50% ▲ \+0\.50 pp\s+900 ▼ -10\.0%/);
  t.regex(lines[5], /failed\s+1\s+0\s+—\s+—\s+—.*in\.csv: no such file$/);
  // Compared with the last run that had the figure (run 2), not with the failed one.
  t.regex(lines[6], /98\.50% =\s+990 ▲ \+10\.0%.*bbbbbbbb\*/);
  t.regex(run.stdout, /\* the model file changed since the previous run/);
});

test('history --json and --last', async (t) => {
  const path = sampleHistory();
  const run = await runNode(cliEntry('history'), [path, '--json', '--last', '2']);
  t.is(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  t.is(doc.total, 4);
  t.is(doc.runs.length, 2);
  t.deepEqual(
    doc.runs.map((r: { line: number }) => r.line),
    [3, 4],
  );
  t.like(doc.runs[0], { status: 'failed', trend: { accuracyDelta: null, imagesPerSecondChange: null } });
  t.like(doc.runs[1], { trend: { accuracyDelta: 0, imagesPerSecondDelta: 90, modelChanged: true } });
  t.true(Math.abs(doc.runs[1].trend.imagesPerSecondChange - 0.1) < 1e-12);
  t.is(doc.tornTail, null);
  t.deepEqual(doc.problems, []);
});

test('history: a missing file is exit 1, a bad option exit 2, an empty file no runs', async (t) => {
  const dir = tempDir();
  const missing = await runNode(cliEntry('history'), [join(dir, 'none.jsonl')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /none\.jsonl: no such file/);
  const bad = await runNode(cliEntry('history'), [join(dir, 'none.jsonl'), '--last', '0']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--last must be a positive integer/);
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const empty = await runNode(cliEntry('history'), [join(dir, 'empty.jsonl')]);
  t.is(empty.code, 0);
  t.regex(empty.stdout, /no runs recorded/);
});

test(
  'history: a device that never ends (/dev/zero) or a directory is refused at once (exit 1), not read until ' +
    'memory runs out',
  async (t) => {
    for (const [path, message] of [
      ['/dev/zero', /^nnpipe history: \/dev\/zero: is not a file/],
      [tempDir(), /^nnpipe history: .*: is a directory/],
    ] as const) {
      const run = await runNode(cliEntry('history'), [path], { timeoutMs: 20_000 });
      t.is(run.code, 1, run.stderr);
      t.regex(run.stderr, message);
    }
  },
);
