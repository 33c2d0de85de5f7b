// The input checks of every CSV path, as a plain synchronous object: the fast decoder runs it on each
// chunk before decoding that chunk, and the csv-parse path's InputGuard (csv-source.ts) wraps it as a
// stream stage in front of csv-parse. The rules, in this order:
//   - a physical line ('\n'-terminated; its '\r' and BOM bytes count) longer than maxLineBytes;
//   - on the first line that holds anything but '\r': no NUL byte, valid UTF-8 (checked per chunk
//     segment in the same order as the original, so the same error wins when both apply).
import { DataError } from '../../errors.js';
import { containsNul, lineTooLong, notUtf8 } from './messages.js';

export class InputGuardState {
  /** Bytes checked so far. */
  bytes = 0;
  private readonly file: string;
  private readonly maxLineBytes: number;
  private line = 1;
  private lineBytes = 0;
  private checkingFirstLine = true;
  private firstLineHasText = false;
  private decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(file: string, maxLineBytes: number) {
    this.file = file;
    this.maxLineBytes = maxLineBytes;
  }

  /** Checks one chunk of the input; throws the DataError the csv-parse path would throw for it. */
  check(chunk: Uint8Array): void {
    const max = this.maxLineBytes;
    const length = chunk.length;
    // Most chunks: no line can exceed the limit (every line in it is shorter than the chunk), and
    // the first line is done. Then one memrchr finds the last line end and that is all.
    if (!this.checkingFirstLine && this.lineBytes + length <= max) {
      const last = chunk.lastIndexOf(0x0a);
      if (last === -1) this.lineBytes += length;
      else {
        this.line += countNewlines(chunk, 0, last + 1);
        this.lineBytes = length - last - 1;
      }
      this.bytes += length;
      return;
    }
    let pos = 0;
    while (pos < length) {
      const newline = chunk.indexOf(0x0a, pos);
      const end = newline === -1 ? length : newline;
      if (this.checkingFirstLine) this.checkFirstLine(chunk, pos, end, newline !== -1);
      this.lineBytes += end - pos;
      if (this.lineBytes > max) throw new DataError(this.file, this.line, lineTooLong(max));
      if (newline === -1) break;
      this.line++;
      this.lineBytes = 0;
      pos = newline + 1;
    }
    this.bytes += length;
  }

  /** At the end of the input. */
  flush(): void {
    if (this.checkingFirstLine) this.endFirstLine();
  }

  private checkFirstLine(chunk: Uint8Array, start: number, end: number, lineEnds: boolean): void {
    const part = chunk.subarray(start, end);
    if (part.indexOf(0) !== -1) throw new DataError(this.file, this.line, containsNul);
    for (let i = 0; i < part.length && !this.firstLineHasText; i++) {
      if (part[i] !== 0x0d) this.firstLineHasText = true;
    }
    try {
      this.decoder.decode(part, { stream: true });
    } catch {
      throw new DataError(this.file, this.line, notUtf8);
    }
    if (lineEnds) this.endFirstLine();
  }

  private endFirstLine(): void {
    try {
      this.decoder.decode();
    } catch {
      throw new DataError(this.file, this.line, notUtf8);
    }
    if (this.firstLineHasText) this.checkingFirstLine = false;
  }
}

/** '\n' bytes in chunk[start, end): memchr per line, no per-byte loop. */
export function countNewlines(chunk: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let at = chunk.indexOf(0x0a, start); at !== -1 && at < end; at = chunk.indexOf(0x0a, at + 1)) count++;
  return count;
}
