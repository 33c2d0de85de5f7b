// Generated CSV inputs for the differential property tests (fast-csv-property, line-batches): a spec
// (layout, rows, value styles, blank lines, line ends, BOM, corruptions) and its bytes.
import fc from 'fast-check';

export const CORRUPTIONS = [
  'extra',
  'missing',
  'x',
  '1.5',
  '-1',
  '256',
  'empty',
  '1e2',
  ' 1',
  '1 ',
  '+1',
  'nul',
  'nulAfter',
  'latin1',
  'utf8',
  'labelTooBig',
  'unclosed',
  'bareCR',
  'longField',
  'quotedNL',
  'quotedCRLF',
  'strayQuote',
  'quoteThenText',
  'escapedQuote',
  'quotedDigits',
  'emptyQuoted',
  'quoteNul',
  'spacesLine',
  'crLine',
  'commasLine',
  'quoteAtEnd',
] as const;
export type Corruption = (typeof CORRUPTIONS)[number];
/** The corruptions that make a quoted field run across a line end (which decoding in the workers refuses). */
export const SPANNING: readonly Corruption[] = ['unclosed', 'quotedNL', 'quotedCRLF'];

export interface Spec {
  features: number;
  classes: number;
  labeled: boolean;
  header: boolean;
  headerQuoted: boolean;
  labelSlot: number;
  rows: Array<{ label: number; pixels: number[]; styles: number[] }>;
  blanks: Array<Array<'\n' | '\r\n'>>;
  eols: Array<'\n' | '\r\n'>;
  /** Blank lines before the first record (header or row). */
  leading: Array<'\n' | '\r\n'>;
  bom: boolean;
  finalNewline: boolean;
  corruptions: Array<{ row: number; field: number; kind: Corruption }>;
  maxRecordBytes: number | undefined;
}

export const specArbitrary = (corruptions: readonly Corruption[], maxRows = 9): fc.Arbitrary<Spec> =>
  fc
    .record({
      features: fc.integer({ min: 1, max: 5 }),
      classes: fc.integer({ min: 1, max: 12 }),
      labeled: fc.boolean(),
      header: fc.boolean(),
      headerQuoted: fc.boolean(),
      labelSlotSeed: fc.nat(),
      rowCount: fc.integer({ min: 0, max: maxRows }),
      bom: fc.boolean(),
      finalNewline: fc.boolean(),
      maxRecordBytes: fc.option(fc.integer({ min: 24, max: 160 }), { nil: undefined }),
    })
    .chain((base) =>
      fc
        .record({
          rows: fc.array(
            fc.record({
              label: fc.integer({ min: 0, max: base.classes - 1 }),
              pixels: fc.array(fc.integer({ min: 0, max: 255 }), {
                minLength: base.features,
                maxLength: base.features,
              }),
              styles: fc.array(
                fc.oneof(
                  { weight: 8, arbitrary: fc.constant(0) },
                  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
                ),
                {
                  minLength: base.features + 1,
                  maxLength: base.features + 1,
                },
              ),
            }),
            { minLength: base.rowCount, maxLength: base.rowCount },
          ),
          blanks: fc.array(fc.array(fc.constantFrom('\n' as const, '\r\n' as const), { maxLength: 2 }), {
            minLength: base.rowCount + 1,
            maxLength: base.rowCount + 1,
          }),
          eols: fc.array(fc.constantFrom('\n' as const, '\r\n' as const), {
            minLength: base.rowCount + 1,
            maxLength: base.rowCount + 1,
          }),
          leading: fc.array(fc.constantFrom('\n' as const, '\r\n' as const), { maxLength: 2 }),
          corruptions: fc.array(fc.record({ row: fc.nat(), field: fc.nat(), kind: fc.constantFrom(...corruptions) }), {
            maxLength: 3,
          }),
        })
        .map((more) => ({
          ...base,
          ...more,
          headerQuoted: base.headerQuoted && base.header,
          labelSlot: base.header ? base.labelSlotSeed % (base.features + 1) : 0,
        })),
    );

