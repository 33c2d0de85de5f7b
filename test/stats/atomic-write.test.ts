// writeFileAtomic / writeJsonAtomic: content, folder creation, and failures that leave the old file intact.
import test from 'ava';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineError } from '../../src/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/stats/atomic-write.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-atomic-'));
  dirs.push(dir);
  return dir;
}

test.after.always(async () => {
  for (const dir of dirs) {
    await chmod(dir, 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

test('writes JSON with 2-space indent and a final newline', async (t) => {
  const path = join(await tempDir(), 'report.json');
  await writeJsonAtomic(path, { a: 1, b: [true, null] });
  t.is(await readFile(path, 'utf8'), '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}\n');
});

test('creates the parent folder', async (t) => {
  const path = join(await tempDir(), 'reports', 'nested', 'r.json');
  await writeJsonAtomic(path, { ok: true });
  t.deepEqual(JSON.parse(await readFile(path, 'utf8')), { ok: true });
});

test('replaces an existing file; writes strings and bytes', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'out.txt');
  await writeFile(path, 'old');
  await writeFileAtomic(path, 'new text');
  t.is(await readFile(path, 'utf8'), 'new text');
  const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2, 5);
  await writeFileAtomic(path, bytes);
  t.deepEqual([...(await readFile(path))], [2, 3, 4]);
  t.deepEqual(await readdir(dir), ['out.txt']);
});

test('a value whose toJSON throws: old file intact, no temp files', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'report.json');
  await writeFile(path, '{"old":true}\n');
  const hostile = {
    toJSON() {
      throw new Error('cannot serialise');
    },
  };
  await t.throwsAsync(writeJsonAtomic(path, { report: hostile }), { message: 'cannot serialise' });
  t.is(await readFile(path, 'utf8'), '{"old":true}\n');
  t.deepEqual(await readdir(dir), ['report.json']);
});

test('a value with no JSON form (undefined) is refused', async (t) => {
  const dir = await tempDir();
  await t.throwsAsync(writeJsonAtomic(join(dir, 'r.json'), undefined), { instanceOf: TypeError });
  t.deepEqual(await readdir(dir), []);
});

test('a failure after the temp file was written (rename onto a folder): old content intact, no temp files', async (t) => {
  const dir = await tempDir();
  // The target is a non-empty folder, so the final rename fails after the temp file was written and fsynced.
  const path = join(dir, 'report.json');
  await mkdir(path);
  await writeFile(join(path, 'keep.txt'), 'old');
  const error = await t.throwsAsync(writeJsonAtomic(path, { a: 1 }), { instanceOf: PipelineError });
  t.is(error?.code, 'PIPE_ERR_OUTPUT');
  t.regex(error?.message ?? '', /cannot write .*report\.json/);
  t.deepEqual(await readdir(dir), ['report.json']);
  t.is(await readFile(join(path, 'keep.txt'), 'utf8'), 'old');
});

(isRoot ? test.skip : test)('a read-only folder: old file intact, no temp files (skipped as root: root ignores permissions)', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'report.json');
  await writeFile(path, 'old');
  await chmod(dir, 0o555);
  try {
    await t.throwsAsync(writeJsonAtomic(path, { a: 1 }), { instanceOf: PipelineError });
  } finally {
    await chmod(dir, 0o755);
  }
  t.is(await readFile(path, 'utf8'), 'old');
  t.deepEqual(await readdir(dir), ['report.json']);
});

test('concurrent writes to the same file leave one complete version', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'r.json');
  const values = Array.from({ length: 20 }, (_, i) => ({ i, pad: 'x'.repeat(10_000) }));
  await Promise.all(values.map((v) => writeJsonAtomic(path, v)));
  const final = JSON.parse(await readFile(path, 'utf8')) as { i: number; pad: string };
  t.is(final.pad.length, 10_000);
  t.deepEqual(await readdir(dir), ['r.json']);
});
