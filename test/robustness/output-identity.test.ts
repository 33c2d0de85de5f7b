// Outputs are checked by what they are, not how they are spelled (issue 12, rows 1-4): an output that
// reaches the input, the model or another output through a symlink, a hard link or stdin's redirection
// is refused before anything starts (exit 2, both options named, nothing created), and a run that
// reaches a locked output through a symlink finds the lock.
import test from 'ava';
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineEntry, runPipeline, type CliRun } from '../helpers/cli.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { heldOpenInput, start, until } from '../jobs/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nnpipe-identity-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A fresh folder with in.csv (4 rows) and m.safetensors (the default model). */
function prepare(): { dir: string; input: string; model: string; inputBytes: Buffer; modelBytes: Buffer } {
  const dir = join(root, String(++count));
  mkdirSync(dir);
  const input = join(dir, 'in.csv');
  const model = join(dir, 'm.safetensors');
  writeFileSync(input, `${readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').slice(0, 4).join('\n')}\n`);
  copyFileSync(join(repoRoot, 'data/models/default.safetensors'), model);
  return { dir, input, model, inputBytes: readFileSync(input), modelBytes: readFileSync(model) };
}

/** The refusal every case expects: exit 2, a `nnpipe:` line naming both options, and no file touched or created. */
function assertRefused(
  t: import('ava').ExecutionContext,
  run: CliRun,
  pattern: RegExp,
  w: ReturnType<typeof prepare>,
  entries: string[],
): void {
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^nnpipe: /);
  t.regex(run.stderr, pattern);
  t.deepEqual(readFileSync(w.input), w.inputBytes, 'the input is intact');
  t.deepEqual(readFileSync(w.model), w.modelBytes, 'the model is intact');
  t.deepEqual(readdirSync(w.dir).sort(), entries.sort(), 'no lock, no temp file, no history line');
}

for (const option of ['--report', '--html', '--history', '--predictions']) {
  test(`row 1: ${option} through a symlink to the input is refused (exit 2) and the input is intact`, async (t) => {
    const w = prepare();
    symlinkSync('in.csv', join(w.dir, 'L'));
    const run = await runPipeline(['--input', w.input, '--model', w.model, option, join(w.dir, 'L'), '--quiet']);
    assertRefused(
      t,
      run,
      new RegExp(`${option} .*L is the same file as --input .*in\\.csv; refusing to overwrite the input`),
      w,
      ['in.csv', 'm.safetensors', 'L'],
    );
  });
}

test('row 2: the input through a symlink, the report naming the input itself: refused', async (t) => {
  const w = prepare();
  symlinkSync('in.csv', join(w.dir, 'L'));
  const run = await runPipeline(['--input', join(w.dir, 'L'), '--model', w.model, '--report', w.input, '--quiet']);
  assertRefused(t, run, /--report .*in\.csv is the same file as --input .*L; refusing to overwrite the input/, w, [
    'in.csv',
    'm.safetensors',
    'L',
  ]);
});

test('row 3: the report through a symlink to the model: refused, the model intact', async (t) => {
  const w = prepare();
  symlinkSync('m.safetensors', join(w.dir, 'ML'));
  const run = await runPipeline(['--input', w.input, '--model', w.model, '--report', join(w.dir, 'ML'), '--quiet']);
  assertRefused(
    t,
    run,
    /--report .*ML is the same file as --model .*m\.safetensors; refusing to overwrite the model/,
    w,
    ['in.csv', 'm.safetensors', 'ML'],
  );
});

test('a hard link to the input, a chain of symlinks, a symlinked folder and `..`: all seen through', async (t) => {
  const w = prepare();
  linkSync(w.input, join(w.dir, 'hard.csv'));
  symlinkSync('hop2', join(w.dir, 'hop1'));
  symlinkSync('hop3', join(w.dir, 'hop2'));
  symlinkSync('m.safetensors', join(w.dir, 'hop3'));
  mkdirSync(join(w.dir, 'sub'));
  symlinkSync('.', join(w.dir, 'same'));
  const entries = ['in.csv', 'm.safetensors', 'hard.csv', 'hop1', 'hop2', 'hop3', 'sub', 'same'];
  for (const [option, path, what] of [
    ['--predictions', join(w.dir, 'hard.csv'), 'input'],
    ['--html', join(w.dir, 'hop1'), 'model'],
    ['--report', join(w.dir, 'same', 'same', 'in.csv'), 'input'],
    ['--history', join(w.dir, 'sub', '..', 'm.safetensors'), 'model'],
  ] as const) {
    const run = await runPipeline(['--input', w.input, '--model', w.model, option, path, '--quiet']);
    assertRefused(
      t,
      run,
      new RegExp(`${option} .* is the same file as --${what} .*; refusing to overwrite the ${what}`),
      w,
      entries,
    );
  }
});

test('two outputs that are one file (a symlink, a hard link) are refused, both options named', async (t) => {
  const w = prepare();
  writeFileSync(join(w.dir, 'r.json'), 'old report');
  symlinkSync('r.json', join(w.dir, 'RL'));
  linkSync(join(w.dir, 'r.json'), join(w.dir, 'RH'));
  const entries = ['in.csv', 'm.safetensors', 'r.json', 'RL', 'RH'];
  const viaLink = await runPipeline([
    '--input',
    w.input,
    '--model',
    w.model,
    '--report',
    join(w.dir, 'r.json'),
    '--html',
    join(w.dir, 'RL'),
    '--quiet',
  ]);
  assertRefused(t, viaLink, /--report .*r\.json and --html .*RL are the same file/, w, entries);
  const viaHardLink = await runPipeline([
    '--input',
    w.input,
    '--model',
    w.model,
    '--predictions',
    join(w.dir, 'RH'),
    '--history',
    join(w.dir, 'r.json'),
    '--quiet',
  ]);
  assertRefused(t, viaHardLink, /--predictions .*RH and --history .*r\.json are the same file/, w, entries);
  // A file that does not exist yet, named twice.
  const twice = await runPipeline([
    '--input',
    w.input,
    '--model',
    w.model,
    '--report',
    join(w.dir, 'new.json'),
    '--predictions',
    join(w.dir, 'sub', '..', 'new.json'),
    '--quiet',
  ]);
  t.is(twice.code, 2, twice.stderr);
  t.false(existsSync(join(w.dir, 'new.json')));
  t.is(readFileSync(join(w.dir, 'r.json'), 'utf8'), 'old report');
});

