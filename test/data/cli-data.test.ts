// `npm run data` end to end, as a child process: writes, then reports "already there"; usage errors
// exit 2, failures exit 1 with a clear message; no progress bar when stderr is not a terminal.
import test from 'ava';
import { execFile } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from './helpers.js';

// The compiled CLI next to this compiled test (works in dist/ and in any other build folder).
const cli = fileURLToPath(new URL('../../src/cli/data.js', import.meta.url));
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir('nnpipe-cli-data-')));
test.after.always(() => cleanup());

test.serial('--split test writes the CSV, a second run finds it there', async (t) => {
  const first = await run(['--split', 'test', '--dir', dir]);
  t.is(first.code, 0, first.stderr);
  // Paths under the working folder are shown relative to it.
  t.regex(first.stdout, /^wrote mnist_test\.csv \(10,000 rows, 18,289,443 bytes\) in \d+\.\d\d s\n$/);
  t.is(first.stderr, 'converting MNIST test (10,000 rows) to mnist_test.csv\n');
  t.is((await stat(join(dir, 'mnist_test.csv'))).size, 18_289_443);

  const second = await run(['--split', 'test', '--dir', dir]);
  t.is(second.code, 0);
  t.is(second.stdout, 'mnist_test.csv is already there (10,000 rows, 18,289,443 bytes); --force rewrites it\n');
  t.is(second.stderr, '');
});

test('a bad option value or an extra argument is a usage error: exit 2', async (t) => {
  const bad = await run(['--split', 'validation', '--dir', dir]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /argument 'validation' is invalid\. Allowed choices are test, train, all/);
  t.is((await run(['extra'])).code, 2);
});

test('a folder that cannot be written: exit 1 with a message naming the file', async (t) => {
  const blocker = join(dir, 'not-a-folder');
  await writeFile(blocker, '');
  const result = await run(['--split', 'test', '--dir', join(blocker, 'sub')]);
  t.is(result.code, 1);
  t.regex(result.stderr, /^nnpipe data: cannot prepare not-a-folder\/sub\/mnist_test\.csv: ENOTDIR/);
});

test('--help exits 0', async (t) => {
  const result = await run(['--help']);
  t.is(result.code, 0);
  t.regex(result.stdout, /--split <split>/);
});
