// The WebAssembly row decoder against its oracle, the JavaScript one (row-kernel.ts), on generated inputs
// (fast-check): random valid rows (values, leading zeros, runs of zeros and of nonzero pixels as in MNIST, LF/CRLF),
// random layouts (label first, last, anywhere, none; 1..784 pixels; 1..32767 classes), random normalisation tables,
// and every kind of row the decoders give up on. Checked at three levels: one row, a run of rows (where the wasm
// must stop: exactly where the JavaScript decoder stops), and a block (decodeBlock, as a worker decodes it).
import test from 'ava';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { decodeBlock, type BlockData } from '../../src/data/block-decoder.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { loadRowDecoder, type WasmRowDecoder } from '../../src/data/row-decoder-wasm.js';
import { JsRowDecoder, type RowDecoder } from '../../src/data/row-kernel.js';
import type { DecodedBlock, DecodeSpec } from '../../src/data/types.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);

function freshDecoder(): WasmRowDecoder {
  const load = loadRowDecoder();
  if (!load.ok) throw new Error(`these tests need the built row decoder (npm run build): ${load.reason}`);
  return load.decoder;
}
/** One decoder for the block and stream tests: its memory grows to the biggest input seen so far. */
const wasm = freshDecoder();

interface Layout {
  features: number;
  fieldCount: number;
  labelIndex: number;
  classes: number;
}

const layoutArb: fc.Arbitrary<Layout> = fc
  .record({
    features: fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 40 }) },
      { weight: 1, arbitrary: fc.constantFrom(784, 100, 17) },
    ),
    labelled: fc.boolean(),
    labelPos: fc.nat(),
    labelAt: fc.constantFrom('first', 'last', 'any'),
    classes: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(256, 1000, 32767)),
  })
  .map(({ features, labelled, labelPos, labelAt, classes }) => {
    const labelIndex = !labelled
      ? -1
      : labelAt === 'first'
        ? 0
        : labelAt === 'last'
          ? features
          : labelPos % (features + 1);
    return { features, fieldCount: features + (labelled ? 1 : 0), labelIndex, classes };
  });

const tableArb: fc.Arbitrary<Float32Array> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(normalizationTable('unit')) },
  { weight: 1, arbitrary: fc.constant(normalizationTable('none')) },
  // Any float32 bits a table can hold, -0 and NaN included (table[0] = -0 turns skipZeros off).
  { weight: 1, arbitrary: fc.array(fc.float(), { minLength: 256, maxLength: 256 }).map((a) => Float32Array.from(a)) },
);

/** A valid value 0..max as text: mostly plain, sometimes with leading zeros (any number of them). */
const valueText = (max: number, zeroWeight: number) =>
  fc.oneof(
    { weight: zeroWeight, arbitrary: fc.constant('0') },
    { weight: 4, arbitrary: fc.integer({ min: 0, max }).map(String) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max }))
        .map(([z, v]) => '0'.repeat(z) + v),
    },
  );

/** Pixels as MNIST has them: runs of zeros, then runs of nonzero values. */
const runnyPixels = (count: number) =>
  fc
    .array(fc.tuple(fc.nat(24), fc.array(fc.integer({ min: 1, max: 255 }).map(String), { maxLength: 7 })), {
      minLength: 1,
      maxLength: 80,
    })
    .map((runs) => {
      const out: string[] = [];
      while (out.length < count) {
        for (const [zeros, values] of runs) {
          for (let i = 0; i < zeros; i++) out.push('0');
          out.push(...values);
        }
        if (runs.every(([z, v]) => z === 0 && v.length === 0)) out.push('0');
      }
      return out.slice(0, count);
    });

const pixelsArb = (count: number) =>
  fc.oneof(fc.array(valueText(255, 6), { minLength: count, maxLength: count }), runnyPixels(count));

/** What can be wrong with a row (none: an ordinary row). */
const ANOMALIES = [
  'none',
  'field-too-many',
  'field-too-few',
  'empty-field',
  'value',
  'label-out-of-range',
  'random-byte',
  'bare-cr',
  'cr-cr-lf',
  'no-line-end',
] as const;
type AnomalyKind = (typeof ANOMALIES)[number];
const BAD_VALUES = [
  // too big: just, by far, with leading zeros, and numbers that wrap round to a small value in 32 or 64 bits
  ...[
    '256',
    '300',
    '999',
    '1000',
    '0256',
    '00000000000000000000999',
    '99999999999999999999',
    '4294967296',
    '4294967303',
    '18446744073709551617',
  ],
  ...[
    '-1',
    '1.5',
    ' 12',
    '12 ',
    '"12"',
    '1"2',
    '"',
    '\0',
    '7\0',
    '+1',
    '1e2',
    '\t3',
    'a',
    '\r',
    '1\r2',
    '0x1f',
    '\u00b9',
    '\u00ff',
  ],
];
// Valid after all: these must decode (leading zeros, any number of them).
const ODD_GOOD_VALUES = ['0000', '00000000000000000000000000000000000000000255', '0255', '007', '00'];

