// The WebAssembly row decoder on the real MNIST CSVs (bit-identical to the JavaScript decodeRow, in the
// workers' decodeBlock and in the main thread's FastCsvDecoder), a few hand-picked rows, and the
// fallback to JavaScript when the .wasm is missing or switched off.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BlockSplitter, decodeBlock, decodeBlockJs, decodeBlockView, type BlockSpec, type DecodedBlock, type LineBlock } from '../../src/data/fast-csv/block.js';
import { FastCsvDecoder, type DecoderEvent } from '../../src/data/fast-csv/decoder.js';
import { findRowDecoderWasm, loadRowDecoder, rowDecoder, rowDecoderKind, setRowDecoder, type WasmRowDecoder } from '../../src/data/fast-csv/row-decoder-wasm.js';
import { MNIST_FEATURES, prepareMnistCsv, type MnistSplit } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';

const run = promisify(execFile);
const table = normalizationTable('unit');
const mnistSpec: BlockSpec = {
  layout: { hasHeader: false, fieldCount: MNIST_FEATURES + 1, labelIndex: 0 },
  features: MNIST_FEATURES,
  classes: 10,
  table,
  maxRecordBytes: 1 << 20,
};
/** The compiled row-decoder-wasm.js (its folder holds the .wasm). */
const decoderModuleDir = dirname(fileURLToPath(new URL('../../src/data/fast-csv/row-decoder-wasm.js', import.meta.url)));

function wasmDecoder(): WasmRowDecoder {
  const load = loadRowDecoder();
  if (!load.ok) throw new Error(`these tests need the built row decoder (npm run build): ${load.reason}`);
  return load.decoder;
}

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function sameBlock(a: DecodedBlock, b: DecodedBlock): boolean {
  if (JSON.stringify(a.errors) !== JSON.stringify(b.errors)) return false;
  if (a.batch === null || b.batch === null) return a.batch === b.batch;
  const [x, y] = [a.batch, b.batch];
  return x.index === y.index && x.rows === y.rows && x.features === y.features && same(x.x, y.x) && same(x.labels, y.labels) && same(x.lines, y.lines);
}

function blocksOf(bytes: Uint8Array, rowsPerBlock: number): LineBlock[] {
  const splitter = new BlockSplitter({ rowsPerBlock, firstLine: 1, maxLineBytes: 1 << 20, file: 'mnist.csv' });
  const blocks: LineBlock[] = [];
  for (let at = 0; at < bytes.length; at += 1 << 20) blocks.push(...splitter.push(bytes.subarray(at, at + (1 << 20))));
  const last = splitter.finish();
  if (last) blocks.push(last);
  return blocks;
}

