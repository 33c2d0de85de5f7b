// Sidecar names (temp files, locks, owner files): the output's own name plus a suffix while that fits
// in NAME_MAX, a prefix and a hash of the name past that; temp names carry the pid and are recognised.
import test from 'ava';
import fc from 'fast-check';
import { basename } from 'node:path';
import {
  lockOwnerPathFor,
  lockPathFor,
  NAME_MAX,
  parseTempName,
  sidecarStem,
  tempPathFor,
} from '../../src/output/names.js';

test('short names keep their spelling: report.json.lock, report.json.nnpipe-<pid>-<hex>.tmp', (t) => {
  t.is(lockPathFor('/x/report.json'), '/x/report.json.lock');
  t.is(lockOwnerPathFor('/x/report.json'), '/x/report.json.lock-owner');
  t.regex(tempPathFor('/x/report.json', 4711), /^\/x\/report\.json\.nnpipe-4711-[0-9a-f]{12}\.tmp$/);
  t.not(tempPathFor('/x/r.json'), tempPathFor('/x/r.json'), 'a fresh name every time');
});

test('every sidecar name of any output name fits in NAME_MAX bytes, and names stay distinct', (t) => {
  const names = fc.oneof(fc.string({ minLength: 1, maxLength: 255 }), fc.stringMatching(/^[a-zé😀]{200,255}$/u));
  fc.assert(
    fc.property(names, (name) => {
      const fits = (path: string) => Buffer.byteLength(basename(path)) <= NAME_MAX;
      const clean = name.replace(/[/\0]/g, '_');
      if (Buffer.byteLength(clean) > NAME_MAX) return true; // not a legal name to begin with
      return (
        fits(lockPathFor(`/d/${clean}`)) &&
        fits(lockOwnerPathFor(`/d/${clean}`)) &&
        fits(tempPathFor(`/d/${clean}`, 4194304)) &&
        fits(tempPathFor(lockOwnerPathFor(`/d/${clean}`), 4194304))
      );
    }),
    { numRuns: 2000 },
  );
  const a = `${'a'.repeat(250)}.json`.slice(0, 250);
  const b = `${'a'.repeat(249)}b`;
  t.not(sidecarStem(a), sidecarStem(b), 'two long names that share a prefix get different stems');
  t.regex(sidecarStem(a), /~[0-9a-f]{16}$/);
  // A multi-byte character is never cut in two.
  const emoji = '😀'.repeat(60);
  t.true(Buffer.from(sidecarStem(emoji)).toString('utf8') === sidecarStem(emoji));
});

test("parseTempName recognises our temp files (with the pid), an older nnpipe's, and nothing else", (t) => {
  t.deepEqual(parseTempName('k.csv', 'k.csv.nnpipe-123-0123456789ab.tmp'), { pid: 123 });
  t.deepEqual(parseTempName('k.csv', 'k.csv.0123456789ab.tmp'), { pid: null });
  for (const other of [
    'k.csv',
    'k.csv.tmp',
    'k.csv.bak',
    'k.csv.nnpipe-x-0123456789ab.tmp',
    'k.csv.nnpipe-1-0123.tmp',
    'kk.csv.nnpipe-1-0123456789ab.tmp',
    'k.csv.1.tmp',
    'k.csv.lock',
  ]) {
    t.is(parseTempName('k.csv', other), null, other);
  }
  const long = 'n'.repeat(250);
  t.deepEqual(parseTempName(long, basename(tempPathFor(`/d/${long}`, 77))), { pid: 77 });
});