interface RowSpec {
  anomaly: AnomalyKind;
  at: number;
  pick: number;
  byte: number;
  crlf: boolean;
}
const rowSpecArb: fc.Arbitrary<RowSpec> = fc.record({
  anomaly: fc.oneof(
    { weight: 4, arbitrary: fc.constant<AnomalyKind>('none') },
    { weight: 3, arbitrary: fc.constant<AnomalyKind>('value') },
    { weight: 2, arbitrary: fc.constant<AnomalyKind>('random-byte') },
    { weight: 4, arbitrary: fc.constantFrom(...ANOMALIES) },
  ),
  at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  pick: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  crlf: fc.boolean(),
});

/** One row's text (latin1: one char per byte) with its line end, as the spec says. */
function rowText(layout: Layout, pixels: string[], label: string, spec: RowSpec, last: boolean): string {
  const fields = [...pixels];
  if (layout.labelIndex >= 0) fields.splice(layout.labelIndex, 0, label);
  const i = Math.floor(spec.at * fields.length);
  let lineEnd = spec.crlf ? '\r\n' : '\n';
  switch (spec.anomaly) {
    case 'none':
      break;
    case 'field-too-many':
      fields.splice(i, 0, String(spec.pick % 256));
      break;
    case 'field-too-few':
      fields.splice(i, 1);
      break;
    case 'empty-field':
      fields[i] = '';
      break;
    case 'value': {
      const all = [...BAD_VALUES, ...ODD_GOOD_VALUES];
      fields[i] = all[spec.pick % all.length];
      break;
    }
    case 'label-out-of-range':
      if (layout.labelIndex >= 0) fields[layout.labelIndex] = String(layout.classes + (spec.pick % 3));
      break;
    case 'bare-cr':
      lineEnd = '\r';
      break;
    case 'cr-cr-lf':
      lineEnd = '\r\r\n';
      break;
    case 'no-line-end':
      if (last) lineEnd = '';
      break;
    case 'random-byte':
      break;
  }
  let text = fields.join(',');
  if (spec.anomaly === 'random-byte') {
    // Anywhere, or (half the time) right after a ',': where a field's first byte is read.
    let at = Math.floor(spec.at * (text.length + 1));
    const comma = text.indexOf(',', at);
    if (spec.pick % 2 === 0 && comma !== -1) at = comma + 1;
    text = text.slice(0, at) + String.fromCharCode(spec.byte) + text.slice(at);
  }
  return text + lineEnd;
}

const rowArb = (layout: Layout, last: boolean) =>
  fc
    .tuple(pixelsArb(layout.features), valueText(layout.classes - 1, 3), rowSpecArb)
    .map(([pixels, label, spec]) => rowText(layout, pixels, label, spec, last));

/** Lines: rows (good or not) and blank lines ('\n', '\r\n'). */
const linesArb = (layout: Layout) =>
  fc
    .tuple(
      fc.array(
        fc.oneof(
          { weight: 5, arbitrary: rowArb(layout, false) },
          { weight: 1, arbitrary: fc.constantFrom('\n', '\r\n') },
        ),
        { maxLength: 12 },
      ),
      fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: rowArb(layout, true) }),
    )
    .map(([lines, last]) => lines.join('') + last);

const bytesOf = (text: string) => Buffer.from(text, 'latin1');
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

const specOf = (layout: Layout, table: Float32Array): DecodeSpec => ({
  layout: { hasHeader: false, fieldCount: layout.fieldCount, labelIndex: layout.labelIndex },
  features: layout.features,
  classes: layout.classes,
  table,
  maxRecordBytes: 1 << 20,
});

/** What one decode() call of the buffer from its start does, floats as their bits. */
function runOutcome(decoder: RowDecoder, buf: Buffer, maxRows: number, firstLine: number, features: number) {
  const p = decoder.decode(0, buf.length, maxRows, 0, firstLine);
  const { rows, line } = decoder;
  return {
    p,
    rows,
    line,
    x: bits(decoder.x.subarray(0, rows * features)),
    labels: Array.from(decoder.labels.subarray(0, rows)),
    lines: Array.from(decoder.lines.subarray(0, rows)),
  };
}

