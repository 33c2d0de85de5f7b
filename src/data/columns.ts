// --label-column and --drop-columns: which column is the label and which columns are not pixels, said by
// the user instead of guessed. Resolved once, from the first record, into the CsvLayout that every row
// is read with; without a choice the layout is detectLayout's guess, as before.
import { detectLayout, isLabelName, looksLikeHeader, parseSmallInt, type LayoutResult } from './row-parser.js';
import type { CsvLayout } from './types.js';

/** A column by header name or by 0-based index. */
export type ColumnRef = string | number;

export interface ColumnChoice {
  /** The label column, or 'none' for unlabeled input; unset: detected. */
  label?: ColumnRef | 'none';
  /** Columns that are neither label nor pixels (an id, a file name). */
  drop?: readonly ColumnRef[];
}

/** A --label-column / --drop-columns item: 0-based index, else a name (`none` stays a name here). */
export function parseColumnRef(text: string): ColumnRef | { problem: string } {
  const item = text.trim();
  if (item === '') return { problem: 'is empty' };
  if (/^-\d+$/.test(item)) return { problem: `'${item}': an index counts from 0` };
  return /^\d+$/.test(item) ? Number(item) : item;
}

const describeRef = (ref: ColumnRef) => (typeof ref === 'number' ? `index ${ref}` : `'${ref}'`);

/** The layout of a file whose first record is `first`, with the user's column choice applied. */
export function resolveLayout(
  first: readonly string[],
  features: number,
  choice: ColumnChoice | undefined,
): LayoutResult {
  if (choice === undefined || (choice.label === undefined && !choice.drop?.length))
    return detectLayout(first, features);
  const names = [choice.label, ...(choice.drop ?? [])].filter(
    (ref): ref is string => typeof ref === 'string' && ref !== 'none',
  );
  const hasHeader = looksLikeHeader(first) || names.some((name) => first.some((field) => field.trim() === name));
  const count = first.length;
  const find = (ref: ColumnRef, option: string): number | string => {
    if (typeof ref === 'number')
      return ref < count ? ref : `${option} ${ref}: the rows have ${count} columns (indexes 0..${count - 1})`;
    if (!hasHeader) return `${option} '${ref}' names a column, but the input has no header`;
    const at = first.findIndex((field) => field.trim() === ref);
    return at >= 0 ? at : `${option} '${ref}': no column of that name in the header`;
  };
  const drop: number[] = [];
  for (const ref of choice.drop ?? []) {
    const at = find(ref, '--drop-columns');
    if (typeof at === 'string') return { problem: at };
    if (!drop.includes(at)) drop.push(at);
  }
  drop.sort((a, b) => a - b);
  const kept = count - drop.length;
  let labelIndex = -1;
  if (choice.label !== undefined && choice.label !== 'none') {
    const at = find(choice.label, '--label-column');
    if (typeof at === 'string') return { problem: at };
    if (drop.includes(at)) return { problem: `--label-column ${describeRef(choice.label)} is also in --drop-columns` };
    labelIndex = at;
  } else if (choice.label === undefined && kept === features + 1) {
    // As detectLayout: a column named `label`, else the first column kept.
    const named = hasHeader ? first.findIndex((field, i) => isLabelName(field) && !drop.includes(i)) : -1;
    labelIndex = named >= 0 ? named : first.findIndex((_, i) => !drop.includes(i));
  }
  const pixels = kept - (labelIndex >= 0 ? 1 : 0);
  if (pixels !== features) {
    const label = labelIndex >= 0 ? `a label (column ${labelIndex})` : 'no label';
    const what = `${count} columns, ${drop.length} dropped, ${label}`;
    return {
      problem: `the ${hasHeader ? 'header' : 'first row'} has ${what}: ${pixels} pixel columns, expected ${features}`,
    };
  }
  const layout: CsvLayout = { hasHeader, fieldCount: count, labelIndex };
  if (drop.length > 0) layout.drop = drop;
  return { layout };
}

/** Rows looked at for the label hint. */
export const HINT_ROWS = 100;

/**
 * Whether an input read as unlabeled has a first column that looks like labels: in the rows sampled,
 * every first field is an integer 0..min(9, classes - 1), with at least two values, while the other
 * columns hold pixels above 9. (A real pixel column there is mostly one value: MNIST's corner is 0.)
 */
export function looksLabeled(rows: readonly (readonly string[])[], classes: number): boolean {
  const max = Math.min(9, classes - 1);
  const seen = new Set<number>();
  let pixelsAbove = false;
  for (const row of rows) {
    const value = parseSmallInt(row[0] ?? '', max);
    if (value < 0) return false;
    seen.add(value);
    for (let i = 1; i < row.length && !pixelsAbove; i++) pixelsAbove = parseSmallInt(row[i], 255) > 9;
  }
  return seen.size >= 2 && pixelsAbove;
}

export const labelHint = (features: number) =>
  `read as unlabeled (${features} pixel columns), but the first column looks like labels (integers 0-9); if it is ` +
  `the label, the rows are one pixel short for this model. Say --label-column none to read it as pixels, or ` +
  `--label-column 0`;

/** The hint's check on the first lines of raw text (the framer's first read), lines with quotes left out. */
export function looksLabeledText(text: string, classes: number): boolean {
  const rows = text.split('\n', HINT_ROWS + 1).slice(0, -1); // the last piece may be cut
  const sample = rows.map((line) => line.replace(/\r$/, '')).filter((line) => line !== '' && !line.includes('"'));
  return looksLabeled(
    sample.map((line) => line.split(',')),
    classes,
  );
}
