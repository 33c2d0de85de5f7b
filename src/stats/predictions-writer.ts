// Streams predictions (CSV or JSON Lines, see predictions-format.ts) to a temp file next to the target and
// renames it over the target on commit, so the target is never a half-written file. Buffering is bounded:
// a batch's lines are written as one chunk, and writeBatch waits for 'drain' when the stream's buffer is
// over its high-water mark.
// A character device or FIFO target is written in place instead (src/output/target.ts): its lines go
// out as they come, commit only flushes, and discard cannot take back what was written.
import { once } from 'node:events';
import * as fsCallbacks from 'node:fs';
import { createWriteStream, fsync, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PipelineError } from '../errors.js';
import { ensureFolder, syncFolder } from '../output/folders.js';
import { inspectOutput, OutputPathError, STDOUT_PATH } from '../output/target.js';
import { openInPlace, openTemp, outputWriteError, removeOnExit } from '../output/write-file.js';
import { CSV_LAYOUT, formatRows, headerOf, type PredictionRows, type PredictionsLayout } from './predictions-format.js';

/** Stream buffer size; writeBatch resolves only once the buffer is below it. */
const HIGH_WATER_MARK = 64 * 1024;

const fsyncFd = promisify(fsync);

type State = 'open' | 'committed' | 'discarded';

export class PredictionsWriter {
  /** The file that commit() creates or replaces (symlinks followed). */
  readonly path: string;
  /** The output as messages name it ("stdout" for `--predictions -`). */
  private readonly shown: string;
  /** The temp file being written, next to `path`; null for a device or FIFO, written in place. */
  readonly tempPath: string | null;
  readonly layout: PredictionsLayout;
  /** Owned by the stream: destroying the stream closes it (once any write in progress is done). */
  private readonly fd: number;
  private readonly stream: WriteStream;
  private streamError: Error | null = null;
  private state: State = 'open';
  private written = 0;
  private readonly removeExitHook: () => void;
  private committing: Promise<void> | null = null;

  private constructor(
    [path, shown]: [string, string],
    tempPath: string | null,
    layout: PredictionsLayout,
    fd: number,
    owned = true,
  ) {
    this.path = path;
    this.shown = shown;
    this.tempPath = tempPath;
    this.layout = layout;
    this.fd = fd;
    // autoClose off: the fd must stay open after 'finish' to fsync before the rename. A descriptor the
    // process had before (/dev/stdout) is never closed: its `close` does nothing.
    const keepOpen = owned
      ? {}
      : { fs: { ...fsCallbacks, close: (_fd: number, callback: (error: null) => void) => callback(null) } };
    this.stream = createWriteStream('', { fd, autoClose: false, highWaterMark: HIGH_WATER_MARK, ...keepOpen });
    // Without a listener a write error would be an uncaught 'error' event; keep it and report it on the
    // next writeBatch/commit instead.
    this.stream.on('error', (error) => {
      this.streamError ??= error;
    });
    // If the process exits without commit/discard (a crash), do not leave the temp file behind.
    this.removeExitHook = tempPath === null ? () => undefined : removeOnExit(tempPath);
  }

  /**
   * Opens a temp file next to `path` (creating missing folders), or a device / FIFO in place, and
   * writes the header line (CSV; JSON Lines has none).
   */
  static async open(path: string, layout: PredictionsLayout = CSV_LAYOUT): Promise<PredictionsWriter> {
    let writer: PredictionsWriter;
    try {
      await ensureFolder(dirname(resolve(path)), (folder) => new OutputPathError(path, `${folder} is not a folder`));
      const target = await inspectOutput(path);
      if (target.kind === 'in-place') {
        const { fd, owned } = await openInPlace(target);
        writer = new PredictionsWriter([target.path, shownPath(path, target.path)], null, layout, fd, owned);
      } else {
        const { tempPath, fd } = await openTemp(target);
        writer = new PredictionsWriter([target.path, shownPath(path, target.path)], tempPath, layout, fd);
      }
    } catch (error) {
      throw outputError(shownPath(path, path), error);
    }
    const header = headerOf(layout);
    if (header !== null) writer.stream.write(`${header}\n`);
    return writer;
  }

  /** Data rows written so far. */
  get rowsWritten(): number {
    return this.written;
  }

  /** Bytes waiting in the stream's buffer (bounded by the high-water mark plus one batch). */
  get bufferedBytes(): number {
    return this.stream.writableLength;
  }

  /** The buffer size above which writeBatch waits for the stream to drain. */
  get highWaterMark(): number {
    return this.stream.writableHighWaterMark;
  }

