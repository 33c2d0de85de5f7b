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
// Everything here is synchronous on purpose: it is a few hundred bytes, and the forced-exit path (a second
// stop signal) must be able to append from inside a signal handler, right before process.exit.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { PipelineError } from '../errors.js';
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

/**
 * Appends one record as one line. The caller holds the run lock on `path`. Throws a PipelineError
 * (PIPE_ERR_HISTORY) when the file cannot be written; earlier lines stay as they were.
 */
export function appendHistoryLine(path: string, record: RunRecord): TailRepair | null {
  // JSON.stringify escapes control characters inside strings, so the line has no '\n' of its own.
  const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  let fd: number | null = null;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const created = !existsSync(path);
    fd = openSync(path, 'a+', 0o644);
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
    throw new PipelineError('PIPE_ERR_HISTORY', `cannot append to the history ${path}: ${(error as Error).message}`, { cause: error });
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

/** Reads a history file; a missing file is a PipelineError (PIPE_ERR_HISTORY). */
export function readHistory(path: string): HistoryContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
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
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (error) {
      problems.push({ line, message: `not JSON (${(error as Error).message})` });
      return;
    }
    const parsed = runRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push({ line, message: `not a run record (${issue.path.join('.') || 'record'}: ${issue.message})` });
      return;
    }
    records.push({ ...(parsed.data as unknown as RunRecord), line });
  });
  return { records, problems, tornTail };
}
