// removeStaleTemps: a dead writer's temp files go, a live writer's fresh ones stay, old ones go, other
// files are never touched.
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTemps } from '../../src/output/stale-temps.js';

test('dead pids and old files are removed; live fresh ones, ours and unrelated files stay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nnpipe-stale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dead = 4194304; // above any pid_max default: never a live process
  const files = {
    dead: `r.json.nnpipe-${dead}-0123456789ab.tmp`,
    liveFresh: `r.json.nnpipe-1-0123456789ab.tmp`, // pid 1 is alive
    liveOld: `r.json.nnpipe-1-ba9876543210.tmp`,
    ours: `r.json.nnpipe-${process.pid}-0123456789ab.tmp`,
    legacyOld: 'r.json.0123456789ab.tmp',
    legacyFresh: 'r.json.ba9876543210.tmp',
    other: 'r.json.bak',
    otherOutput: `q.json.nnpipe-${dead}-0123456789ab.tmp`,
    target: 'r.json',
  };
  for (const name of Object.values(files)) writeFileSync(join(dir, name), 'x');
  const old = new Date(Date.now() - 120_000);
  for (const name of [files.liveOld, files.legacyOld]) utimesSync(join(dir, name), old, old);
  const removed = await removeStaleTemps(join(dir, 'r.json'), 30_000);
  t.deepEqual(removed.sort(), [files.dead, files.liveOld, files.legacyOld].map((n) => join(dir, n)).sort());
  t.deepEqual(
    readdirSync(dir).sort(),
    [files.liveFresh, files.ours, files.legacyFresh, files.other, files.otherOutput, files.target].sort(),
  );
});
