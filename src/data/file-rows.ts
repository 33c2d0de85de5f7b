// The csv-parse path over several input files: each file's rows (csv-source.ts reads it whole, header
// and all, with its own line numbers and messages), numbered on as run lines (line-map.ts), `limit` good
// rows across them all. The files' heads were checked alike before (input-files.ts).
import type { CsvSourceOptions } from './source-options.js';
import type { LineMap } from './line-map.js';
import type { Row } from './types.js';

export interface FileRowsOptions extends CsvSourceOptions {
  /** Every input file, in order (`input` is ignored). */
  files: readonly string[];
  /** Each file's size on disk (null: unknown, counted as 0), for progress across the files. */
  sizes: readonly (number | null)[];
  lines: LineMap;
}

export async function* fileRows(options: FileRowsOptions): AsyncGenerator<Row, void, undefined> {
  // csv-parse is loaded only when this path is taken.
  const { csvRows } = await import('./csv-source.js');
  const { files, sizes, lines, limit } = options;
  let runLines = 0;
  let doneBytes = 0;
  let good = 0;
  for (let index = 0; index < files.length; index++) {
    const base = runLines;
    let last = 0;
    lines.add(index, base + 1, 1);
    const rows = csvRows({
      ...options,
      input: files[index],
      limit: limit === undefined ? undefined : limit - good,
      onRowError: (error) => {
        last = error.line;
        options.onRowError?.({ line: base + error.line, message: error.message });
      },
      onBytes: options.onBytes && ((bytes) => options.onBytes!(doneBytes + bytes)),
      // The first file's layout and hint stand for every file's.
      onLayout: index === 0 ? options.onLayout : undefined,
      onWarning: index === 0 ? options.onWarning : undefined,
    });
    for await (const row of rows) {
      last = row.line;
      good++;
      yield { ...row, line: base + row.line };
    }
    if ((limit !== undefined && good >= limit) || options.signal?.aborted) return;
    runLines = base + last;
    doneBytes += sizes[index] ?? 0;
  }
}
