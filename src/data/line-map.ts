// Several input files are read as one run: their data lines are numbered on across the files (the
// "run line" every block, batch and row error carries), and this table maps a run line back to the file
// and the line within that file that messages, predictions and reports name. A file is added when the
// reader reaches its first data line, before any of its rows go out, so every run line handed on can be
// located. With one input file a run line is that file's line.
import { DataError } from '../errors.js';

/** A run line as the user sees it: the file and the 1-based line within it. */
export interface FileLine {
  file: string;
  line: number;
}

export class LineMap {
  /** Per file added, in order: its index in `files`, the run line of its first data line and that line's own number. */
  private readonly starts: { file: number; runLine: number; fileLine: number }[] = [];

  /** `files`: every input file's name in messages, in input order. */
  constructor(readonly files: readonly string[]) {
    if (files.length === 0) throw new RangeError('LineMap: no input files');
  }

  /** More than one input file: messages and predictions then name the file of every line. */
  get several(): boolean {
    return this.files.length > 1;
  }

  /** From run line `runLine` on, the lines are file `file`'s, from its line `fileLine`. */
  add(file: number, runLine: number, fileLine: number): void {
    const last = this.starts.at(-1);
    if (last !== undefined && (file <= last.file || runLine < last.runLine))
      throw new RangeError(`LineMap.add: file ${file} at run line ${runLine} does not follow the last one added`);
    this.starts.push({ file, runLine, fileLine });
  }

  /** The index (in `files`) of the file holding run line `runLine` (0 before any file was added). */
  fileIndex(runLine: number): number {
    const at = this.startOf(runLine);
    return at < 0 ? 0 : this.starts[at].file;
  }

  /** Where run line `runLine` is; 0 (no line) stays 0, in the first file. */
  locate(runLine: number): FileLine {
    const at = runLine > 0 ? this.startOf(runLine) : -1;
    if (at < 0) return { file: this.files[0], line: runLine };
    const start = this.starts[at];
    return { file: this.files[start.file], line: runLine - start.runLine + start.fileLine };
  }

  /** The DataError for a problem at run line `runLine`, naming the file and its line. */
  error(runLine: number, problem: string): DataError {
    const { file, line } = this.locate(runLine);
    return new DataError(file, line, problem);
  }

  /** The last start at or before `runLine` (-1: none): a binary search, the table is in run-line order. */
  private startOf(runLine: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.starts[mid].runLine <= runLine) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  }
}

/** The name of several inputs together, in messages about the whole run ("a.csv and 2 more files"). */
export const describeFiles = (files: readonly string[]): string =>
  files.length === 1 ? files[0] : `${files[0]} and ${files.length - 1} more file${files.length === 2 ? '' : 's'}`;
