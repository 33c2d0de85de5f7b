// Reading the input for the fast path: the stream in flowing mode, one 'data' event per chunk (the
// chunks the csv-parse path's InputGuard and csv-parse see too; `read()` would merge them), handed to
// a sink synchronously; pause/resume for backpressure; and a promise to wait on for the next thing
// that happens (data, end, error, abort). Files are read by PrefetchingFileStream: the same 64 KiB
// chunks as fs.createReadStream in csv-source.ts, with the next reads already under way.
import { finished, Readable } from 'node:stream';
import { PrefetchingFileStream } from './file-stream.js';

/** The csv-parse path reads files in chunks of this size too (csv-source.ts). */
export const READ_CHUNK = 64 * 1024;
const READS_IN_FLIGHT = 4;

export class InputFeed {
  readonly stream: Readable;
  /** 'end' was emitted: every chunk has been handed over. */
  ended = false;
  /** The stream failed (a read error, or it was destroyed before its end). */
  error: unknown = null;
  private sink: ((chunk: Buffer) => void) | null = null;
  private held: Buffer[] = [];
  private waiter: (() => void) | null = null;
  /** Something happened while nobody was waiting. */
  private signaled = false;
  private readonly onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.sink) this.sink(bytes);
    else this.held.push(bytes);
    this.notify();
  };

  /** `chunkSize`: bytes per file read (the default matches the csv-parse path's chunks). */
  constructor(input: string, stdin: NodeJS.ReadableStream | undefined, chunkSize = READ_CHUNK) {
    const source = input === '-' ? (stdin ?? process.stdin) : new PrefetchingFileStream(input, { chunkSize, depth: READS_IN_FLIGHT });
    this.stream = source instanceof Readable ? source : new Readable().wrap(source);
    this.stream.on('data', this.onData);
    this.stream.on('end', () => {
      this.ended = true;
      this.notify();
    });
    finished(this.stream, { writable: false }, (error) => {
      if (error && !this.ended) this.error ??= error;
      this.notify();
    });
  }

  /** Chunks go to `sink` from now on; chunks that arrived with no sink set are returned, oldest first. */
  setSink(sink: ((chunk: Buffer) => void) | null): Buffer[] {
    this.sink = sink;
    const held = this.held;
    this.held = [];
    return held;
  }

  /** Stops listening (the stream is left paused, for someone else to read). */
  detach(): void {
    this.stream.pause();
    this.stream.off('data', this.onData);
    this.sink = null;
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    if (!this.ended && !this.error && !this.stream.destroyed) this.stream.resume();
  }

  destroy(): void {
    if (!this.stream.destroyed) this.stream.destroy();
    this.notify();
  }

  notify(): void {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter();
    else this.signaled = true;
  }

  /**
   * Resolves after the next chunk, end, error or notify() (at once if one came since the last call),
   * then after one more process.nextTick: a stream that has already pushed its last chunk has then
   * also emitted 'end' (which it does on a tick), so the end is seen with the data that came with it.
   */
  async next(): Promise<void> {
    if (!this.signaled && !this.ended && !this.error) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.signaled = false;
    await new Promise<void>((resolve) => process.nextTick(resolve));
  }
}