/** The CLI with stdin read from a file (`< path`), as a shell redirection gives it. */
async function runWithStdinFrom(path: string, args: string[]): Promise<CliRun> {
  const fd = openSync(path, 'r');
  try {
    return await new Promise<CliRun>((resolve, reject) => {
      const child = spawn(process.execPath, [pipelineEntry(), ...args], { stdio: [fd, 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  } finally {
    closeSync(fd);
  }
}

test('stdin redirected from the file the report names (--input - < in.csv): refused', async (t) => {
  const w = prepare();
  const run = await runWithStdinFrom(w.input, ['--input', '-', '--model', w.model, '--report', w.input, '--quiet']);
  assertRefused(
    t,
    run,
    /--report .*in\.csv is the same file as --input - \(stdin\); refusing to overwrite the input/,
    w,
    ['in.csv', 'm.safetensors'],
  );
});

test('a symlink to an ordinary output is followed: the file it names is written, the link stays', async (t) => {
  const w = prepare();
  symlinkSync('predictions.csv', join(w.dir, 'PL'));
  writeFileSync(join(w.dir, 'predictions.csv'), 'old\n');
  const run = await runPipeline([
    '--input',
    w.input,
    '--model',
    w.model,
    '--predictions',
    join(w.dir, 'PL'),
    '--quiet',
  ]);
  t.is(run.code, 0, run.stderr);
  t.is(readFileSync(join(w.dir, 'predictions.csv'), 'utf8').split('\n').length, 6, 'header, 4 rows, final newline');
  t.deepEqual(readdirSync(w.dir).sort(), ['PL', 'in.csv', 'm.safetensors', 'predictions.csv']);
});

test.serial(
  'row 4: a run that names a locked report through a symlink finds the lock (exit 75) and writes nothing',
  async (t) => {
    const w = prepare();
    const report = join(w.dir, 'r.json');
    symlinkSync('r.json', join(w.dir, 'RL'));
    // Run A reads an input held open for 4 s, so it holds the lock while B starts, however loaded the machine.
    const held = heldOpenInput(w.dir, fixture('mnist-test-100.csv'), 1, 4000);
    const a = start('pipeline', ['--input', held.path, '--quiet', '--report', report]);
    await until(() => existsSync(`${report}.lock`), 60_000, 'the lock of run A');
    const b = await runPipeline(['--input', w.input, '--model', w.model, '--report', join(w.dir, 'RL'), '--quiet']);
    t.is(b.code, 75, b.stderr);
    t.regex(b.stderr, /^nnpipe: another nnpipe run holds the lock on .*\/r\.json \(pid \d+/);
    const { code } = await a.exited;
    t.is(code, 0, a.stderr());
    t.is(JSON.parse(readFileSync(report, 'utf8')).rows, 100, "run A's report, not B's");
  },
);

test(
  "an output or an input named like another output's lock, lock owner or temp file is refused (the run would " +
    'delete or overwrite it)',
  async (t) => {
    const w = prepare();
    const report = join(w.dir, 'r.json');
    for (const [args, message] of [
      [
        ['--report', report, '--html', `${report}.lock`],
        /--html .*r\.json\.lock has the name of the lock of --report .*r\.json; rename one of them/,
      ],
      [
        ['--report', report, '--predictions', `${report}.lock-owner`],
        /--predictions .*r\.json\.lock-owner has the name of the lock's owner file of --report/,
      ],
      [
        ['--report', report, '--history', `${report}.nnpipe-5-0123456789ab.tmp`],
        /--history .*\.tmp has the name of a temp file of --report/,
      ],
    ] as const) {
      const run = await runPipeline(['--input', w.input, '--model', w.model, ...args, '--quiet']);
      assertRefused(t, run, message, w, ['in.csv', 'm.safetensors']);
    }
    const input = join(w.dir, 'x.json.nnpipe-5-0123456789ab.tmp');
    copyFileSync(w.input, input);
    const run = await runPipeline(['--input', input, '--model', w.model, '--report', join(w.dir, 'x.json'), '--quiet']);
    assertRefused(t, run, /--input .*\.tmp has the name of a temp file of --report .*x\.json/, w, [
      'in.csv',
      'm.safetensors',
      'x.json.nnpipe-5-0123456789ab.tmp',
    ]);
    t.deepEqual(readFileSync(input), w.inputBytes, 'the input that looks like a stale temp file is still there');
  },
);

test("an output that is one of the process's descriptors open for reading (/dev/stdin) is refused", async (t) => {
  const w = prepare();
  const run = await runWithStdinFrom(w.input, [
    '--input',
    w.input,
    '--model',
    w.model,
    '--report',
    '/dev/stdin',
    '--quiet',
  ]);
  assertRefused(t, run, /--report \/dev\/stdin: descriptor 0 is open for reading only/, w, ['in.csv', 'm.safetensors']);
});
