// Preparing the MNIST CSVs into a temp folder: exact bytes (sizes, pinned sha256), the first labels,
// a full round trip through csvRows, idempotence, `force`, and atomicity (temp files, replacing a
// wrong file, a failure half-way, two writers at once).
import test from 'ava';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { csvRows } from '../../src/data/csv-source.js';
import {
  MNIST_SOURCES,
  mnistCsvPath,
  mnistSourceDir,
  prepareMnistCsv,
  type PrepareProgress,
} from '../../src/data/mnist.js';
import { parseIdxImages, parseIdxLabels } from '../../src/data/mnist-idx.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from './helpers.js';

// Computed once from the written files and cross-checked against an independent Python conversion
// (','.join(str(b) for b in ...) over the IDX bytes); pinned here.
const SHA256 = {
  test: '51c292478d94ec3a01461bdfa82eb0885d262eb09e615679b2d69dedb6ad09e7',
  train: 'fb60bc58af4dac3554e394af262b3184479833d3cc540ff8783f274b73492d5d',
};

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir('nnpipe-mnist-')));
test.after.always(() => cleanup());

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function firstLabels(path: string, n = 10): Promise<number[]> {
  const head = (await readFile(path)).subarray(0, 64 * 1024).toString('latin1');
  return head
    .split('\n')
    .slice(0, n)
    .map((line) => Number(line.split(',')[0]));
}

const leftovers = async (folder: string) => (await readdir(folder)).filter((name) => name.includes('.tmp'));

test('mnistCsvPath: data/mnist_SPLIT.csv by default, or in the given folder', (t) => {
  t.is(mnistCsvPath('test'), resolve(repoRoot, 'data/mnist_test.csv'));
  t.is(mnistCsvPath('train'), resolve(repoRoot, 'data/mnist_train.csv'));
  t.is(mnistCsvPath('test', '/x/y'), resolve('/x/y/mnist_test.csv'));
});

