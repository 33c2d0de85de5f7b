// The pieces for decoding in the workers: BlockSplitter (main thread: cut the input into blocks of whole
// lines holding B rows) and decodeBlock (worker: bytes -> batch). Together they must give the rows,
// values, labels, line numbers and row errors of the streaming paths; with no bad rows, the very same
// batches.
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BlockSplitter, decodeBlock, type BlockSpec, type LineBlock } from '../../src/data/fast-csv/block.js';
import { prepareMnistCsv } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import type { Batch, RowError } from '../../src/data/types.js';
import { DataError } from '../../src/errors.js';
import { fixture } from '../helpers/paths.js';
import { batchDigest, chunksOf, everyN, runSource, type PlainBatch } from './fast-csv-harness.js';

const table = normalizationTable('unit');
const spec4: BlockSpec = { layout: { hasHeader: false, fieldCount: 5, labelIndex: 0 }, features: 4, classes: 10, table, maxRecordBytes: 65536 };

function split(bytes: Uint8Array, rowsPerBlock: number, cuts: number[], firstLine = 1): LineBlock[] {
  const splitter = new BlockSplitter({ rowsPerBlock, firstLine, maxLineBytes: 65536, file: 'in.csv' });
  const blocks: LineBlock[] = [];
  for (const chunk of chunksOf(bytes, cuts)) blocks.push(...splitter.push(chunk));
  const last = splitter.finish();
  if (last) blocks.push(last);
  return blocks;
}

/** Rows as plain data, whatever batches they came in. */
function rowsOf(batches: Array<Batch | PlainBatch>): Array<{ line: number; label: number; x: number[] }> {
  const rows = [];
  for (const b of batches) {
    for (let r = 0; r < b.rows; r++) rows.push({ line: b.lines[r], label: b.labels[r], x: Array.from(b.x.slice(r * b.features, (r + 1) * b.features)) });
  }
  return rows;
}

test('mnist_test.csv: 100-row blocks decode to the streaming path\'s batches, byte for byte', async (t) => {
  const { path } = await prepareMnistCsv('test');
  const bytes = await readFile(path);
  const blocks = split(bytes, 100, everyN(bytes.length, 65536));
  t.is(blocks.length, 100);
  t.is(Buffer.concat(blocks.map((b) => b.bytes)).equals(bytes), true);
  t.true(blocks.every((b) => !b.quoted && b.rows === 100 && b.firstLine === b.index * 100 + 1));
  const spec: BlockSpec = { ...spec4, layout: { hasHeader: false, fieldCount: 785, labelIndex: 0 }, features: 784 };
  const fromBlocks = blocks.map((b) => {
    const { batch, errors } = decodeBlock(b.bytes, b.firstLine, b.index, spec);
    t.deepEqual(errors, []);
    return batchDigest(batch as Batch);
  });
  const streaming = await runSource('csv-parse', { kind: 'file', path }, { features: 784, classes: 10, onError: 'fail', batchSize: 100, table }, true);
  t.deepEqual(fromBlocks, streaming.batches);
});

test('blocks are transferable buffers of their own, and line numbers count blank lines', (t) => {
  const bytes = Buffer.from('1,1,1,1,1\n\n2,2,2,2,2\r\n\r\n\r\n3,3,3,3,3\n4,4,4,4,4');
  const blocks = split(bytes, 2, [3, 11, 12]);
  t.deepEqual(
    blocks.map((b) => [b.index, b.firstLine, b.rows]),
    [
      [0, 1, 2],
      [1, 4, 2],
    ],
  );
  t.true(blocks.every((b) => b.bytes.byteOffset === 0 && b.bytes.buffer.byteLength === b.bytes.length));
  const decoded = blocks.map((b) => decodeBlock(b.bytes, b.firstLine, b.index, spec4).batch as Batch);
  t.deepEqual(
    decoded.map((b) => Array.from(b.lines)),
    [
      [1, 3],
      [6, 7],
    ],
  );
  t.deepEqual(Array.from(decoded[1].labels), [3, 4]);
});

