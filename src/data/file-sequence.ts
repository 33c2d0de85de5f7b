// The bytes of several input files as one sequence of pieces for the framer: the first file whole (the
// framer reads its head), then each next file from its first data line (its head was read and checked
// by input-files.ts), its first piece marked with `fileStart` so that the framer ends the last file's
// last line there and numbers on. A plain file is read by positional reads from that offset, a gzip file
// as a stream whose first bytes are dropped. Progress counts every file's bytes on disk.
import { ChunkPool, readPieces, type Piece } from './chunks.js';
import { openInputBytes } from './input-bytes.js';
import type { InputHead } from './input-files.js';
import { readFailure } from './source-options.js';

export class FileSequence {
  /** Bytes on disk of the files read to their end. */
  private doneBytes = 0;
  /** Of the file being read: its bytes read so far (compressed, for gzip). */
  private current: () => number = () => 0;

  /** `sizes`: each file's size on disk (null: unknown, counted as 0). */
  constructor(
    private readonly heads: readonly InputHead[],
    private readonly sizes: readonly (number | null)[],
    private readonly pool = new ChunkPool(),
  ) {}

  /** Bytes of the files read so far (what progress measures against the files' total size). */
  get bytesRead(): number {
    return this.doneBytes + this.current();
  }

  /** Every file's pieces in order; a read error is a DataError naming its file. */
  async *pieces(): AsyncGenerator<Piece, void, undefined> {
    for (let index = 0; index < this.heads.length; index++) {
      const head = this.heads[index];
      try {
        yield* this.filePieces(index, head);
      } catch (error) {
        throw readFailure(error, head.file);
      }
      this.doneBytes += this.sizes[index] ?? 0;
      this.current = () => 0;
    }
  }

  private async *filePieces(index: number, head: InputHead): AsyncGenerator<Piece, void, undefined> {
    const skip = index === 0 ? 0 : head.dataStart;
    const bytes = await openInputBytes(head.file);
    const positional = typeof bytes.from === 'string';
    // A plain file is read from its data; a stream's first `skip` bytes are dropped here.
    let read = positional ? skip : 0;
    let drop = positional ? 0 : skip;
    this.current = bytes.compressedRead ?? (() => read);
    if (index > 0) yield* this.marker(index, head);
    for await (const piece of readPieces(bytes.from, this.pool, positional ? skip : 0)) {
      const length = piece.end - piece.start;
      read += length;
      if (drop >= length) {
        drop -= length;
        continue;
      }
      yield drop > 0 ? { ...piece, start: piece.start + drop } : piece;
      drop = 0;
    }
  }

  /** An empty piece that says where file `index`'s data starts (also for a file with no data after its header). */
  private *marker(index: number, head: InputHead): Generator<Piece, void, undefined> {
    const chunk = this.pool.acquire();
    try {
      yield {
        chunk,
        start: 0,
        end: 0,
        fileStart: { index, firstLine: head.dataFirstLine, headerLine: head.headerLine },
      };
    } finally {
      chunk.release(); // at the consumer's next next(), like every piece's chunk (readPieces' contract)
    }
  }
}
