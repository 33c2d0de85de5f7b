// Where a scoring task writes its per-row results: a slot of shared memory that the main thread hands
// out with the task and takes back once the batch has been consumed. The worker's reply is then a few
// numbers; typed arrays in a message (cloned or transferred) cost each reply ~20 µs more (measured),
// as much as scoring a small batch.
export interface ResultViews {
  predicted: Int32Array;
  confidence: Float32Array;
  lines: Uint32Array;
  labels: Int16Array;
}

/** Bytes per row: predicted (4), confidence (4), line (4), label (2). */
const ROW_BYTES = 14;

/** The slot's arrays, for `rows` rows of a slot made for `capacity` rows. */
export function resultViews(buffer: SharedArrayBuffer, capacity: number, rows = capacity): ResultViews {
  return {
    predicted: new Int32Array(buffer, 0, rows),
    confidence: new Float32Array(buffer, 4 * capacity, rows),
    lines: new Uint32Array(buffer, 8 * capacity, rows),
    labels: new Int16Array(buffer, 12 * capacity, rows),
  };
}

/** Slots for batches of at most `capacity` rows, reused once released. */
export class ResultSlots {
  private readonly free: SharedArrayBuffer[] = [];

  constructor(readonly capacity: number) {}

  acquire(): SharedArrayBuffer {
    return this.free.pop() ?? new SharedArrayBuffer(Math.max(1, this.capacity) * ROW_BYTES);
  }

  recycle(slot: SharedArrayBuffer): void {
    if (this.free.length < 64) this.free.push(slot);
  }
}
