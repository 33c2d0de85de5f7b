// writeFileAtomic / writeJsonAtomic: content, folder creation, failures that leave the old file intact,
// symlinks followed, devices written in place, permissions kept, long names.
import test from 'ava';
import { watch } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PipelineError } from '../../src/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/output/write-file.js';

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

test('a folder as the target is refused before anything is written: its content intact, no temp files', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'report.json');
  await mkdir(path);
  await writeFile(join(path, 'keep.txt'), 'old');
  const error = await t.throwsAsync(writeJsonAtomic(path, { a: 1 }), { instanceOf: PipelineError });
  t.is(error?.code, 'PIPE_ERR_OUTPUT');
  t.regex(error?.message ?? '', /cannot write .*report\.json: is a directory/);
  t.deepEqual(await readdir(dir), ['report.json']);
  t.is(await readFile(join(path, 'keep.txt'), 'utf8'), 'old');
});

(isRoot ? test.skip : test)(
  'a read-only folder: old file intact, no temp files (skipped as root: root ignores permissions)',
  async (t) => {
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
  },
);

test('concurrent writes to the same file leave one complete version', async (t) => {
  const dir = await tempDir();
  const path = join(dir, 'r.json');
  const values = Array.from({ length: 20 }, (_, i) => ({ i, pad: 'x'.repeat(10_000) }));
  await Promise.all(values.map((v) => writeJsonAtomic(path, v)));
  const final = JSON.parse(await readFile(path, 'utf8')) as { i: number; pad: string };
  t.is(final.pad.length, 10_000);
  t.deepEqual(await readdir(dir), ['r.json']);
});

test('a symlink is followed: the file it names is replaced, the link stays', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'real.json'), 'old');
  await symlink('real.json', join(dir, 'link.json'));
  await writeFileAtomic(join(dir, 'link.json'), 'new');
  t.is(await readFile(join(dir, 'real.json'), 'utf8'), 'new');
  t.true((await lstat(join(dir, 'link.json'))).isSymbolicLink());
  // A dangling link: the file it names is created.
  await symlink('later.json', join(dir, 'dangling.json'));
  await writeFileAtomic(join(dir, 'dangling.json'), 'made');
  t.is(await readFile(join(dir, 'later.json'), 'utf8'), 'made');
  t.deepEqual((await readdir(dir)).sort(), ['dangling.json', 'later.json', 'link.json', 'real.json']);
});

test('a replaced file keeps its permissions', async (t) => {
  const path = join(await tempDir(), 'r.json');
  await writeFile(path, 'old', { mode: 0o600 });
  await chmod(path, 0o600);
  await writeFileAtomic(path, 'new');
  t.is((await stat(path)).mode & 0o777, 0o600);
});

test('a character device is written in place (never replaced); a full one fails with PIPE_ERR_OUTPUT', async (t) => {
  await writeFileAtomic('/dev/null', 'anything');
  t.true((await stat('/dev/null')).isCharacterDevice());
  const error = await t.throwsAsync(writeFileAtomic('/dev/full', 'x'.repeat(10_000)), { instanceOf: PipelineError });
  t.is(error?.code, 'PIPE_ERR_OUTPUT');
  t.regex(error?.message ?? '', /cannot write \/dev\/full: .*ENOSPC/);
  t.true((await stat('/dev/full')).isCharacterDevice());
});

test('an output name of 250 characters: written, and its temp file name stays within NAME_MAX', async (t) => {
  const dir = await tempDir();
  const path = join(dir, `${'r'.repeat(245)}.json`);
  let seen: string[] = [];
  const watcher = watch(dir, (_event, name) => name && seen.push(String(name)));
  try {
    await writeFileAtomic(path, 'long');
  } finally {
    watcher.close();
  }
  t.is(await readFile(path, 'utf8'), 'long');
  t.deepEqual(await readdir(dir), [basename(path)]);
  seen = seen.filter((name) => name !== basename(path));
  for (const name of seen) t.true(Buffer.byteLength(name) <= 255, name);
});

test('temp files carry the pid of their writer', async (t) => {
  const dir = await tempDir();
  const seen: string[] = [];
  const watcher = watch(dir, (_event, name) => name && seen.push(String(name)));
  try {
    await writeFileAtomic(join(dir, 'r.json'), 'x');
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    watcher.close();
  }
  t.true(
    seen.some((name) => name.startsWith(`r.json.nnpipe-${process.pid}-`) && name.endsWith('.tmp')),
    seen.join(', '),
  );
});
