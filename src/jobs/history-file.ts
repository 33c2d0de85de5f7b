// The run history: a JSON Lines file, one record per run, only ever appended to.
//
// Why earlier lines can never be damaged:
//   - a line is appended with ONE write() of the whole line (O_APPEND), under the run lock, then fsynced;
//     nothing ever rewrites or moves bytes before the end of the file;
//   - if a process died in the middle of its write (kill -9 at the wrong moment, a full disk, a power cut),
//     only the LAST line can be incomplete. The next append finds that the file does not end in '\n' and
//     repairs the tail first: a tail that is a whole JSON object only lacked its newline and is kept; any
//     other tail is cut off (and reported), so the file is valid JSON Lines again;
//   - readers skip (and report) an incomplete last line.
// The repair only ever runs on a file that is a history: its first and last complete lines are run
// records (or, with no complete line yet, what it holds is the start of one). Any other file named by
// --history is refused as it is (NotAHistoryError, exit 2): a repair there would cut off the user's data.
// A character device, FIFO or open descriptor (/dev/null, a pipe to a log shipper, /dev/stderr) gets the
// line written to it as it is.
// Everything here is synchronous on purpose: it is a few hundred bytes, and the forced-exit path (a second
// stop signal) must be able to append from inside a signal handler, right before process.exit.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { PipelineError } from '../errors.js';
import { isOpenDescriptorPath, ownDescriptor } from '../output/target.js';
import { runRecordSchema, type RunRecord } from './run-record.js';

export interface TailRepair {
  /** 'completed': a whole record lacked its newline (added); 'truncated': a partial line was cut off. */
  action: 'completed' | 'truncated';
  /** Bytes of the incomplete last line. */
  bytes: number;
  /** Its first characters, for the warning. */
  preview: string;
}

const SCAN_CHUNK = 64 * 1024;

/** The offset just after the last '\n' in the first `size` bytes of the file, or 0 when there is none. */
function endOfLastCompleteLine(fd: number, size: number): number {
  const chunk = Buffer.alloc(SCAN_CHUNK);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - SCAN_CHUNK);
    const length = end - start;
    readSync(fd, chunk, 0, length, start);
    const at = chunk.subarray(0, length).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Makes an open history file end in '\n' again (see the header). Returns what it did, or null. */
function repairTail(fd: number): TailRepair | null {
  const size = fstatSync(fd).size;
  if (size === 0) return null;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return null;
  const keep = endOfLastCompleteLine(fd, size);
  const tail = Buffer.alloc(size - keep);
  readSync(fd, tail, 0, tail.length, keep);
  const text = tail.toString('utf8');
  const preview = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  if (isJsonObject(text)) {
    writeAll(fd, Buffer.from('\n'));
    return { action: 'completed', bytes: tail.length, preview };
  }
  ftruncateSync(fd, keep);
  return { action: 'truncated', bytes: tail.length, preview };
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  // One write() in practice; the loop only matters for a short write (a nearly full disk).
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** fsync a folder so that a newly created file's directory entry survives a power cut. */
function fsyncFolder(path: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported everywhere (and not needed for correctness of the content).
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** The file named by --history holds something else than run records: left as it is. Exit 2. */
export class NotAHistoryError extends PipelineError {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super('PIPE_ERR_NOT_HISTORY', `${path} is not a run history (${problem}); refusing to append to it`);
    this.name = 'NotAHistoryError';
    this.path = path;
    this.problem = problem;
  }
}

/** Every record line starts like this (buildRunRecord puts `schema` first). */
const RECORD_START = '{"schema":';
/** Far longer than any record line; a first line longer than this is not one. */
const LINE_LIMIT = 64 * 1024;

/** A line as a run record, or why it is not one ("not JSON (...)", "not a run record (field: ...)"). */
function parseRecordLine(text: string): { record: RunRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  const parsed = runRecordSchema.safeParse(value);
  if (parsed.success) return { record: parsed.data as unknown as RunRecord };
  const issue = parsed.error.issues[0];
  return { problem: `not a run record (${issue.path.join('.') || 'record'}: ${issue.message})` };
}

const isRunRecordLine = (text: string): boolean => 'record' in parseRecordLine(text);

/** The complete line that ends just before `end` (the offset after its '\n'), at most LINE_LIMIT bytes. */
function lineBefore(fd: number, end: number): string {
  const start = Math.max(0, end - 1 - LINE_LIMIT);
  const bytes = Buffer.alloc(end - 1 - start);
  readSync(fd, bytes, 0, bytes.length, start);
  const at = bytes.lastIndexOf(0x0a);
  return bytes.subarray(at + 1).toString('utf8');
}

/** Throws NotAHistoryError unless the open file is empty or a history (see the header). Reads at most 128 KiB. */
function assertHistory(fd: number, path: string): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const head = Buffer.alloc(Math.min(size, LINE_LIMIT));
  readSync(fd, head, 0, head.length, 0);
  const firstEnd = head.indexOf(0x0a);
  if (firstEnd < 0) {
    // No complete line: the first record's write was cut short, or this is not a history at all.
    const text = head.toString('utf8');
    const torn = size <= LINE_LIMIT && (text.startsWith(RECORD_START) || RECORD_START.startsWith(text));
    if (!torn) throw new NotAHistoryError(path, 'its first line is not a run record');
    return;
  }
  const first = parseRecordLine(head.subarray(0, firstEnd).toString('utf8'));
  if ('problem' in first) throw new NotAHistoryError(path, `line 1 is ${first.problem}`);
  const lastEnd = endOfLastCompleteLine(fd, size);
  if (lastEnd > firstEnd + 1 && !isRunRecordLine(lineBefore(fd, lastEnd))) {
    throw new NotAHistoryError(path, 'its last complete line is not a run record');
  }
}

