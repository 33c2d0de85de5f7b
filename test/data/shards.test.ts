// Shards of a file (src/data/shards.ts + the framer's shard read): any file cut into n shards gives every
// row exactly once, in order, with the line numbers of one read of the whole file once each shard's
// numbers are moved by the lines of the shards before it; the layout comes from the file's first record.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openForShards, parseShardSpec, readHead, shardLines, shardRange, shardRead } from '../../src/data/shards.js';
import type { Block } from '../../src/data/types.js';
import { blockBytes, frameBytes } from './framing.js';

const FEATURES = 3;

/** A block's rows as [line, text]: its lines numbered from firstLine, blank ones skipped. */
function rowsOf(block: Block): [number, string][] {
  const lines = blockBytes(block).toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines
    .map((text, i) => [block.firstLine + i, text] as [number, string])
    .filter(([, text]) => text !== '' && text !== '\r');
}

const rowArb = fc
  .tuple(
    fc.integer({ min: 0, max: 9 }),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: FEATURES, maxLength: FEATURES }),
  )
  .map(([label, pixels]) => [label, ...pixels].join(','));
const lineArb = fc.oneof({ weight: 6, arbitrary: rowArb }, { weight: 1, arbitrary: fc.constantFrom('', '\r') });

const fileArb = fc.record({
  bom: fc.boolean(),
  leadingBlank: fc.integer({ min: 0, max: 2 }),
  header: fc.boolean(),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 60 }),
  crlf: fc.boolean(),
  terminated: fc.boolean(),
  count: fc.integer({ min: 1, max: 9 }),
});

test('property: n shards hold every row once, in order, with the whole read line numbers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nnpipe-shards-'));
  try {
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ bom, leadingBlank, header, lines, crlf, terminated, count }) => {
        const eol = crlf ? '\r\n' : '\n';
        const body = [...Array(leadingBlank).fill(''), ...(header ? ['label,a,b,c'] : []), ...lines];
        // The first record must be a row or the header: make sure it is not blank.
        if (!header) body[leadingBlank] = '1,2,3,4';
        const text = (bom ? '\ufeff' : '') + body.join(eol) + (terminated ? eol : '');
        const bytes = Buffer.from(text);
        const path = join(dir, 'in.csv');
        writeFileSync(path, bytes);
        const whole = frameBytes(bytes, { features: FEATURES, rowsPerBlock: 4 });
        const expected = whole.blocks.flatMap(rowsOf);
        const file = await openForShards(path);
        try {
          const head = await readHead(file, path, bytes.length, FEATURES, 65536);
          t.deepEqual(head.layout, whole.framer.layout);
          const got: [number, string][] = [];
          let offset = 0;
          for (let index = 1; index <= count; index++) {
            const range = shardRange(bytes.length, head.dataStart, { index, count });
            const read = await shardRead(file, path, head, range.start, range.end, 65536);
            const shard = frameBytes(bytes.subarray(read.start), {
              features: FEATURES,
              rowsPerBlock: 4,
              pieceBytes: 7,
              shard: { layout: head.layout, firstLine: read.firstLine, endAt: read.endAt },
            });
            t.is(shard.framer.failure, null);
            const shift = index === 1 ? 0 : offset;
            got.push(...shard.blocks.flatMap(rowsOf).map(([line, row]) => [line + shift, row] as [number, string]));
            offset = index === 1 ? shard.framer.linesStarted : offset + shard.framer.linesStarted;
            for (const block of shard.blocks) block.release();
          }
          t.deepEqual(got, expected);
          t.is(offset, whole.framer.linesStarted, 'the shards start as many lines as the whole file');
        } finally {
          await file.close();
          for (const block of whole.blocks) block.release();
        }
      }),
      { numRuns: 200 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('raw ranges tile the file from byte 0; the data boundaries are after the header', (t) => {
  const ranges = Array.from({ length: 4 }, (_, i) => shardRange(1000, 100, { index: i + 1, count: 4 }));
  t.deepEqual(ranges, [
    { start: 0, end: 325 },
    { start: 325, end: 550 },
    { start: 550, end: 775 },
    { start: 775, end: 1000 },
  ]);
});

test('parseShardSpec: i/n, 1-based, bounded', (t) => {
  t.deepEqual(parseShardSpec('3/12'), { index: 3, count: 12 });
  t.deepEqual(parseShardSpec('1/1'), { index: 1, count: 1 });
  for (const bad of ['0/3', '4/3', '3', '1/0', 'a/b', '1/3/4', ' 1/3', '1/100001', '-1/3'])
    t.true('problem' in parseShardSpec(bad), bad);
});

test('a shard that starts inside a line longer than maxRecordBytes cannot find its first line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nnpipe-shards-'));
  const path = join(dir, 'in.csv');
  writeFileSync(path, `1,2,3,4\n${'9'.repeat(500)}\n1,2,3,4\n`);
  const file = await openForShards(path);
  try {
    const head = await readHead(file, path, 518, FEATURES, 100);
    await t.throwsAsync(shardRead(file, path, head, 200, 518, 100), {
      message: /the line through byte 199 is longer than the limit of 100 bytes/,
    });
  } finally {
    await file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shardLines: the absolute lines that start in a raw range, by counting line ends', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nnpipe-shards-'));
  const path = join(dir, 'in.csv');
  writeFileSync(path, 'a\nbb\n\nccc\nd'); // lines start at 0, 2, 5, 6, 10
  try {
    t.deepEqual(await shardLines(path, 0, 3), { first: 1, last: 2 });
    t.deepEqual(await shardLines(path, 3, 6), { first: 3, last: 3 });
    t.deepEqual(await shardLines(path, 6, 11), { first: 4, last: 5 });
    t.is(await shardLines(path, 7, 10), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
