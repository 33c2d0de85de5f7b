// --label-column and --drop-columns: their text turned into the column choice src/data/columns.ts
// applies to the file's first record. Bad text is a usage error (exit 2) naming the option.
import { UsageError } from '../errors.js';
import { parseColumnRef, type ColumnChoice, type ColumnRef } from '../data/columns.js';

export const LABEL_COLUMN_HELP = 'the label column: a header name, a 0-based index, or none (unlabeled)';
export const DROP_COLUMNS_HELP =
  'columns that are neither label nor pixels (an id): comma-separated header names or 0-based indexes';

/** The column choice of --label-column / --drop-columns, or null when neither is given. */
export function parseColumnOptions(
  labelColumn: string | undefined,
  dropColumns: string | undefined,
): ColumnChoice | null {
  if (labelColumn === undefined && dropColumns === undefined) return null;
  const ref = (text: string, option: string): ColumnRef => {
    const parsed = parseColumnRef(text);
    if (typeof parsed === 'object') {
      const what =
        option === '--label-column'
          ? 'a header name, a 0-based index, or none'
          : 'comma-separated header names or 0-based indexes';
      throw new UsageError(
        `${option}: ${parsed.problem === 'is empty' ? 'an empty column' : parsed.problem} (${what})`,
      );
    }
    return parsed;
  };
  const choice: ColumnChoice = {};
  if (labelColumn !== undefined)
    choice.label = labelColumn.trim() === 'none' ? 'none' : ref(labelColumn, '--label-column');
  if (dropColumns !== undefined) {
    const drop = dropColumns.split(',').map((item) => ref(item, '--drop-columns'));
    if (new Set(drop).size !== drop.length) throw new UsageError(`--drop-columns names a column twice: ${dropColumns}`);
    if (choice.label !== undefined && drop.includes(choice.label))
      throw new UsageError(`--label-column ${labelColumn} is also in --drop-columns`);
    choice.drop = drop;
  }
  return choice;
}