/** Refuses (NotAHistoryError) a --history file that exists and is not a history; a missing file or a device is fine. */
export function checkHistoryFile(path: string): void {
  let fd: number;
  try {
    if (isOpenDescriptorPath(path) || !statSync(path).isFile()) return;
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new PipelineError('PIPE_ERR_HISTORY', `cannot read the history ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    assertHistory(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** A device, FIFO or open descriptor: the line is appended as it is (no tail to repair, nothing to fsync). */
function writeToDevice(path: string, line: Buffer): void {
  const own = ownDescriptor(path);
  const fd = own ?? openSync(path, constants.O_WRONLY | constants.O_APPEND);
  try {
    writeAll(fd, line);
  } finally {
    if (own === null) closeSync(fd);
  }
}

/**
 * Appends one record as one line. The caller holds the run lock on `path`, whose folder exists. Throws
 * NotAHistoryError when the file is not a history, and a PipelineError (PIPE_ERR_HISTORY) when it cannot
 * be written; earlier lines stay as they were.
 */
export function appendHistoryLine(path: string, record: RunRecord): TailRepair | null {
  // JSON.stringify escapes control characters inside strings, so the line has no '\n' of its own.
  const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  let fd: number | null = null;
  try {
    const created = !existsSync(path);
    if (!created && (isOpenDescriptorPath(path) || !statSync(path).isFile())) {
      writeToDevice(path, line);
      return null;
    }
    fd = openSync(path, 'a+', 0o644);
    assertHistory(fd, path);
    const repair = repairTail(fd);
    const before = fstatSync(fd).size;
    try {
      writeAll(fd, line);
      fsyncSync(fd);
    } catch (error) {
      // Leave no partial line of our own behind (best effort; the next append would repair it anyway).
      try {
        ftruncateSync(fd, before);
      } catch {
        // keep the original error
      }
      throw error;
    }
    if (created) fsyncFolder(dirname(path));
    return repair;
  } catch (error) {
    if (error instanceof NotAHistoryError) throw error;
    throw new PipelineError('PIPE_ERR_HISTORY', `cannot append to the history ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export interface HistoryProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface HistoryContents {
  records: (RunRecord & { line: number })[];
  /** Lines that are not valid records (skipped). */
  problems: HistoryProblem[];
  /** The incomplete last line, if the file does not end in '\n' (skipped; the next append repairs it). */
  tornTail: { line: number; bytes: number } | null;
}

/**
 * Reads a history file; a missing file, or one that is not a file or a pipe (a directory, /dev/zero,
 * which never ends), is a PipelineError (PIPE_ERR_HISTORY). A file that is not a history (its first or
 * last complete line is not a run record, as `--history` judges it) is a NotAHistoryError (exit 2),
 * found from its first and last lines before the rest is read: a CSV is refused, not listed line by line.
 */
export function readHistory(path: string): HistoryContents {
  let text: string;
  try {
    const info = statSync(path);
    if (!info.isFile() && !info.isFIFO()) throw new Error(info.isDirectory() ? 'is a directory' : 'is not a file');
    if (info.isFile()) checkHistoryFile(path);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new PipelineError('PIPE_ERR_HISTORY', `${path}: ${reason}`, { cause: error });
  }
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const tornTail = last.length > 0 ? { line: lines.length + 1, bytes: Buffer.byteLength(last) } : null;
  const records: HistoryContents['records'] = [];
  const problems: HistoryProblem[] = [];
  lines.forEach((lineText, index) => {
    const line = index + 1;
    if (lineText.trim() === '') return;
    const parsed = parseRecordLine(lineText);
    if ('problem' in parsed) problems.push({ line, message: parsed.problem });
    else records.push({ ...parsed.record, line });
  });
  // A pipe cannot be checked before it is read: the same rule, applied to what came through.
  const firstLine = lines.findIndex((l) => l.trim() !== '') + 1;
  if (firstLine > 0 && problems[0]?.line === firstLine)
    throw new NotAHistoryError(path, `line ${firstLine} is ${problems[0].message}`);
  return { records, problems, tornTail };
}