test.serial('test split: exact size and bytes, first labels, progress, no temp files', async (t) => {
  const progress: PrepareProgress[] = [];
  const started = performance.now();
  const result = await prepareMnistCsv('test', { dir, onProgress: (p) => progress.push(p) });
  t.log(`mnist_test.csv written in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  t.deepEqual(result, { path: join(dir, 'mnist_test.csv'), created: true, bytes: 18_289_443 });
  t.is((await stat(result.path)).size, 18_289_443);
  t.is(await sha256(result.path), SHA256.test);
  t.deepEqual(await firstLabels(result.path), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  t.deepEqual(progress[0], { split: 'test', rowsDone: 0, rowsTotal: 10_000 });
  t.deepEqual(progress.at(-1), { split: 'test', rowsDone: 10_000, rowsTotal: 10_000 });
  t.true(progress.every((p, i) => i === 0 || p.rowsDone > progress[i - 1].rowsDone));
  t.deepEqual(await leftovers(dir), []);
});

test.serial('train split: exact size and bytes, first labels', async (t) => {
  const started = performance.now();
  const result = await prepareMnistCsv('train', { dir });
  t.log(`mnist_train.csv written in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  t.deepEqual(result, { path: join(dir, 'mnist_train.csv'), created: true, bytes: 109_575_994 });
  t.is(await sha256(result.path), SHA256.train);
  t.deepEqual(await firstLabels(result.path), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  t.deepEqual(await leftovers(dir), []);
});

test.serial('round trip: csvRows over the test CSV gives back every IDX label and pixel', async (t) => {
  const source = mnistSourceDir();
  const images = parseIdxImages(await readFile(join(source, MNIST_SOURCES.test.images)));
  const labels = parseIdxLabels(await readFile(join(source, MNIST_SOURCES.test.labels)));
  let i = 0;
  let mismatches = 0;
  for await (const row of csvRows({ input: mnistCsvPath('test', dir), features: 784, classes: 10, onError: 'fail' })) {
    if (
      row.line !== i + 1 ||
      row.label !== labels.labels[i] ||
      !Buffer.from(row.pixels).equals(images.pixels.subarray(i * 784, (i + 1) * 784))
    )
      mismatches++;
    i++;
  }
  t.is(i, 10_000);
  t.is(mismatches, 0);
});

test.serial('idempotent: a second call leaves the file alone (created false, mtime unchanged)', async (t) => {
  const path = mnistCsvPath('test', dir);
  const before = await stat(path);
  const progress: PrepareProgress[] = [];
  const result = await prepareMnistCsv('test', { dir, onProgress: (p) => progress.push(p) });
  t.deepEqual(result, { path, created: false, bytes: 18_289_443 });
  t.is((await stat(path)).mtimeMs, before.mtimeMs);
  t.is((await stat(path)).ino, before.ino);
  t.deepEqual(progress, []);
});

test.serial('force rewrites it (a new file, same bytes)', async (t) => {
  const path = mnistCsvPath('test', dir);
  const before = await stat(path);
  const result = await prepareMnistCsv('test', { dir, force: true });
  t.true(result.created);
  t.not((await stat(path)).ino, before.ino); // renamed into place, not written over
  t.is(await sha256(path), SHA256.test);
  t.deepEqual(await leftovers(dir), []);
});

test('a file of the wrong size is replaced', async (t) => {
  const { dir: folder, cleanup: done } = await tempDir('nnpipe-mnist-');
  try {
    const path = mnistCsvPath('test', folder);
    await writeFile(path, '7,0,0\n'); // truncated / foreign
    const result = await prepareMnistCsv('test', { dir: folder });
    t.true(result.created);
    t.is(await sha256(path), SHA256.test);
    t.deepEqual(await leftovers(folder), []);
  } finally {
    await done();
  }
});

test('a failure half-way leaves the old file untouched and no temp file behind', async (t) => {
  const { dir: folder, cleanup: done } = await tempDir('nnpipe-mnist-');
  try {
    const path = mnistCsvPath('test', folder);
    await writeFile(path, 'old contents\n');
    const error = await t.throwsAsync(
      prepareMnistCsv('test', {
        dir: folder,
        onProgress: (p) => {
          if (p.rowsDone >= 5000) throw new Error('interrupted');
        },
      }),
    );
    t.is(error?.message, 'interrupted');
    t.is(await readFile(path, 'utf8'), 'old contents\n');
    t.deepEqual(await leftovers(folder), []);
  } finally {
    await done();
  }
});

test('two writers at once: both succeed and the file is whole', async (t) => {
  const { dir: folder, cleanup: done } = await tempDir('nnpipe-mnist-');
  try {
    const results = await Promise.all([
      prepareMnistCsv('test', { dir: folder, force: true }),
      prepareMnistCsv('test', { dir: folder, force: true }),
    ]);
    t.true(results.every((r) => r.created));
    t.is(await sha256(mnistCsvPath('test', folder)), SHA256.test);
    t.deepEqual(await leftovers(folder), []);
  } finally {
    await done();
  }
});

test('creates missing folders; a folder that cannot exist is an error, not a hang', async (t) => {
  const { dir: folder, cleanup: done } = await tempDir('nnpipe-mnist-');
  try {
    const nested = join(folder, 'a', 'b');
    t.true((await prepareMnistCsv('test', { dir: nested })).created);
    await writeFile(join(folder, 'plain-file'), '');
    await t.throwsAsync(prepareMnistCsv('test', { dir: join(folder, 'plain-file', 'sub') }), { code: 'ENOTDIR' });
    // Node's own mkdir({ recursive: true }) spins forever on this one.
    await symlink(join(folder, 'nowhere'), join(folder, 'dangling'));
    await t.throwsAsync(prepareMnistCsv('test', { dir: join(folder, 'dangling', 'sub') }), { code: 'ENOENT' });
  } finally {
    await done();
  }
});
