// csv-parse's string records as validated rows: the layout (header or first row), then each record.
// Nothing is coerced: a field is plain ASCII digits (leading zeros allowed), 0..255 for a pixel and
// 0..classes-1 for a label, or the row is bad ('1.5', '-1', ' 12', '' ...) with a message naming the
// field, counted from 1 like lines ("field 17 (pixel 16)").
import type { CsvLayout, Row } from './types.js';

/** Value of a field of plain ASCII digits that is at most `max`, or -1. A char loop: no regex, no Number(). */
export function parseSmallInt(field: string, max: number): number {
  const n = field.length;
  if (n === 0) return -1;
  let value = 0;
  for (let k = 0; k < n; k++) {
    const digit = field.charCodeAt(k) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
    if (value > max) return -1;
  }
  return value;
}

/** A field as shown in messages: quoted, control characters escaped, long values cut. */
function showField(field: string): string {
  const cut = field.length > 24 ? `${field.slice(0, 24)}…` : field;
  // JSON escapes control characters (\u0000, \r, \t) so they are visible in a terminal.
  return `'${JSON.stringify(cut).slice(1, -1)}'`;
}

// ---- layout ----------------------------------------------------------------------------------------

/** Something a number could look like, right or wrong ('12', '-1', '1.5', '1e2', ' 3 '). */
const NUMBER_LIKE = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** Column numbers counting from 0 or 1 past 255 (pandas' `0,1,...,784`): no data row can hold them. */
function isColumnNumbers(record: readonly string[]): boolean {
  const first = record[0];
  if (record.length < 3 || (first !== '0' && first !== '1')) return false;
  const start = Number(first);
  if (start + record.length - 1 <= 255) return false;
  return record.every((field, i) => field === String(start + i));
}

/**
 * Whether a first row is a header: column numbers (isColumnNumbers), or text fields that look like names
 * (a `label` column, mostly text, or counting numbers: `y,0,1,...`). A data row with a few bad values
 * ('x7', '1.5') stays data, reported as a bad row, never dropped as a header.
 */
export function looksLikeHeader(record: readonly string[]): boolean {
  if (isColumnNumbers(record)) return true;
  const numbers: number[] = [];
  let text = 0;
  for (const field of record) {
    if (NUMBER_LIKE.test(field)) numbers.push(Number(field));
    else if (field !== '') text++;
  }
  if (text === 0) return false;
  if (record.some(isLabelName)) return true;
  if (2 * text >= record.length) return true;
  return numbers.length >= 3 && numbers.every((n, i) => i === 0 || n > numbers[i - 1]);
}

/** A column name that says "the label", in any case and with any spaces around. */
export const isLabelName = (field: string) => field.trim().toLowerCase() === 'label';

export type LayoutResult = { layout: CsvLayout } | { problem: string };

const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const expectedCounts = (features: number) =>
  `${features} (pixels only) or ${features + 1} (a label and ${features} pixels)`;

/** The layout fixed by the first non-blank record: its header, or the first data row's field count. */
export function detectLayout(first: readonly string[], features: number): LayoutResult {
  const count = first.length;
  if (!looksLikeHeader(first)) {
    if (count === features + 1) return { layout: { hasHeader: false, fieldCount: count, labelIndex: 0 } };
    if (count === features) return { layout: { hasHeader: false, fieldCount: count, labelIndex: -1 } };
    return { problem: `the first row has ${counted(count, 'field')}; expected ${expectedCounts(features)}` };
  }
  const labelColumns = first.flatMap((name, i) => (isLabelName(name) ? [i] : []));
  if (labelColumns.length > 1) {
    return {
      problem:
        `the header has ${labelColumns.length} columns named 'label' (fields ` +
        `${labelColumns.map((i) => i + 1).join(', ')})`,
    };
  }
  if (count === features + 1) {
    // A column named `label` wherever it is; otherwise the label comes first, whatever its name.
    return {
      layout: { hasHeader: true, fieldCount: count, labelIndex: labelColumns.length === 1 ? labelColumns[0] : 0 },
    };
  }
  if (count === features) {
    if (labelColumns.length === 1) {
      return {
        problem: `the header has a 'label' column and ${count - 1} pixel columns; expected ${features} pixel columns`,
      };
    }
    return { layout: { hasHeader: true, fieldCount: count, labelIndex: -1 } };
  }
  return { problem: `the header has ${counted(count, 'column')}; expected ${expectedCounts(features)}` };
}

// ---- rows ------------------------------------------------------------------------------------------

/** What a column holds (columnRoles). */
export const PIXEL = 0;
export const LABEL = 1;
export const DROPPED = 2;

/** Each field's role in the layout's rows. */
export function columnRoles(layout: CsvLayout): Uint8Array {
  const roles = new Uint8Array(layout.fieldCount);
  for (const i of layout.drop ?? []) roles[i] = DROPPED;
  if (layout.labelIndex >= 0) roles[layout.labelIndex] = LABEL;
  return roles;
}

/** Validates records of one file against its layout. */
export class RowParser {
  private readonly roles: Uint8Array;

  constructor(
    readonly layout: CsvLayout,
    readonly features: number,
    readonly classes: number,
  ) {
    const pixelFields = layout.fieldCount - (layout.labelIndex >= 0 ? 1 : 0) - (layout.drop?.length ?? 0);
    if (pixelFields !== features) throw new RangeError(`layout has ${pixelFields} pixel fields, expected ${features}`);
    this.roles = columnRoles(layout);
  }

  /** The row, or the problem with it (a message naming the field). */
  parse(record: readonly string[], line: number): Row | string {
    const { fieldCount, labelIndex } = this.layout;
    if (record.length !== fieldCount) {
      return `expected ${counted(fieldCount, 'field')}, found ${record.length}`;
    }
    let label: number | null = null;
    if (labelIndex >= 0) {
      label = parseSmallInt(record[labelIndex], this.classes - 1);
      if (label < 0) return this.labelProblem(record[labelIndex]);
    }
    const pixels = new Uint8Array(this.features);
    for (let i = 0, pixel = 0; i < fieldCount; i++) {
      if (this.roles[i] !== PIXEL) continue;
      const value = parseSmallInt(record[i], 255);
      if (value < 0) return this.pixelProblem(record[i], i, pixel + 1);
      pixels[pixel++] = value;
    }
    return { line, label, pixels };
  }

  private labelProblem(field: string): string {
    const where = `label (field ${this.layout.labelIndex + 1})`;
    return emptyOrNul(where, field) ?? `label ${showField(field)} is not an integer 0..${this.classes - 1}`;
  }

  private pixelProblem(field: string, index: number, pixel: number): string {
    const where = `field ${index + 1} (pixel ${pixel})`;
    return emptyOrNul(where, field) ?? `${where}: ${showField(field)} is not an integer 0..255`;
  }
}

/** The problem with a field that is empty or holds a NUL byte; null for any other. */
function emptyOrNul(where: string, field: string): string | null {
  if (field === '') return `${where} is empty`;
  return field.includes('\0') ? `${where} contains a NUL byte` : null;
}