/** The spec as bytes (a latin1 string is used as a byte string: one char per byte). */
export function render(spec: Spec): Buffer {
  const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const maxBytes = spec.maxRecordBytes ?? 65536;
  const withLabel = (label: string | null, pixels: string[]) => {
    if (label === null) return pixels;
    const fields = [...pixels];
    fields.splice(spec.labelSlot, 0, label);
    return fields;
  };
  const records: string[][] = [];
  if (spec.header) {
    const names = Array.from({ length: spec.features }, (_, i) => (i === 1 ? utf8('pixél1') : `pixel${i}`));
    const fields = withLabel(
      spec.labeled ? (spec.labelSlot === 0 && spec.features % 2 === 0 ? 'y' : 'label') : null,
      names,
    );
    records.push(spec.headerQuoted ? fields.map((f) => `"${f}"`) : fields);
  }
  for (const row of spec.rows) {
    const value = (v: number, style: number) =>
      style === 1 ? String(v).padStart(3, '0') : style === 2 ? `"${v}"` : String(v);
    records.push(
      withLabel(
        spec.labeled ? value(row.label, row.styles[spec.features]) : null,
        row.pixels.map((v, i) => value(v, row.styles[i])),
      ),
    );
  }
  const wholeLine = new Map<number, string>();
  for (const { row, field, kind } of spec.corruptions) {
    if (records.length === 0) break;
    const r = row % records.length;
    const fields = records[r];
    const f = field % Math.max(1, fields.length);
    const set = (text: string) => {
      if (fields.length > 0) fields[f] = text;
    };
    const labelField = spec.labeled ? spec.labelSlot : f;
    switch (kind) {
      case 'extra':
        fields.push('1');
        break;
      case 'missing':
        fields.pop();
        break;
      case 'empty':
        set('');
        break;
      case 'nul':
        set('\0');
        break;
      case 'nulAfter':
        set(`${fields[f] ?? ''}\0`);
        break;
      case 'latin1':
        set('\xff');
        break;
      case 'utf8':
        set(utf8('é'));
        break;
      case 'labelTooBig':
        fields[labelField] = String(spec.classes);
        break;
      case 'unclosed':
        set(`"${fields[f] ?? ''}`);
        break;
      case 'bareCR':
        set(`1\r2`);
        break;
      // Only with a small bound: a line over the default 64 KiB makes an input bigger than what
      // either path reads ahead before delivering, where the csv-parse path's timing decides how
      // many rows come before the error (see fast-csv-errors.test.ts for such inputs).
      case 'longField':
        set(spec.maxRecordBytes === undefined ? '7' : '7'.repeat(maxBytes + 3));
        break;
      case 'quotedNL':
        set('"1\n2"');
        break;
      case 'quotedCRLF':
        set('"3\r\n4"');
        break;
      case 'strayQuote':
        set('1"2');
        break;
      case 'quoteThenText':
        set('"12"3');
        break;
      case 'escapedQuote':
        set('"1""2"');
        break;
      case 'quotedDigits':
        set('"042"');
        break;
      case 'emptyQuoted':
        set('""');
        break;
      case 'quoteNul':
        set('"5"\0');
        break;
      case 'quoteAtEnd':
        set('5"');
        break;
      case 'spacesLine':
        wholeLine.set(r, '   ');
        break;
      case 'crLine':
        wholeLine.set(r, '\r');
        break;
      case 'commasLine':
        wholeLine.set(r, ','.repeat(Math.min(maxBytes + 2, 400)));
        break;
      default:
        set(kind);
        break;
    }
  }
  let text = spec.bom ? '\xef\xbb\xbf' : '';
  const body: string[] = [...spec.leading];
  const offset = spec.header ? 1 : 0;
  records.forEach((fields, r) => {
    const dataIndex = r - offset;
    if (dataIndex >= 0) for (const blank of spec.blanks[dataIndex]) body.push(blank);
    body.push(
      (wholeLine.get(r) ?? fields.join(',')) +
        (r === records.length - 1 && !spec.finalNewline ? '' : spec.eols[Math.max(0, dataIndex) % spec.eols.length]),
    );
  });
  if (spec.finalNewline) for (const blank of spec.blanks[spec.rows.length]) body.push(blank);
  text += body.join('');
  return Buffer.from(text, 'latin1');
}

export type FeedingChoice = 'file' | { kind: 'stdin' | 'trickle'; cuts?: number[]; every?: number };

export const feedingArbitrary = (length: number): fc.Arbitrary<FeedingChoice> =>
  fc.oneof(
    fc.constant<'file'>('file'),
    fc.record({
      kind: fc.constantFrom<'stdin' | 'trickle'>('stdin', 'trickle'),
      cuts: fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 }),
    }),
    fc.record({
      kind: fc.constantFrom<'stdin' | 'trickle'>('stdin', 'trickle'),
      every: fc.integer({ min: 1, max: 9 }),
    }),
  );
