// Decoding blocks: the WebAssembly row decoder is bit-identical to the JavaScript one on the real
// MNIST CSVs and on hand-picked rows; lines that are not ordinary go through csv-parse and RowParser; a
// quote left open at a line end is a BlockFailure; the fallback to JavaScript when the .wasm is missing.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { blockData, decodeBlock, lastLineOf, type BlockData } from '../../src/data/block-decoder.js';
import { quoteRunsPastLine } from '../../src/data/messages.js';
import { MNIST_FEATURES, prepareMnistCsv, type MnistSplit } from '../../src/data/mnist.js';
import { normalizationTable } from '../../src/data/normalize.js';
import {
  findRowDecoderWasm,
  loadRowDecoder,
  rowDecoder,
  type WasmRowDecoder,
} from '../../src/data/row-decoder-wasm.js';
import type { DecodedBlock, DecodeSpec } from '../../src/data/types.js';
import { frameBytes } from './framing.js';

const run = promisify(execFile);
const table = normalizationTable('unit');
const mnistSpec: DecodeSpec = {
  layout: { hasHeader: false, fieldCount: MNIST_FEATURES + 1, labelIndex: 0 },
  features: MNIST_FEATURES,
  classes: 10,
  table,
  maxRecordBytes: 1 << 20,
};
/** The compiled row-decoder-wasm.js (its folder holds the .wasm). */
const decoderModuleDir = dirname(fileURLToPath(new URL('../../src/data/row-decoder-wasm.js', import.meta.url)));

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
  return (
    x.index === y.index &&
    x.rows === y.rows &&
    x.features === y.features &&
    same(x.x, y.x) &&
    same(x.labels, y.labels) &&
    same(x.lines, y.lines)
  );
}

/** Whole lines of `text` as one block starting on `firstLine` (its rows: the non-blank lines). */
function blockOf(text: string | Buffer, firstLine = 1): BlockData {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const buffer = new SharedArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  let rows = 0;
  for (let start = 0; start < bytes.length; ) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    if (end - start > 0 && !(end - start === 1 && bytes[start] === 0x0d && nl !== -1)) rows++;
    start = end + 1;
  }
  return { index: 0, firstLine, rows, segments: [{ buffer, start: 0, end: bytes.length }] };
}

/** Decodes with both decoders; returns the JavaScript one's result after checking they agree. */
function both(t: import('ava').ExecutionContext, block: BlockData, spec: DecodeSpec): DecodedBlock | string {
  const outcome = (decoder: WasmRowDecoder | null) => {
    try {
      return decodeBlock(block, spec, { decoder });
    } catch (error) {
      return (error as Error).message;
    }
  };
  const js = outcome(null);
  const wasm = outcome(wasmDecoder());
  t.true(
    typeof js === 'string' || typeof wasm === 'string' ? js === wasm : sameBlock(js, wasm),
    JSON.stringify({ js, wasm }).slice(0, 400),
  );
  return js;
}

for (const split of ['test', 'train'] as MnistSplit[]) {
  test(`mnist_${split}.csv: every 100-row block decodes bit-identically with both decoders`, async (t) => {
    const wasm = wasmDecoder();
    const { path } = await prepareMnistCsv(split);
    const { blocks } = frameBytes(await readFile(path), { features: MNIST_FEATURES, rowsPerBlock: 100 });
    t.is(blocks.length, split === 'test' ? 100 : 600);
    let differing = 0;
    for (const b of blocks) {
      const expected = decodeBlock(blockData(b), mnistSpec, { decoder: null });
      if (expected.batch?.rows !== 100 || expected.errors.length !== 0) differing++;
      if (!sameBlock(decodeBlock(blockData(b), mnistSpec, { decoder: wasm }), expected)) differing++;
      if (!sameBlock(decodeBlock(blockData(b), mnistSpec, { decoder: wasm, copy: false }), expected)) differing++;
      b.release();
    }
    t.is(differing, 0);
  });
}