/** Both decoders on the buffer: their outcomes, wasm's first. */
function bothRuns(buf: Buffer, layout: Layout, table: Float32Array, maxRows: number, firstLine: number) {
  const spec = specOf(layout, table);
  // A fresh decoder (one page of memory, the least it has), so that a read or write out of place
  // traps instead of landing in memory an earlier, bigger input left.
  const wasm = freshDecoder();
  if (!wasm.load([buf], spec, maxRows)) throw new Error('the wasm decoder refused the input');
  const js = new JsRowDecoder([buf], spec, maxRows);
  return [wasm, js].map((decoder) => runOutcome(decoder, buf, maxRows, firstLine, layout.features));
}

test('one row: the wasm decodes exactly the rows the JavaScript decoder decodes, to the same floats and label', (t) => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(fc.constant(layout), rowArb(layout, true), fc.oneof(fc.constant(''), rowArb(layout, false)), tableArb),
      ),
      ([layout, row, next, table]) => {
        const buf = bytesOf(row + next);
        // A row, not a blank line.
        fc.pre(buf.length > 0 && buf[0] !== 10 && !(buf[0] === 13 && buf[1] === 10));
        const [wasm, js] = bothRuns(buf, layout, table, 1, 7);
        return isDeepStrictEqual(wasm, js);
      },
    ),
    { numRuns: NUM_RUNS * 4 },
  );
  t.pass();
});

test('runs of rows: the wasm stops exactly where the JavaScript decoder stops (a row it rejects, maxRows, the end)', (t) => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(fc.constant(layout), linesArb(layout), tableArb, fc.nat(14), fc.integer({ min: 1, max: 1000 })),
      ),
      ([layout, text, table, maxRows, firstLine]) => {
        const buf = bytesOf(text);
        fc.pre(buf.length > 0);
        const [wasm, js] = bothRuns(buf, layout, table, maxRows, firstLine);
        t.deepEqual(wasm, js);
      },
    ),
    { numRuns: NUM_RUNS * 2 },
  );
});

/** A decoded block, or what it threw, as plain comparable data (floats as their bits). */
function blockOutcome(run: () => DecodedBlock) {
  try {
    const { batch, errors } = run();
    return {
      batch: batch && {
        index: batch.index,
        rows: batch.rows,
        features: batch.features,
        x: bits(batch.x),
        labels: Array.from(batch.labels),
        lines: Array.from(batch.lines),
      },
      errors,
    };
  } catch (error) {
    return { threw: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** The lines as a block, its bytes in shared memory as a worker receives them, cut into `cuts` segments. */
function blockOf(buf: Buffer, firstLine: number, cuts: number[]): BlockData {
  const buffer = new SharedArrayBuffer(buf.length);
  new Uint8Array(buffer).set(buf);
  let rows = 0;
  for (let start = 0; start < buf.length; ) {
    const nl = buf.indexOf(10, start);
    const end = nl === -1 ? buf.length : nl;
    if (end > start && !(end - start === 1 && buf[start] === 13 && nl !== -1)) rows++;
    start = end + 1;
  }
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const segments = [0, ...points].map((start, i) => ({ buffer, start, end: [...points, buf.length][i] }));
  return { index: 3, firstLine, rows, segments };
}

test(
  'decodeBlock: the same batch, row errors and failures with the wasm decoder as with the JavaScript one, however ' +
    'the block is cut',
  (t) => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) =>
          fc.tuple(
            fc.constant(layout),
            linesArb(layout),
            tableArb,
            fc.integer({ min: 1, max: 5000 }),
            fc.array(fc.nat(2000), { maxLength: 4 }),
          ),
        ),
        ([layout, text, table, firstLine, cuts]) => {
          const buf = bytesOf(text);
          const spec = specOf(layout, table);
          const whole = blockOf(buf, firstLine, []);
          const expected = blockOutcome(() => decodeBlock(whole, spec, { decoder: null }));
          t.deepEqual(
            blockOutcome(() => decodeBlock(whole, spec, { decoder: wasm })),
            expected,
          );
          t.deepEqual(
            blockOutcome(() => decodeBlock(blockOf(buf, firstLine, cuts), spec, { decoder: wasm, copy: false })),
            expected,
          );
          t.deepEqual(
            blockOutcome(() => decodeBlock(blockOf(buf, firstLine, cuts), spec, { decoder: null })),
            expected,
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  },
);
