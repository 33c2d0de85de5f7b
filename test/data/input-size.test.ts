// inputSizeBytes: a size only for regular files (progress with an ETA); null for stdin, pipes and the rest.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { inputSizeBytes } from '../../src/data/input-size.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from './helpers.js';

test('a regular file: its size in bytes', async (t) => {
  t.is(await inputSizeBytes(fixture('csv/label-first.csv')), 41);
});

test("'-', a folder, a missing path: null", async (t) => {
  t.is(await inputSizeBytes('-'), null);
  t.is(await inputSizeBytes(fixture('csv')), null);
  t.is(await inputSizeBytes(fixture('csv/no-such-file.csv')), null);
});

test('a named pipe: null', async (t) => {
  const { dir, cleanup } = await tempDir();
  try {
    const fifo = join(dir, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      t.pass('mkfifo not available here');
      return;
    }
    t.is(await inputSizeBytes(fifo), null);
  } finally {
    await cleanup();
  }
});
