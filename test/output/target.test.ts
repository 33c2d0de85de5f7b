// inspectOutput: what a path leads to (symlinks followed, folders resolved), and every refusal.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, statSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectOutput, OutputPathError } from '../../src/output/target.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'nnpipe-target-')));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'file.json'), 'x');
symlinkSync('file.json', join(dir, 'link'));
symlinkSync('sub/new.json', join(dir, 'dangling'));
symlinkSync('loop-b', join(dir, 'loop-a'));
symlinkSync('loop-a', join(dir, 'loop-b'));
symlinkSync('sub', join(dir, 'sublink'));

test('files, new files, links and dangling links', async (t) => {
  const info = statSync(join(dir, 'file.json'));
  t.deepEqual(await inspectOutput(join(dir, 'file.json')), {
    given: join(dir, 'file.json'),
    path: join(dir, 'file.json'),
    kind: 'file',
    id: { dev: info.dev, ino: info.ino },
  });
  t.like(await inspectOutput(join(dir, 'link')), { path: join(dir, 'file.json'), kind: 'file' });
  t.like(await inspectOutput(join(dir, 'dangling')), { path: join(dir, 'sub', 'new.json'), kind: 'new', id: null });
  t.like(await inspectOutput(join(dir, 'sublink', 'x.json')), { path: join(dir, 'sub', 'x.json'), kind: 'new' });
  t.like(await inspectOutput(join(dir, 'sub', '..', 'file.json')), { path: join(dir, 'file.json'), kind: 'file' });
});

test('devices, FIFOs and open descriptors are written in place', async (t) => {
  t.like(await inspectOutput('/dev/null'), { path: '/dev/null', kind: 'in-place' });
  t.like(await inspectOutput('/dev/stdout'), { path: `/proc/${process.pid}/fd/1`, kind: 'in-place', fd: 1 });
  t.like(await inspectOutput('/dev/fd/2'), { kind: 'in-place', fd: 2 });
});

test('refusals name the reason', async (t) => {
  for (const [path, problem] of [
    [join(dir, 'sub'), /is a directory/],
    [join(dir, 'missing', 'r.json'), /the folder .*missing does not exist/],
    [join(dir, 'file.json', 'r.json'), /file\.json is not a folder/],
    [join(dir, 'loop-a'), /more than 40 symbolic links|loop/],
    ['/proc/self/status', /is in proc, a kernel interface/],
    ['/sys/kernel/r.json', /is in sysfs, a kernel interface/],
  ] as const) {
    const error = await t.throwsAsync(inspectOutput(path), { instanceOf: OutputPathError }, path);
    t.regex(error?.problem ?? '', problem, path);
    t.is(error?.exitCode, 2);
  }
});
