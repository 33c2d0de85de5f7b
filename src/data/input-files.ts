// Several input files scored as one run must be read alike: every file's first record (header or first
// row) is read before any row is scored, and must give the layout the first file's gives (header or
// not, the same columns and header names, the same label column). The head also says where a file's
// data starts, so that the readers of files 2..n skip their headers (file-sequence.ts, file-rows.ts).
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DataError } from '../errors.js';
import { resolveLayout, type ColumnChoice } from './columns.js';
import { dataStartOf, firstRecordOrFail, type FoundRecord } from './head.js';
import { openInputBytes } from './input-bytes.js';
import { InputGuardState } from './input-guard.js';
import { rethrowAs } from './source-options.js';
import type { CsvLayout } from './types.js';

/** What one input file's first record fixes. */
export interface InputHead {
  /** The file's name in messages. */
  file: string;
  layout: CsvLayout;
  /** The first record's fields and line. */
  fields: string[];
  line: number;
  /** The header's line, or 0 when the first record is data. */
  headerLine: number;
  /** Offset in the file's text (decompressed, for gzip) of its first data line, and that line's number. */
  dataStart: number;
  dataFirstLine: number;
}

export interface HeadOptions {
  features: number;
  maxRecordBytes: number;
  columns?: ColumnChoice;
}

/** Reads `path`'s first record, as the framer does (input guard, BOM, blank lines, csv-parse). */
async function readFirst(path: string, maxRecordBytes: number): Promise<FoundRecord> {
  const opened = await openInputBytes(path);
  const text: Readable = typeof opened.from === 'string' ? createReadStream(opened.from) : opened.from;
  const guard = new InputGuardState(path, maxRecordBytes);
  const passed: Buffer[] = [];
  try {
    const iterator = (text as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      const ended = next.done === true;
      passed.push(...(ended ? guard.end() : guard.pass(next.value)));
      const first = firstRecordOrFail(Buffer.concat(passed), ended, guard.failure, path, maxRecordBytes);
      if (first !== null) return first;
    }
  } finally {
    text.destroy();
  }
}

/** A file's head from its first record: its layout (a DataError if it fits none) and where its data starts. */
function headOf(file: string, first: FoundRecord, { features, columns }: HeadOptions): InputHead {
  const found = resolveLayout(first.fields, features, columns);
  if ('problem' in found) throw new DataError(file, first.line, found.problem);
  const data = dataStartOf(first, found.layout.hasHeader);
  return {
    file,
    layout: found.layout,
    fields: first.fields,
    line: first.line,
    headerLine: data.headerLine,
    dataStart: data.offset,
    dataFirstLine: data.line,
  };
}

/** What makes `other` read unlike `first` (null: alike), worded for `other`'s first record. */
export function layoutDifference(first: InputHead, other: InputHead): string | null {
  const a = first.layout;
  const b = other.layout;
  if (b.fieldCount !== a.fieldCount) return `has ${b.fieldCount} columns, ${first.file} has ${a.fieldCount}`;
  if (b.hasHeader !== a.hasHeader)
    return b.hasHeader ? `has a header, ${first.file} has none` : `has no header, ${first.file} has one`;
  if (a.hasHeader) {
    const at = first.fields.findIndex((name, i) => name.trim() !== other.fields[i].trim());
    if (at >= 0)
      return (
        `header differs from ${first.file}'s: column ${at} is '${other.fields[at].trim()}', ` +
        `there '${first.fields[at].trim()}'`
      );
  }
  if (b.labelIndex !== a.labelIndex) {
    const label = (layout: CsvLayout) => (layout.labelIndex < 0 ? 'none' : layout.labelIndex);
    return `its label column is ${label(b)}, ${first.file}'s is ${label(a)}`;
  }
  if ((b.drop ?? []).join() !== (a.drop ?? []).join()) return `it drops other columns than ${first.file}`;
  return null;
}

/** Every file's head, in order; a file that reads unlike the first is a DataError at its first record. */
export async function readInputHeads(paths: readonly string[], options: HeadOptions): Promise<InputHead[]> {
  const heads: InputHead[] = [];
  for (const path of paths) {
    const first = await readFirst(path, options.maxRecordBytes).catch(rethrowAs(path));
    const fieldCount = heads[0]?.layout.fieldCount;
    // A count unlike the first file's, in those words (rather than what no layout of its own would fit).
    if (fieldCount !== undefined && first.fields.length !== fieldCount)
      throw new DataError(path, first.line, `has ${first.fields.length} columns, ${heads[0].file} has ${fieldCount}`);
    const head = headOf(path, first, options);
    const problem = heads.length === 0 ? null : layoutDifference(heads[0], head);
    if (problem !== null) throw new DataError(path, head.line, problem);
    heads.push(head);
  }
  return heads;
}
