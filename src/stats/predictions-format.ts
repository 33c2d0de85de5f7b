// What a predictions file looks like: CSV (`line,row,label,predicted,confidence[,p0..pK-1]`, a header
// line first) or JSON Lines (one object per row, no header). `line` is the row's input line (1-based,
// as in error messages); `row` the 0-based index of the row among the scored rows (no gaps). Floats are
// the shortest decimals that read back as the same float32 (formatFloat32), so a file is byte for byte
// the same however the run was cut into batches or threads.
import { formatFloat32 } from './float-format.js';

export const PREDICTIONS_FORMATS = ['csv', 'jsonl'] as const;
export type PredictionsFormat = (typeof PREDICTIONS_FORMATS)[number];

/** The format and columns of one predictions file. */
export interface PredictionsLayout {
  format: PredictionsFormat;
  /** Output values written per row (p0..pK-1, or `probabilities`); 0: none. */
  probabilities: number;
  /** Several input files: a `file` column (field) first, and `line` is the line within that file. */
  files?: boolean;
}

export const CSV_LAYOUT: PredictionsLayout = { format: 'csv', probabilities: 0 };

/** The scored rows of one batch, as the pool hands them on (probabilities: rows x outputs, or null). */
export interface PredictionRows {
  lines: Uint32Array;
  /** Each row's input file, when the layout has a `file` column. */
  files?: readonly string[];
  labels: Int16Array;
  predicted: Int32Array;
  confidence: Float32Array;
  probabilities: Float32Array | null;
}

/** The format a file name asks for by its extension (.jsonl / .ndjson, .csv), or null for any other name. */
export function formatByName(path: string): PredictionsFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return null;
}

/** An explicit --predictions-format wins; then the name's extension; else (and for `-`) CSV. */
export const predictionsFormatFor = (path: string, explicit: PredictionsFormat | null): PredictionsFormat =>
  explicit ?? (path === '-' ? 'csv' : (formatByName(path) ?? 'csv'));

/** The CSV header line (without its newline); null for JSON Lines, which has none. */
export function headerOf(layout: PredictionsLayout): string | null {
  if (layout.format !== 'csv') return null;
  let header = `${layout.files ? 'file,' : ''}line,row,label,predicted,confidence`;
  for (let k = 0; k < layout.probabilities; k++) header += `,p${k}`;
  return header;
}

/** JSON has no NaN or Infinity: they are written as null. */
const jsonFloat = (value: number): string => (Number.isFinite(value) ? formatFloat32(value) : 'null');

/** Lines for `count` rows of `batch`, numbered from `firstRow`; each ends with a newline. */
export function formatRows(layout: PredictionsLayout, batch: PredictionRows, firstRow: number, count: number): string {
  const k = layout.probabilities;
  if (k > 0 && (batch.probabilities === null || batch.probabilities.length < count * k)) {
    throw new RangeError(
      `formatRows: ${count} rows of ${k} probabilities were asked for, the batch has ` +
        `${batch.probabilities?.length ?? 0} values`,
    );
  }
  const csv = layout.format === 'csv';
  const file = layout.files ? fileField(layout.format, batch) : null;
  let text = '';
  for (let i = 0; i < count; i++) {
    const label = batch.labels[i];
    if (file !== null) text += file(i);
    if (csv) {
      text += `${batch.lines[i]},${firstRow + i},${label === -1 ? '' : label},${batch.predicted[i]},${formatFloat32(batch.confidence[i])}`;
      for (let c = 0; c < k; c++) text += `,${formatFloat32(batch.probabilities![i * k + c])}`;
      text += '\n';
    } else {
      text +=
        `${file === null ? '{' : ''}"line":${batch.lines[i]},"row":${firstRow + i},"label":${label === -1 ? 'null' : label}` +
        `,"predicted":${batch.predicted[i]}` +
        `,"confidence":${jsonFloat(batch.confidence[i])}`;
      if (k > 0) {
        text += ',"probabilities":[';
        for (let c = 0; c < k; c++) text += `${c === 0 ? '' : ','}${jsonFloat(batch.probabilities![i * k + c])}`;
        text += ']';
      }
      text += '}\n';
    }
  }
  return text;
}

/** The `file` field of row i: `NAME,` in CSV (quoted when it must be), `{"file":"NAME",` in JSON Lines. */
function fileField(format: PredictionsFormat, batch: PredictionRows): (i: number) => string {
  const files = batch.files;
  if (files === undefined) throw new RangeError('formatRows: the layout has a file column, the batch has no files');
  let name = '';
  let field = '';
  return (i) => {
    if (files[i] !== name || field === '') {
      name = files[i];
      field = format === 'csv' ? `${csvText(name)},` : `{"file":${JSON.stringify(name)},`;
    }
    return field;
  };
}

/** A CSV field holding `text` (RFC 4180: quoted when it holds a comma, a quote or a line break). */
const csvText = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

/** The leading `line` and `row` of a data line, and where the rest of it starts; null for anything else. */
export function lineAndRow(
  format: PredictionsFormat,
  text: string,
): { line: number; row: number; rest: number } | null {
  const match = (format === 'csv' ? /^([0-9]+),([0-9]+)(?=,)/ : /^\{"line":([0-9]+),"row":([0-9]+)(?=,)/).exec(text);
  if (match === null) return null;
  const line = Number(match[1]);
  const row = Number(match[2]);
  if (!Number.isSafeInteger(line) || line < 1 || !Number.isSafeInteger(row)) return null;
  return { line, row, rest: match[0].length };
}

/** A data line with its line and row numbers moved by the offsets (a shard's numbers made absolute). */
export function renumbered(
  format: PredictionsFormat,
  numbers: { line: number; row: number; rest: number },
  text: string,
  lineOffset: number,
  rowOffset: number,
): string {
  const line = numbers.line + lineOffset;
  const row = numbers.row + rowOffset;
  return (format === 'csv' ? `${line},${row}` : `{"line":${line},"row":${row}`) + text.slice(numbers.rest);
}
