// The framer: blocks of exactly rowsPerBlock rows, whole lines, line numbers, the layout from the first
// record, the limit, what ends a read, and that every chunk goes back to the pool.
import test from 'ava';
import fc from 'fast-check';
import { ChunkPool } from '../../src/data/chunks.js';
import { Framer } from '../../src/data/framer.js';
import { blockBytes, frameBytes } from './framing.js';

const rowsOf = (count: number, eol = '\n') =>
  Array.from({ length: count }, (_, i) => `${i % 10},${i},1,2,3`).join(eol) + eol;

test('blocks hold exactly rowsPerBlock rows but the last; their bytes are the input after the header', (t) => {
  const text = `label,a,b,c,d\n${rowsOf(10)}`;
  const { blocks, framer } = frameBytes(Buffer.from(text), { features: 4, rowsPerBlock: 3 });
  t.deepEqual(framer.layout, { hasHeader: true, fieldCount: 5, labelIndex: 0 });
  t.is(framer.headerLine, 1);
  t.deepEqual(
    blocks.map((b) => [b.index, b.firstLine, b.rows]),
    [
      [0, 2, 3],
      [1, 5, 3],
      [2, 8, 3],
      [3, 11, 1],
    ],
  );
  t.is(Buffer.concat(blocks.map(blockBytes)).toString(), rowsOf(10));
});

test('blank lines ("\\n", "\\r\\n") are not rows but keep their line numbers; a lone "\\r" at the very end is a row', (t) => {
  const text = '\n\r\n1,1,1,1,1\n\n2,2,2,2,2\r\n\r\n\r\n3,3,3,3,3\n\r';
  const { blocks } = frameBytes(Buffer.from(text), { features: 4, rowsPerBlock: 2 });
  t.deepEqual(
    blocks.map((b) => [b.firstLine, b.rows]),
    [
      [3, 2],
      [6, 2],
    ],
  );
  t.is(blockBytes(blocks[1]).toString(), '\r\n\r\n3,3,3,3,3\n\r');
});

test('any chunking gives the same blocks (tiny chunks and pieces: blocks span many segments)', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 8, max: 64 }),
      fc.integer({ min: 1, max: 64 }),
      fc.boolean(),
      (rows, rowsPerBlock, chunkBytes, pieceBytes, crlf) => {
        const text = `label,a,b,c,d\n${rowsOf(rows, crlf ? '\r\n' : '\n')}`;
        const whole = frameBytes(Buffer.from(text), { features: 4, rowsPerBlock });
        const cut = frameBytes(Buffer.from(text), { features: 4, rowsPerBlock, chunkBytes, pieceBytes });
        const shape = (blocks: typeof whole.blocks) =>
          blocks.map((b) => [b.index, b.firstLine, b.rows, blockBytes(b).toString()]);
        t.deepEqual(shape(cut.blocks), shape(whole.blocks));
        t.is(cut.framer.failure?.message ?? null, whole.framer.failure?.message ?? null);
      },
    ),
    { numRuns: 300 },
  );
});

test('the limit: the last block ends with the limit-th row and nothing more is taken', (t) => {
  const { blocks, framer } = frameBytes(Buffer.from(rowsOf(50)), { features: 4, rowsPerBlock: 8, limit: 21 });
  t.deepEqual(
    blocks.map((b) => b.rows),
    [8, 8, 5],
  );
  t.true(framer.done);
  t.is(framer.rows, 21);
});

test('an over-long line: the complete lines before it go out as a block, then the read ends at its line', (t) => {
  const text = `${rowsOf(5)}${'7'.repeat(300)}\n${rowsOf(3)}`;
  const { blocks, framer } = frameBytes(Buffer.from(text), {
    features: 4,
    rowsPerBlock: 2,
    maxRecordBytes: 100,
    chunkBytes: 64,
    pieceBytes: 13,
  });
  t.deepEqual(
    blocks.map((b) => [b.firstLine, b.rows]),
    [
      [1, 2],
      [3, 2],
      [5, 1],
    ],
  );
  t.is(blockBytes(blocks[2]).toString(), '4,4,1,2,3\n');
  t.is(framer.failure?.line, 6);
  t.regex(framer.failure?.message ?? '', /^input\.csv:6: line is longer than the limit of 100 bytes/);
});

test('no rows: an empty input, a header only', (t) => {
  t.is(
    frameBytes(Buffer.from(''), { features: 4, rowsPerBlock: 2 }).framer.failure?.message,
    'input.csv: no rows: the input is empty (or only blank lines)',
  );
  t.is(
    frameBytes(Buffer.from('a,b,c,d,e\n\n'), { features: 4, rowsPerBlock: 2 }).framer.failure?.message,
    'input.csv: no rows: the input has a header (line 1) but no data rows',
  );
});

test('every chunk goes back to the pool: blocks released as they come keep a long input to a handful of chunks', (t) => {
  const text = Buffer.from(rowsOf(20_000));
  const held = frameBytes(text, { features: 4, rowsPerBlock: 100, chunkBytes: 4096, pieceBytes: 1000 });
  // Blocks held until the end: every chunk they cover is still out.
  t.true(held.pool.allocated >= Math.floor(text.length / 4096));
  for (const block of held.blocks) block.release();
  t.true(streamFrame(text) <= 3);
});

/** Frames `bytes` as the reader and pipeline do, releasing every block at once; the chunks the pool made. */
function streamFrame(bytes: Buffer): number {
  const pool = new ChunkPool(4096);
  const framer = new Framer({ file: 'input.csv', features: 4, rowsPerBlock: 100, maxRecordBytes: 65536 });
  let chunk = pool.acquire();
  let filled = 0;
  for (let from = 0; from < bytes.length; ) {
    if (filled === pool.chunkBytes) {
      chunk.release();
      chunk = pool.acquire();
      filled = 0;
    }
    const take = Math.min(bytes.length - from, pool.chunkBytes - filled, 1000);
    chunk.bytes.set(bytes.subarray(from, from + take), filled);
    for (const block of framer.push({ chunk, start: filled, end: filled + take })) block.release();
    from += take;
    filled += take;
  }
  chunk.release();
  for (const block of framer.finish()) block.release();
  return pool.allocated;
}
