// bench/peers.ts against stand-in run.sh scripts: the JSON lines parsed, the arguments passed through,
// and every way the peer can be missing or fail reported as a reason (the suites then skip the peer).
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPeerForward } from '../../bench/peers.js';
import { fixture } from '../helpers/paths.js';

function script(t: { teardown(fn: () => void): void }, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'peers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'run.sh');
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  return file;
}

const csv = fixture('mnist-test-100.csv');

test('parses one row per JSON line and passes the batches, threads and samples through', async (t) => {
  const fake = script(
    t,
    `echo "installing..." >&2
echo "args: $*"
echo '{"peer":"onnxruntime-node","threads":1,"batch":100,"accuracy":0.96,"imagesPerSecond":780639,"gflops":70.6}'
echo '{"peer":"onnxruntime-node","threads":2,"batch":100,"accuracy":0.96,"imagesPerSecond":865282,"gflops":78.2}'`,
  );
  const outcome = await runPeerForward(csv, { script: fake, batches: [100], threads: [1, 2], samples: 3 });
  t.true(outcome.ok);
  if (!outcome.ok) return;
  t.deepEqual(
    outcome.rows.map((r) => [r.threads, r.batch, r.imagesPerSecond]),
    [
      [1, 100, 780639],
      [2, 100, 865282],
    ],
  );
});

test('a failing peer, a peer that prints nothing, a malformed line and a missing kit are reasons, not exceptions', async (t) => {
  const failing = await runPeerForward(csv, { script: script(t, 'echo "npm ERR! network unreachable" >&2; exit 3') });
  t.false(failing.ok);
  if (!failing.ok) t.regex(failing.reason, /failed \(exit 3\):\nnpm ERR! network unreachable/);
  const silent = await runPeerForward(csv, { script: script(t, 'echo hello') });
  t.false(silent.ok);
  if (!silent.ok) t.regex(silent.reason, /printed no results/);
  const malformed = await runPeerForward(csv, { script: script(t, `echo '{"peer":"x","threads":"two"}'`) });
  t.false(malformed.ok);
  if (!malformed.ok) t.regex(malformed.reason, /unexpected peer output/);
  const missing = await runPeerForward(csv, { script: '/nonexistent/run.sh' });
  t.false(missing.ok);
  if (!missing.ok) t.regex(missing.reason, /no peer kit/);
  const noCsv = await runPeerForward('/nonexistent.csv', { script: script(t, 'exit 0') });
  t.false(noCsv.ok);
  if (!noCsv.ok) t.regex(noCsv.reason, /no \/nonexistent\.csv/);
});
