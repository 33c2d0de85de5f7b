// A run over several input files, per file: the rows scored and skipped in each (the report's
// `input.files`), and predictions rows named by their file and their line there (the `file` column).
import type { LineMap } from '../data/line-map.js';
import type { PredictionRows } from './predictions-format.js';

/** One input file of several, as the report's `input.files` lists it. */
export interface InputFileSummary {
  path: string;
  /** Its size on disk, null when unknown. */
  bytes: number | null;
  /** Its rows scored and skipped (bad). */
  rows: number;
  skipped: number;
}

export class FileCounts {
  private readonly rows: number[];
  private readonly skipped: number[];

  constructor(
    private readonly files: readonly string[],
    private readonly sizes: readonly (number | null)[],
  ) {
    this.rows = files.map(() => 0);
    this.skipped = files.map(() => 0);
  }

  /** The first `count` rows of a batch, by their run lines (in order, so most batches lie in one file). */
  addRows(map: LineMap, lines: Uint32Array, count: number): void {
    if (count === 0) return;
    const first = map.fileIndex(lines[0]);
    if (first === map.fileIndex(lines[count - 1])) {
      this.rows[first] += count;
      return;
    }
    for (let i = 0; i < count; i++) this.rows[map.fileIndex(lines[i])]++;
  }

  addSkipped(map: LineMap, line: number): void {
    this.skipped[map.fileIndex(line)]++;
  }

  report(): InputFileSummary[] {
    return this.files.map((path, i) => ({
      path,
      bytes: this.sizes[i],
      rows: this.rows[i],
      skipped: this.skipped[i],
    }));
  }
}

/** A batch's predictions rows with each row's file and its line there, for a predictions file's `file` column. */
export function withFiles<T extends PredictionRows>(batch: T, map: LineMap): PredictionRows {
  const lines = new Uint32Array(batch.lines.length);
  const files: string[] = new Array<string>(batch.lines.length);
  for (let i = 0; i < lines.length; i++) {
    const where = map.locate(batch.lines[i]);
    lines[i] = where.line;
    files[i] = where.file;
  }
  return {
    lines,
    files,
    labels: batch.labels,
    predicted: batch.predicted,
    confidence: batch.confidence,
    probabilities: batch.probabilities,
  };
}
