// The checks that tell a CSV text file from anything else, the same on both CSV paths however the input
// is cut: no line longer than maxLineBytes, and the first line with text has no NUL and is valid UTF-8.
import { DataError } from '../errors.js';
import { containsNul, lineTooLong, notUtf8 } from './messages.js';

const NL = 0x0a;
const CR = 0x0d;

/** What is wrong with the text line (its bytes without the line end), or null. */
function firstLineProblem(bytes: Uint8Array): string | null {
  if (bytes.indexOf(0) !== -1) return containsNul;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return notUtf8;
  }
  return null;
}

/** Whether a line holds anything but '\r' (a BOM counts). */
const hasText = (bytes: Uint8Array) => bytes.some((byte) => byte !== CR);

export class InputGuardState {
  /** Bytes passed on so far. */
  bytes = 0;
  /** The problem that ends the read, once found. */
  failure: DataError | null = null;
  /** Line number of the first byte not checked yet. */
  private line = 1;
  /** The start of a line that has not ended yet (views of the chunks). */
  private open: Buffer[] = [];
  private openBytes = 0;
  /** Whole lines held until the text line has been checked (then null), and released with the next ones. */
  private waiting: Buffer[] | null = [];
  private pending: Buffer[] = [];

  constructor(
    private readonly file: string,
    private readonly maxLineBytes: number,
  ) {}

  /** What of `chunk` may go on: whole lines, none until the text line is checked, none after a problem (`failure`). */
  pass(chunk: Buffer): Buffer[] {
    if (this.failure !== null || chunk.length === 0) return [];
    const last = chunk.lastIndexOf(NL);
    if (last === -1) {
      this.open.push(chunk);
      this.openBytes += chunk.length;
      if (this.openBytes > this.maxLineBytes) this.fail(this.line, lineTooLong(this.maxLineBytes));
      return [];
    }
    const lines =
      this.openBytes === 0 ? chunk.subarray(0, last + 1) : Buffer.concat([...this.open, chunk.subarray(0, last + 1)]);
    this.open = [chunk.subarray(last + 1)];
    this.openBytes = chunk.length - last - 1;
    const passed = this.check(lines);
    if (this.failure === null && this.openBytes > this.maxLineBytes)
      this.fail(this.line, lineTooLong(this.maxLineBytes));
    return passed;
  }

  /** At the end of the input: the last line (without a line end), if it passes. */
  end(): Buffer[] {
    if (this.failure !== null) return [];
    const last = this.openBytes === 0 ? EMPTY : Buffer.concat(this.open);
    this.open = [];
    this.openBytes = 0;
    if (this.waiting !== null && last.length > 0 && hasText(last)) {
      const problem = firstLineProblem(last);
      if (problem !== null) return this.fail(this.line, problem);
    }
    const passed = [...(this.waiting ?? []), last].filter((part) => part.length > 0);
    this.waiting = null;
    this.bytes += passed.reduce((n, part) => n + part.length, 0);
    return passed;
  }

  /** Checks whole lines; returns those that may go on (none while the text line is still to come). */
  private check(lines: Buffer): Buffer[] {
    let pos = 0;
    while (pos < lines.length) {
      // Past the text line, a stretch of short lines needs no per-line look: one count does.
      if (this.waiting === null && lines.length - pos <= this.maxLineBytes) {
        this.line += countNewlines(lines, pos, lines.length);
        pos = lines.length;
        break;
      }
      const nl = lines.indexOf(NL, pos);
      const line = lines.subarray(pos, nl);
      const problem =
        line.length > this.maxLineBytes
          ? lineTooLong(this.maxLineBytes)
          : this.waiting !== null && hasText(line)
            ? firstLineProblem(line)
            : null;
      if (problem !== null) return this.fail(this.line, problem, lines.subarray(0, pos));
      if (this.waiting !== null && hasText(line)) this.release();
      this.line++;
      pos = nl + 1;
    }
    if (this.waiting !== null) {
      this.waiting.push(lines);
      return [];
    }
    return this.passOn([lines]);
  }

  /** The text line has been checked: what was held for it may go on with what follows. */
  private release(): void {
    this.pending = this.waiting ?? [];
    this.waiting = null;
  }

  private passOn(parts: Buffer[]): Buffer[] {
    const out = [...this.pending, ...parts].filter((part) => part.length > 0);
    this.pending = [];
    this.bytes += out.reduce((n, part) => n + part.length, 0);
    return out;
  }

  /** The read ends at `line`; what came before it (and was held) still goes on. */
  private fail(line: number, problem: string, before: Buffer = EMPTY): Buffer[] {
    this.failure = new DataError(this.file, line, problem);
    this.open = [];
    this.openBytes = 0;
    const held = this.waiting ?? [];
    this.waiting = null;
    return this.passOn([...held, before]);
  }
}

const EMPTY = Buffer.alloc(0);

/** '\n' bytes in chunk[start, end): memchr per line, no per-byte loop. */
export function countNewlines(chunk: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let at = chunk.indexOf(NL, start); at !== -1 && at < end; at = chunk.indexOf(NL, at + 1)) count++;
  return count;
}
