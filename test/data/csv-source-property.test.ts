// Property (node:assert inside, so fast-check can shrink a failure): for any small valid file (header or not, label or
// not and where, LF or CRLF, BOM or not,
// final newline or not, blank lines anywhere, quoted or zero-padded values), csvRows returns exactly
// the rows written, in order, with the physical line each was written on.
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { collect, plain, stdinOf, tempDir, writeTemp } from './helpers.js';

let dir = '';
let cleanup = async () => undefined as void;
test.before(async () => ({ dir, cleanup } = await tempDir()));
test.after.always(() => cleanup());

interface Spec {
  features: number;
  classes: number;
  labeled: boolean;
  header: boolean;
  /** Where the label column goes (header files only; label-first otherwise). */
  labelSlot: number;
  labelName: string;
  rows: Array<{ label: number; pixels: number[] }>;
  /** Blank lines before each row, and after the last one. */
  blanks: number[];
  eol: '\n' | '\r\n';
  bom: boolean;
  finalNewline: boolean;
  /** How each value is written: plain, zero-padded or quoted (cycled through the fields). */
  styles: Array<'plain' | 'padded' | 'quoted'>;
}

const specArbitrary: fc.Arbitrary<Spec> = fc
  .record({
    features: fc.integer({ min: 1, max: 6 }),
    classes: fc.integer({ min: 1, max: 12 }),
    labeled: fc.boolean(),
    header: fc.boolean(),
    labelSlotSeed: fc.nat(),
    labelName: fc.constantFrom('label', 'Label', 'LABEL', ' label '),
    rowCount: fc.integer({ min: 1, max: 12 }),
    eol: fc.constantFrom('\n' as const, '\r\n' as const),
    bom: fc.boolean(),
    finalNewline: fc.boolean(),
    styles: fc.array(fc.constantFrom('plain' as const, 'padded' as const, 'quoted' as const), {
      minLength: 1,
      maxLength: 5,
    }),
  })
  .chain((base) =>
    fc
      .record({
        rows: fc.array(
          fc.record({
            label: fc.integer({ min: 0, max: base.classes - 1 }),
            pixels: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: base.features, maxLength: base.features }),
          }),
          { minLength: base.rowCount, maxLength: base.rowCount },
        ),
        blanks: fc.array(
          fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
          {
            minLength: base.rowCount + 1,
            maxLength: base.rowCount + 1,
          },
        ),
      })
      .map(({ rows, blanks }) => ({
        ...base,
        labelSlot: base.header ? base.labelSlotSeed % (base.features + 1) : 0,
        rows,
        blanks,
      })),
  );

function render(spec: Spec): {
  text: string;
  expected: Array<{ line: number; label: number | null; pixels: number[] }>;
} {
  const lines: string[] = [];
  let styleIndex = 0;
  const value = (v: number) => {
    const style = spec.styles[styleIndex++ % spec.styles.length];
    return style === 'padded' ? String(v).padStart(3, '0') : style === 'quoted' ? `"${v}"` : String(v);
  };
  const fieldsOf = (label: string | null, pixels: string[]) => {
    if (label === null) return pixels;
    const fields = [...pixels];
    fields.splice(spec.labelSlot, 0, label);
    return fields;
  };
  if (spec.header) {
    const names = Array.from({ length: spec.features }, (_, i) => `pixel${i}`);
    // With the label first, its column may have any name; elsewhere it must be called `label`.
    const labelName = spec.labelSlot === 0 && spec.styles.length % 2 === 0 ? 'y' : spec.labelName;
    lines.push(fieldsOf(spec.labeled ? labelName : null, names).join(','));
  }
  const expected: Array<{ line: number; label: number | null; pixels: number[] }> = [];
  spec.rows.forEach((row, i) => {
    for (let b = 0; b < spec.blanks[i]; b++) lines.push('');
    lines.push(fieldsOf(spec.labeled ? value(row.label) : null, row.pixels.map(value)).join(','));
    expected.push({ line: lines.length, label: spec.labeled ? row.label : null, pixels: row.pixels });
  });
  for (let b = 0; b < spec.blanks[spec.rows.length]; b++) lines.push('');
  const text = (spec.bom ? '\ufeff' : '') + lines.join(spec.eol) + (spec.finalNewline ? spec.eol : '');
  return { text, expected };
}

test('every valid file reads back exactly, from a file', async (t) => {
  await fc.assert(
    fc.asyncProperty(specArbitrary, async (spec) => {
      const { text, expected } = render(spec);
      const input = await writeTemp(dir, text);
      const { rows, errors, layouts } = await collect({ input, features: spec.features, classes: spec.classes });
      deepStrictEqual(errors, []);
      deepStrictEqual(layouts, [
        {
          hasHeader: spec.header,
          fieldCount: spec.features + (spec.labeled ? 1 : 0),
          labelIndex: spec.labeled ? spec.labelSlot : -1,
        },
      ]);
      deepStrictEqual(plain(rows), expected);
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test('every valid file reads back exactly, from stdin in tiny chunks', async (t) => {
  await fc.assert(
    fc.asyncProperty(specArbitrary, fc.integer({ min: 1, max: 9 }), async (spec, chunk) => {
      const { text, expected } = render(spec);
      const { rows } = await collect({
        input: '-',
        stdin: stdinOf(text, chunk),
        features: spec.features,
        classes: spec.classes,
      });
      deepStrictEqual(plain(rows), expected);
    }),
    { numRuns: 100 },
  );
  t.pass();
});