test('bad rows: dropped from their block (a short batch), reported like the streaming paths do', async (t) => {
  const bytes = await readFile(fixture('csv/fast-csv-odd-rows.csv'));
  // One record of this fixture spans two lines: a block that holds its first line cannot be decoded alone.
  t.throws(() => split(bytes, 100, []).map((b) => decodeBlock(b.bytes, b.firstLine, b.index, spec4)), { instanceOf: RangeError, message: /line 8/ });
  const withoutIt = Buffer.from(bytes.toString('latin1').replace('5,"1\n2",0,0,0\n', '5,"1",0,0,0\n\n'), 'latin1');
  const streaming = await runSource('csv-parse', { kind: 'stdin', bytes: withoutIt, cuts: [] }, { ...spec4, onError: 'skip', batchSize: 3 });
  for (const rowsPerBlock of [1, 2, 3, 100]) {
    const blocks = split(withoutIt, rowsPerBlock, everyN(withoutIt.length, 7));
    const errors: RowError[] = [];
    const batches: Batch[] = [];
    for (const b of blocks) {
      const out = decodeBlock(b.bytes, b.firstLine, b.index, spec4);
      errors.push(...out.errors);
      if (out.batch) batches.push(out.batch);
      t.true((out.batch?.rows ?? 0) + out.errors.length === b.rows);
    }
    t.deepEqual(errors, streaming.rowErrors);
    t.deepEqual(rowsOf(batches), rowsOf(streaming.batches as PlainBatch[]));
  }
  t.true(split(withoutIt, 100, []).every((b) => b.quoted));
});

test('the splitter bounds line length like the InputGuard', (t) => {
  const splitter = new BlockSplitter({ rowsPerBlock: 10, firstLine: 5, maxLineBytes: 20, file: 'in.csv' });
  splitter.push(Buffer.from('1,1,1,1,1\n2,2,2,'));
  const error = t.throws(() => splitter.push(Buffer.from('2'.repeat(30))), { instanceOf: DataError });
  t.is(error?.message, 'in.csv:6: line is longer than the limit of 20 bytes (maxRecordBytes); is this a CSV file of images?');
});

test('property: with no bad rows, splitter + decodeBlock give the streaming batches exactly', async (t) => {
  const row = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }));
  const line = fc.oneof(
    { weight: 5, arbitrary: row.map(([l, p]) => `${l},${p.map((v) => (v % 7 === 0 ? String(v).padStart(3, '0') : String(v))).join(',')}`) },
    { weight: 1, arbitrary: fc.constant('') },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat({ max: 400 }), { maxLength: 10 }),
      async (lines, finalNewline, rowsPerBlock, cuts) => {
        // The layout is the file's own (label first, 4 pixels): the streaming path finds it in the first
        // row, the blocks are given it, as a pipeline would after reading the first record.
        let text = `5,1,2,3,4\n${lines.map(([l, eol]) => l + eol).join('')}`;
        if (!finalNewline) text = text.replace(/\r?\n$/, '');
        const bytes = Buffer.from(text);
        const streaming = await runSource('fast', { kind: 'stdin', bytes, cuts: [] }, { ...spec4, onError: 'fail', batchSize: rowsPerBlock });
        const decoded = split(bytes, rowsPerBlock, cuts).map((b) => decodeBlock(b.bytes, b.firstLine, b.index, spec4));
        deepStrictEqual(decoded.flatMap((d) => d.errors), []);
        deepStrictEqual(
          decoded.map((d) => plain(d.batch as Batch)),
          streaming.batches,
        );
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

const plain = (b: Batch): PlainBatch => ({ index: b.index, rows: b.rows, features: b.features, x: Array.from(b.x), labels: Array.from(b.labels), lines: Array.from(b.lines) });
