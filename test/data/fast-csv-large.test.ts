// Differential test on bigger generated inputs (many 64 KiB chunks): rows with odd records sprinkled
// through them (quoted values, quoted line breaks, bare '\r', bad values, wrong field counts, blank
// lines, CRLF), so that the fast path's hand-over to its csv-parse port happens at every position
// relative to chunk boundaries. Under 'skip' nothing ends the read, so the whole run must match.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizationTable } from '../../src/data/normalize.js';
import { runSource, type Feeding, type RunOptions } from './fast-csv-harness.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-fastcsv-large-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** A small deterministic generator (LCG), so a failure can be rerun. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ODD = ['"17"', '"1\n2"', '1\r2', '1.5', '', '256', '"3""4"', '"12"3', '-1', '\0'];

function generate(seed: number, rows: number, features: number): Buffer {
  const next = random(seed);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const roll = next();
    if (roll < 0.01) {
      lines.push('');
      continue;
    }
    const fields = [String(Math.floor(next() * 10)), ...Array.from({ length: features }, () => (next() < 0.7 ? '0' : String(Math.floor(next() * 256))))];
    if (roll < 0.05) fields[Math.floor(next() * fields.length)] = ODD[Math.floor(next() * ODD.length)];
    else if (roll < 0.06) fields.pop();
    else if (roll < 0.07) fields.push('9');
    lines.push(fields.join(',') + (next() < 0.1 ? '\r' : ''));
  }
  return Buffer.from(lines.join('\n') + '\n', 'latin1');
}

for (const [seed, features] of [
  [1, 20],
  [2, 784],
  [3, 3],
] as const) {
  test(`generated input (seed ${seed}, ${features} pixels): fast and auto match csv-parse under skip, from a file and from stdin`, async (t) => {
    const bytes = generate(seed, features === 784 ? 3_000 : 40_000, features);
    const path = join(dir, `large-${seed}.csv`);
    await writeFile(path, bytes);
    const options: RunOptions = { features, classes: 10, onError: 'skip', batchSize: 97, table: normalizationTable('unit') };
    const cuts: number[] = [];
    for (let at = 0, next = random(seed + 100); at < bytes.length; at += 1 + Math.floor(next() * 20_000)) cuts.push(at);
    const feedings: Feeding[] = [
      { kind: 'file', path },
      { kind: 'trickle', bytes, cuts },
    ];
    for (const feeding of feedings) {
      const oracle = await runSource('csv-parse', feeding, options, true);
      t.is(oracle.error, null);
      t.true(oracle.rowErrors.length > 10);
      for (const parser of ['fast', 'auto'] as const) {
        const fast = await runSource(parser, feeding, options, true);
        t.deepEqual({ ...fast, parser: null }, { ...oracle, parser: null }, `${parser}, ${feeding.kind}`);
      }
    }
  });
}