test('hand-picked rows: leading zeros, saturation, label limits, line ends, quotes, a missing last line end', (t) => {
  const spec: DecodeSpec = {
    layout: { hasHeader: false, fieldCount: 4, labelIndex: 0 },
    features: 3,
    classes: 10,
    table,
    maxRecordBytes: 65536,
  };
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
    '2,"3",4,5', // quoted: good, through csv-parse
    '3,1,2,3', // no line end at the very end
  ].join('\n');
  const expected = both(t, blockOf(text, 10), spec) as DecodedBlock;
  t.deepEqual(Array.from(expected.batch?.labels ?? []), [7, 9, 1, 2, 3]);
  t.deepEqual(Array.from(expected.batch?.lines ?? []), [10, 11, 19, 22, 23]);
  t.deepEqual(
    expected.errors.map((e) => e.line),
    [12, 13, 14, 15, 16, 17, 18],
  );
  t.is(expected.errors[2].message, "label '10' is not an integer 0..9");
  // Bare '\r's (csv-parse decides what they are), a '\r\r\n', a NUL, a stray quote.
  const odd = both(
    t,
    blockOf('1,2,3,4\r5,6,7,8\n1,2,3,4\r\r\n\r1,2,3,4\n1,2,\x003,4\n1,2"3,4,5\n1,2,3,4\r'),
    spec,
  ) as DecodedBlock;
  t.deepEqual(
    odd.errors.map((e) => e.line),
    [1, 2, 3, 4, 5, 6],
  );
});

test('a quote not closed on its line: decoding stops there (failure), the rows and bad rows before it decoded', (t) => {
  const spec: DecodeSpec = {
    layout: { hasHeader: false, fieldCount: 2, labelIndex: 0 },
    features: 1,
    classes: 10,
    table,
    maxRecordBytes: 65536,
  };
  const block = blockOf('1,2\nx\n3,"4\n5",6\n7,7\n', 7);
  for (const decoder of [null, wasmDecoder()]) {
    const { batch, errors, failure } = decodeBlock(block, spec, { decoder });
    t.deepEqual(failure, { line: 9, message: quoteRunsPastLine });
    t.deepEqual(Array.from(batch!.lines), [7]);
    t.deepEqual(
      errors.map((e) => e.line),
      [8],
    );
  }
});

test('a fresh decoder (one page of memory): no read out of bounds on a high byte where a field starts', (t) => {
  // Once a trap: the field after "1," was decoded speculatively from "\xff,0\n" and its value used as a
  // table index before it was known not to count.
  const spec: DecodeSpec = {
    layout: { hasHeader: false, fieldCount: 5, labelIndex: -1 },
    features: 5,
    classes: 12,
    table,
    maxRecordBytes: 65536,
  };
  for (let byte = 0; byte < 256; byte++) {
    both(
      t,
      blockOf(Buffer.concat([Buffer.from('0,0,0,0,0\n1,0,1,'), Buffer.from([byte]), Buffer.from(',0\n9,9,9,9,9\n')])),
      spec,
    );
  }
});

test('copy: fresh buffers of exactly the rows (transferable); views otherwise', (t) => {
  const spec: DecodeSpec = {
    layout: { hasHeader: false, fieldCount: 4, labelIndex: 0 },
    features: 3,
    classes: 10,
    table,
    maxRecordBytes: 65536,
  };
  const block = blockOf('1,2,3,4\nx\n5,6,7,8\n');
  const copied = decodeBlock(block, spec, { decoder: wasmDecoder() }).batch!;
  t.is(copied.x.buffer.byteLength, 2 * 3 * 4);
  t.is(copied.labels.buffer.byteLength, 2 * 2);
  const view = decodeBlock(block, spec, { decoder: wasmDecoder(), copy: false }).batch!;
  t.true(view.x.buffer.byteLength > 2 * 3 * 4);
  t.deepEqual(Array.from(view.x), Array.from(copied.x));
});

test('lastLineOf: the last line a block covers, with or without a final line end', (t) => {
  t.is(lastLineOf(blockOf('1\n2\n3\n', 10)), 12);
  t.is(lastLineOf(blockOf('1\n2\n3', 10)), 12);
  t.is(lastLineOf(blockOf('1\n', 4)), 4);
});