  /**
   * Appends the first `rows` predictions of a batch, numbered on from the rows written so far. The lines
   * are queued synchronously, so batches keep the order of the calls; await each call to keep memory
   * bounded (it waits for 'drain' when needed).
   */
  async writeBatch(batch: PredictionRows, rows: number): Promise<void> {
    this.assertOpen('writeBatch');
    const fits = (array: { length: number }) => rows <= array.length;
    if (
      !Number.isInteger(rows) ||
      rows < 0 ||
      ![batch.lines, batch.labels, batch.predicted, batch.confidence].every(fits)
    ) {
      throw new RangeError(`PredictionsWriter.writeBatch: rows ${rows} does not fit the batch arrays`);
    }
    if (this.streamError) throw outputError(this.shown, this.streamError);
    const chunk = formatRows(this.layout, batch, this.written, rows);
    this.written += rows;
    if (chunk.length === 0) return;
    if (!this.stream.write(chunk)) {
      try {
        await once(this.stream, 'drain');
      } catch (error) {
        throw outputError(this.shown, error);
      }
    }
  }

  /**
   * Appends `rows` lines already in this file's layout (each ending with a newline), as a merge
   * of shard files writes them; waits for 'drain' like writeBatch.
   */
  async writeLines(text: string, rows: number): Promise<void> {
    this.assertOpen('writeLines');
    if (this.streamError) throw outputError(this.shown, this.streamError);
    this.written += rows;
    if (text.length > 0 && !this.stream.write(text)) {
      try {
        await once(this.stream, 'drain');
      } catch (error) {
        throw outputError(this.shown, error);
      }
    }
  }

  /**
   * Flushes, fsyncs and renames the temp file over `path`: the target switches from its old content (or
   * absence) to the complete new file in one step. Used for complete runs and for failed or interrupted
   * runs alike (the predictions done so far). On failure the temp file is removed and the error thrown.
   *
   * What is committed is fixed by the time this returns its promise: the stream is ended synchronously,
   * so no later writeBatch can add rows (a caller that counts rows elsewhere can rely on that). A second
   * call returns the first call's promise.
   */
  commit(): Promise<void> {
    if (this.committing !== null) return this.committing;
    if (this.state !== 'open')
      return Promise.reject(new Error(`PredictionsWriter.commit: the writer is already ${this.state}`));
    this.state = 'committed';
    const finished = this.streamError ? Promise.reject(this.streamError) : once(this.stream, 'finish');
    if (!this.streamError) this.stream.end();
    this.committing = this.finishCommit(finished);
    return this.committing;
  }

  private async finishCommit(finished: Promise<unknown>): Promise<void> {
    try {
      await finished;
      // A device or FIFO: nothing to sync or rename (fsync is not supported by every device).
      if (this.tempPath !== null) await fsyncFd(this.fd);
      await this.closeStream();
      if (this.streamError) throw this.streamError; // e.g. close() failed
      if (this.tempPath !== null) {
        await rename(this.tempPath, this.path);
        await syncFolder(dirname(this.path));
      }
    } catch (error) {
      await this.cleanUp();
      throw outputError(this.shown, error);
    } finally {
      this.removeExitHook();
    }
  }

  /** Drops everything written: closes and removes the temp file; `path` is untouched. Safe to call twice. */
  async discard(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    await this.cleanUp();
    this.removeExitHook();
  }

  private async cleanUp(): Promise<void> {
    await this.closeStream();
    if (this.tempPath !== null) await unlink(this.tempPath).catch(() => {});
  }

  /**
   * Closes the fd through the stream. Even with autoClose off, destroy() closes the stream's fd, and it
   * waits for a write in progress; closing the fd separately would close it twice, and the second close
   * could hit an unrelated file that has reused the descriptor number meanwhile.
   */
  private async closeStream(): Promise<void> {
    if (this.stream.closed) return;
    const closed = new Promise<void>((resolve) => this.stream.once('close', () => resolve()));
    this.stream.destroy();
    await closed;
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') throw new Error(`PredictionsWriter.${what}: the writer is already ${this.state}`);
  }
}

const outputError = (path: string, error: unknown): PipelineError => outputWriteError(path, error, 'predictions to ');
/** How messages name the output given as `given`: this process's stdout by that name, not /proc/PID/fd/1. */
const shownPath = (given: string, real: string): string =>
  given === STDOUT_PATH || given === `/proc/${process.pid}/fd/1` ? 'stdout' : real;