for (const split of ['test', 'train'] as MnistSplit[]) {
  test(`mnist_${split}.csv: decodeBlock with the wasm decoder is bit-identical to decodeRow's, every 100-row block`, async (t) => {
    const wasm = wasmDecoder();
    const { path } = await prepareMnistCsv(split);
    const blocks = blocksOf(await readFile(path), 100);
    t.is(blocks.length, split === 'test' ? 100 : 600);
    let differing = 0;
    for (const b of blocks) {
      const expected = decodeBlockJs(b.bytes, b.firstLine, b.index, mnistSpec);
      if (expected.batch?.rows !== 100 || expected.errors.length !== 0) differing++;
      if (!sameBlock(decodeBlock(b.bytes, b.firstLine, b.index, mnistSpec, wasm), expected)) differing++;
      if (!sameBlock(decodeBlockView(b.bytes, b.firstLine, b.index, mnistSpec, wasm), expected)) differing++;
    }
    t.is(differing, 0);
  });

  test(`mnist_${split}.csv: FastCsvDecoder gives the same events with the wasm decoder as with decodeRow (64 KiB chunks)`, async (t) => {
    const wasm = wasmDecoder();
    const { path } = await prepareMnistCsv(split);
    const bytes = await readFile(path);
    const options = { file: path, features: MNIST_FEATURES, classes: 10, onError: 'fail' as const, maxRecordBytes: 1 << 20, batchSize: 100, table };
    const js = new FastCsvDecoder(options);
    const wa = new FastCsvDecoder(options);
    const saved = rowDecoder();
    // Both in lockstep, a chunk at a time, so that the events compare without holding the whole file's.
    const feed = (decoder: FastCsvDecoder, chunk: Buffer | null, use: WasmRowDecoder | null) => {
      setRowDecoder(use);
      try {
        if (chunk) decoder.push(chunk);
        else decoder.finish();
      } finally {
        setRowDecoder(saved);
      }
      const events = decoder.events.splice(0);
      return events;
    };
    const describe = (e: DecoderEvent): string => {
      if (e.kind === 'batch') return `batch ${e.batch.index} ${e.batch.rows}`;
      if (e.kind === 'mark') return `mark ${e.bytes} ${e.partial?.rows ?? 0}`;
      return JSON.stringify(e);
    };
    let batches = 0;
    let differing = 0;
    const chunks: Array<Buffer | null> = [];
    for (let at = 0; at < bytes.length; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
    chunks.push(null); // finish()
    for (const chunk of chunks) {
      const a = feed(js, chunk, null);
      const b = feed(wa, chunk, wasm);
      if (a.map(describe).join() !== b.map(describe).join()) differing++;
      a.forEach((e, i) => {
        const f = b[i];
        if (e.kind !== 'batch' || f?.kind !== 'batch') return;
        batches++;
        if (!(same(e.batch.x, f.batch.x) && same(e.batch.labels, f.batch.labels) && same(e.batch.lines, f.batch.lines))) differing++;
      });
    }
    t.is(differing, 0);
    t.is(batches, split === 'test' ? 100 : 600);
    t.is(wa.good, js.good);
  });
}

test('hand-picked rows: leading zeros, saturation, label limits, line ends, a missing last line end', (t) => {
  const wasm = wasmDecoder();
  const spec: BlockSpec = { layout: { hasHeader: false, fieldCount: 4, labelIndex: 0 }, features: 3, classes: 10, table, maxRecordBytes: 65536 };
  const text = [
    '7,0,0,255', // ordinary
    `${'0'.repeat(60)}9,${'0'.repeat(30)}255,0000,007`, // leading zeros: ordinary
    '4294967303,1,2,3', // wraps round to 7 in 32 bits: a bad label, not 7
    '1,4294967296,2,3', // wraps round to 0: a bad pixel
    '10,1,2,3', // label over 9
    '1,256,2,3',
    '1,2,3', // a field too few
    '1,2,3,4,5', // a field too many
    '1,2,,3', // empty field
    '1,2,3,4\r', // with the join's '\n': a CRLF line end, ordinary
    '',
    '\r',
    '2,"3",4,5', // quoted: good, through the fallback
    '3,1,2,3', // no line end at the very end
  ].join('\n');
  const block = new Uint8Array(Buffer.from(text, 'latin1'));
  const expected = decodeBlockJs(block, 10, 0, spec);
  t.true(sameBlock(decodeBlock(block, 10, 0, spec, wasm), expected));
  t.deepEqual(Array.from(expected.batch?.labels ?? []), [7, 9, 1, 2, 3]);
  t.deepEqual(Array.from(expected.batch?.lines ?? []), [10, 11, 19, 22, 23]);
  t.deepEqual(
    expected.errors.map((e) => e.line),
    [12, 13, 14, 15, 16, 17, 18],
  );
  // Bare '\r's (not ordinary: the fallback decides what they are), a '\r\r\n', a NUL.
  const odd = new Uint8Array(Buffer.from('1,2,3,4\r5,6,7,8\n1,2,3,4\r\r\n\r1,2,3,4\n1,2,\x003,4\n1,2,3,4\r', 'latin1'));
  const oddExpected = decodeBlockJs(odd, 1, 0, spec);
  t.true(sameBlock(decodeBlock(odd, 1, 0, spec, wasm), oddExpected));
  t.true(oddExpected.errors.length > 0);
});

test('a fresh decoder (one page of memory): no read out of bounds on a high byte where a field starts', (t) => {
  // Once a trap: the field after "1," was decoded speculatively from "\xff,0\n" and its value used as a
  // table index before it was known not to count.
  const spec: BlockSpec = { layout: { hasHeader: false, fieldCount: 5, labelIndex: -1 }, features: 5, classes: 12, table, maxRecordBytes: 65536 };
  for (let byte = 0; byte < 256; byte++) {
    const block = new Uint8Array(Buffer.concat([Buffer.from('0,0,0,0,0\n1,0,1,'), Buffer.from([byte]), Buffer.from(',0\n9,9,9,9,9\n')]));
    // (a '"' opens a quoted field that runs past the line end: both throw the same RangeError)
    const outcome = (decode: () => DecodedBlock) => {
      try {
        return decode();
      } catch (error) {
        return (error as Error).message;
      }
    };
    const got = outcome(() => decodeBlock(block, 1, 0, spec, wasmDecoder()));
    const expected = outcome(() => decodeBlockJs(block, 1, 0, spec));
    t.true(typeof got === 'string' || typeof expected === 'string' ? got === expected : sameBlock(got, expected), `byte ${byte}`);
  }
});

test('load() refuses a layout over the decoder\'s memory limit (decodeBlock then decodes in JavaScript)', (t) => {
  const wasm = wasmDecoder();
  const bytes = Buffer.from('1,2,3\n');
  // 300M rows of 1 float would need more than the 1 GiB the decoder allows itself.
  t.false(wasm.load(bytes, 0, bytes.length, table, 1, 300_000_000));
  t.true(wasm.load(bytes, 0, bytes.length, table, 2, 1));
});

test('without the .wasm: loadRowDecoder says why, and decodeBlock falls back to decodeRow', async (t) => {
  const missing = join(tmpdir(), `nnpipe-no-such-dir-${process.pid}`, 'row-decoder.wasm');
  const load = loadRowDecoder(missing);
  t.false(load.ok);
  t.regex(load.ok ? '' : load.reason, /is missing; build it with/);
  t.regex((loadRowDecoder(null) as { reason: string }).reason, /row-decoder\.wasm is missing/);
  const { path } = await prepareMnistCsv('test');
  const block = blocksOf((await readFile(path)).subarray(0, 400_000), 50)[1];
  t.true(sameBlock(decodeBlock(block.bytes, block.firstLine, block.index, mnistSpec, null), decodeBlock(block.bytes, block.firstLine, block.index, mnistSpec, wasmDecoder())));
});

test('without the .wasm: a copy of the compiled modules with no row-decoder.wasm decodes in JavaScript', async (t) => {
  // dist/src/data and dist/src/errors.js copied into a folder of their own (with a package.json, where
  // the search for the build folder stops), minus the .wasm: a build whose wasm step failed.
  const distSrc = dirname(dirname(decoderModuleDir));
  const root = join(tmpdir(), `nnpipe-row-decoder-${process.pid}-${Date.now()}`);
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  await cp(join(distSrc, 'data'), join(root, 'src', 'data'), { recursive: true, filter: (from) => !from.endsWith('.wasm') });
  await cp(join(distSrc, 'errors.js'), join(root, 'src', 'errors.js'));
  t.is(findRowDecoderWasm(join(root, 'src', 'data', 'fast-csv')), null);
  const copied = (await import(pathToFileURL(join(root, 'src', 'data', 'fast-csv', 'block.js')).href)) as typeof import('../../src/data/fast-csv/block.js');
  const copiedWasm = (await import(pathToFileURL(join(root, 'src', 'data', 'fast-csv', 'row-decoder-wasm.js')).href)) as typeof import('../../src/data/fast-csv/row-decoder-wasm.js');
  const { path } = await prepareMnistCsv('test');
  const block = blocksOf((await readFile(path)).subarray(0, 400_000), 50)[0];
  t.true(sameBlock(copied.decodeBlock(block.bytes, block.firstLine, block.index, mnistSpec), decodeBlockJs(block.bytes, block.firstLine, block.index, mnistSpec)));
  t.regex(copiedWasm.rowDecoderKind(), /^js \(.*row-decoder\.wasm is missing/);
});

test('the bundled CLI finds the .wasm in the build folder above it (dist/bundle -> dist/src/data/fast-csv)', (t) => {
  const dist = dirname(dirname(dirname(decoderModuleDir)));
  t.is(findRowDecoderWasm(join(dist, 'bundle')), join(decoderModuleDir, 'row-decoder.wasm'));
  t.is(findRowDecoderWasm(decoderModuleDir), join(decoderModuleDir, 'row-decoder.wasm'));
});

test('NNPIPE_CSV_WASM=0 switches the wasm decoder off; by default it is on', async (t) => {
  t.is(rowDecoderKind(), 'wasm');
  const moduleUrl = pathToFileURL(join(decoderModuleDir, 'row-decoder-wasm.js')).href;
  const script = `import(${JSON.stringify(moduleUrl)}).then((m) => console.log(m.rowDecoderKind()))`;
  const off = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NNPIPE_CSV_WASM: '0' } });
  t.is(off.stdout.trim(), 'js (NNPIPE_CSV_WASM=0)');
  const on = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NNPIPE_CSV_WASM: '' } });
  t.is(on.stdout.trim(), 'wasm');
});