test("load() refuses a layout over the decoder's memory limit (decodeBlock then decodes in JavaScript)", (t) => {
  const wasm = wasmDecoder();
  const bytes = Buffer.from('1,2,3\n');
  // 300M rows of 1 float would need more than the 1 GiB the decoder allows itself.
  t.false(wasm.load([bytes], { ...mnistSpec, features: 1 }, 300_000_000));
  t.true(wasm.load([bytes], { ...mnistSpec, features: 2 }, 1));
});

test('without the .wasm: loadRowDecoder says why', (t) => {
  const missing = join(tmpdir(), `nnpipe-no-such-dir-${process.pid}`, 'row-decoder.wasm');
  const load = loadRowDecoder(missing);
  t.false(load.ok);
  t.regex(load.ok ? '' : load.reason, /is missing; build it with/);
  t.regex((loadRowDecoder(null) as { reason: string }).reason, /row-decoder\.wasm is missing/);
});

test('without the .wasm: a copy of the compiled modules with no row-decoder.wasm decodes in JavaScript', async (t) => {
  // dist/src/data and dist/src/errors.js copied into a folder of their own (with a package.json, where
  // the search for the build folder stops), minus the .wasm: a build whose wasm step failed.
  const distSrc = dirname(decoderModuleDir);
  const root = join(tmpdir(), `nnpipe-row-decoder-${process.pid}-${Date.now()}`);
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  // Its dependencies (csv-parse) from the project's node_modules.
  await symlink(join(dirname(dirname(distSrc)), 'node_modules'), join(root, 'node_modules'));
  await cp(join(distSrc, 'data'), join(root, 'src', 'data'), {
    recursive: true,
    filter: (from) => !from.endsWith('.wasm'),
  });
  await cp(join(distSrc, 'errors.js'), join(root, 'src', 'errors.js'));
  t.is(findRowDecoderWasm(join(root, 'src', 'data')), null);
  const copied = (await import(
    pathToFileURL(join(root, 'src', 'data', 'block-decoder.js')).href
  )) as typeof import('../../src/data/block-decoder.js');
  const copiedWasm = (await import(
    pathToFileURL(join(root, 'src', 'data', 'row-decoder-wasm.js')).href
  )) as typeof import('../../src/data/row-decoder-wasm.js');
  const { path } = await prepareMnistCsv('test');
  const { blocks } = frameBytes((await readFile(path)).subarray(0, 400_000), {
    features: MNIST_FEATURES,
    rowsPerBlock: 50,
  });
  t.true(
    sameBlock(
      copied.decodeBlock(blockData(blocks[0]), mnistSpec),
      decodeBlock(blockData(blocks[0]), mnistSpec, { decoder: null }),
    ),
  );
  t.is(copiedWasm.rowDecoder(), null);
  t.regex((copiedWasm.loadRowDecoder() as { reason: string }).reason, /row-decoder\.wasm is missing/);
});

test('the bundled CLI finds the .wasm in the build folder above it (dist/bundle -> dist/src/data)', (t) => {
  const dist = dirname(dirname(decoderModuleDir));
  t.is(findRowDecoderWasm(join(dist, 'bundle')), join(decoderModuleDir, 'row-decoder.wasm'));
  t.is(findRowDecoderWasm(decoderModuleDir), join(decoderModuleDir, 'row-decoder.wasm'));
});

test('NNPIPE_CSV_WASM=0 switches the wasm decoder off; by default it is on', async (t) => {
  t.not(rowDecoder(), null);
  const moduleUrl = pathToFileURL(join(decoderModuleDir, 'row-decoder-wasm.js')).href;
  const script = `import(${JSON.stringify(moduleUrl)}).then((m) => console.log(m.rowDecoder() ? 'wasm' : 'js'))`;
  const off = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NNPIPE_CSV_WASM: '0' },
  });
  t.is(off.stdout.trim(), 'js');
  const on = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NNPIPE_CSV_WASM: '' },
  });
  t.is(on.stdout.trim(), 'wasm');
});
