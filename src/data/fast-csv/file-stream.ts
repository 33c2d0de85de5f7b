// A readable stream of a file in fixed-size chunks, like fs.createReadStream with that highWaterMark
// (same chunks, same errors: an `open` error, then `read` errors), but with a few reads in flight at
// once. fs.ReadStream asks for its next chunk only after the previous one has been handed out, so a
// consumer that works on each chunk waits for the thread pool's read every time; with the next reads
// already done, it does not. What the consumer sees is otherwise the same: one chunk per push, no more
// buffered than highWaterMark, so backpressure and the chunk boundaries are those of fs.ReadStream.
import { close, fstat, open, read } from 'node:fs';
import { Readable } from 'node:stream';

interface PendingRead {
  done: boolean;
  error: NodeJS.ErrnoException | null;
  buffer: Buffer;
  bytes: number;
  waiter: (() => void) | null;
}

export class PrefetchingFileStream extends Readable {
  private readonly path: string;
  private readonly chunkSize: number;
  private depth: number;
  /** Not a regular file (a FIFO, /dev/stdin, a terminal): no positions, one read at a time. */
  private sequential = false;
  private fd: number | null = null;
  private position = 0;
  private readonly reads: PendingRead[] = [];
  /** A read came back short (or failed): issue no more. */
  private pastEnd = false;
  /** The last chunk has been handed out. */
  private sawEnd = false;
  private waiting = false;

  constructor(path: string, options: { chunkSize: number; depth: number }) {
    super({ highWaterMark: options.chunkSize });
    this.path = path;
    this.chunkSize = options.chunkSize;
    this.depth = options.depth;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'r', (error, fd) => {
      if (error) return callback(error);
      fstat(fd, (statError, stats) => {
        if (statError) return close(fd, () => callback(statError));
        this.fd = fd;
        if (!stats.isFile()) {
          this.sequential = true;
          this.depth = 1;
        }
        callback();
      });
    });
  }

  override _read(): void {
    if (this.waiting || this.fd === null || this.sawEnd) return;
    this.fill();
    const head = this.reads[0];
    // Handed out on a later tick even when it is already there: like fs.ReadStream, never push from
    // inside _read (a paused reader's read() would then merge it with the chunk it is returning).
    if (head.done) {
      this.waiting = true;
      process.nextTick(() => {
        this.waiting = false;
        if (!this.destroyed) this.deliver();
      });
    } else {
      this.waiting = true;
      head.waiter = () => {
        this.waiting = false;
        if (!this.destroyed) this.deliver();
      };
    }
  }

  private fill(): void {
    while (this.reads.length < this.depth && !this.pastEnd && this.fd !== null) {
      const pending: PendingRead = { done: false, error: null, buffer: Buffer.allocUnsafeSlow(this.chunkSize), bytes: 0, waiter: null };
      const at = this.position;
      this.position += this.chunkSize;
      read(this.fd, pending.buffer, 0, this.chunkSize, this.sequential ? null : at, (error, bytes) => {
        pending.done = true;
        pending.error = error;
        pending.bytes = bytes;
        // A short read of a regular file reaches its end: reads after it would only return 0 bytes.
        if (!this.sequential && (error || bytes < this.chunkSize)) this.pastEnd = true;
        pending.waiter?.();
      });
      this.reads.push(pending);
    }
  }

  private deliver(): void {
    const head = this.reads.shift() as PendingRead;
    if (head.error) {
      this.destroy(head.error);
      return;
    }
    // A short read of a regular file is its end (a pipe may return less at any time: only 0 bytes
    // ends it). The end is signalled a turn of the event loop later, as fs.ReadStream's separate
    // read of 0 bytes does, so a consumer sees the last chunk before it learns that it was the last.
    const last = head.bytes === 0 || (!this.sequential && head.bytes < this.chunkSize);
    if (head.bytes > 0) this.push(head.bytes === this.chunkSize ? head.buffer : head.buffer.subarray(0, head.bytes));
    if (last) {
      this.sawEnd = true;
      setImmediate(() => {
        if (!this.destroyed) this.push(null);
      });
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Close the file only when no read is using its descriptor any more.
    const pending = this.reads.filter((r) => !r.done);
    const fd = this.fd;
    this.fd = null;
    const finish = () => {
      if (fd === null) return callback(error);
      close(fd, (closeError) => callback(error ?? closeError));
    };
    if (pending.length === 0) return finish();
    let left = pending.length;
    for (const r of pending) {
      r.waiter = () => {
        if (--left === 0) finish();
      };
    }
  }
}
