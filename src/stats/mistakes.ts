// The images the HTML report shows, kept in bounded memory while the run streams: the most confident
// mistakes (or, for unlabeled input, the least confident predictions), and up to K example images for every
// cell of the confusion matrix. Each is a bounded priority queue (a binary heap holding the best `capacity`
// rows seen so far), so memory is O(capacity + classes² x K) images whatever the number of rows.
import type { Batch } from '../data/types.js';
import type { Normalization } from '../nn/types.js';

/** One kept row: where it came from, what the network said, and its pixels as bytes 0..255. */
export interface KeptImage {
  /** 1-based input line. */
  line: number;
  /** True label, or -1 for an unlabeled row. */
  label: number;
  predicted: number;
  confidence: number;
  pixels: Uint8Array;
}

/** Rows ranked by a score (higher is better); ties keep the earlier input line. */
interface Ranked extends KeptImage {
  score: number;
}

/**
 * A binary min-heap of the `capacity` best-scored items: the root is the worst kept item, so a new row is
 * rejected with one comparison once the heap is full, and accepted in O(log capacity). The evicted item is
 * handed back to the caller to refill, so a full heap allocates nothing more.
 */
export class BoundedBestHeap<T extends { score: number; line: number }> {
  readonly capacity: number;
  private readonly items: T[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`heap capacity must be an integer >= 0, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length;
  }

  /** Whether an item with this score and line would be kept. */
  accepts(score: number, line: number): boolean {
    if (this.items.length < this.capacity) return true;
    return this.capacity > 0 && isBetter(score, line, this.items[0]);
  }

  /**
   * Keeps the item when it ranks among the best: `make` receives the evicted item (to reuse its buffers)
   * or undefined, and returns the item to store with the given score and line. Returns whether it was kept.
   */
  offer(score: number, line: number, make: (recycled: T | undefined) => T): boolean {
    if (!this.accepts(score, line)) return false;
    if (this.items.length < this.capacity) {
      this.items.push(make(undefined));
      this.siftUp(this.items.length - 1);
    } else {
      this.items[0] = make(this.items[0]);
      this.siftDown(0);
    }
    return true;
  }

  /** The kept items, best first (a new array; the items themselves are shared). */
  sorted(): T[] {
    return [...this.items].sort((a, b) => (isBetter(a.score, a.line, b) ? -1 : isBetter(b.score, b.line, a) ? 1 : 0));
  }

  private siftUp(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!isBetter(items[parent].score, items[parent].line, items[i])) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < n && isBetter(items[worst].score, items[worst].line, items[left])) worst = left;
      if (right < n && isBetter(items[worst].score, items[worst].line, items[right])) worst = right;
      if (worst === i) return;
      [items[worst], items[i]] = [items[i], items[worst]];
      i = worst;
    }
  }
}

/** Higher score wins; on a tie the earlier line wins, so the result does not depend on batch boundaries. */
function isBetter(score: number, line: number, other: { score: number; line: number }): boolean {
  return score > other.score || (score === other.score && line < other.line);
}

export interface MistakeCollectorOptions {
  classes: number;
  /** Values per row (784 for MNIST). */
  features: number;
  /** How `batch.x` was made from the bytes, to turn it back into bytes. */
  normalize: Normalization;
  /** Images in the gallery. Default 200. */
  capacity?: number;
  /** Example images kept per confusion-matrix cell. Default 12. */
  perCell?: number;
}

export const DEFAULT_GALLERY_CAPACITY = 200;
export const DEFAULT_EXAMPLES_PER_CELL = 12;

/** What the collector found, ready for a page. */
export interface CollectedImages {
  /** `mistakes` for labeled input, `uncertain` (least confident predictions) when no row had a label. */
  kind: 'mistakes' | 'uncertain';
  /** The gallery, best first: most confident mistakes, or least confident unlabeled predictions. */
  gallery: KeptImage[];
  /** Misclassified labeled rows seen (the gallery holds at most `capacity` of them). */
  mistakes: number;
  labeled: number;
  unlabeled: number;
  /**
   * `cells[true][predicted]`: up to `perCell` examples of that pair; null for unlabeled input.
   * Mistake cells keep their most confident rows; diagonal (correct) cells keep their least confident
   * ones, the close calls, which say more about the model than its easiest digits.
   */
  cells: KeptImage[][][] | null;
  capacity: number;
  perCell: number;
}

/** Collects the report's images from scored batches; `onBatch` fits runInference's `onBatch` hook. */
export class MistakeCollector {
  readonly classes: number;
  readonly features: number;
  readonly capacity: number;
  readonly perCell: number;
  private readonly toByte: (value: number) => number;
  private readonly gallery: BoundedBestHeap<Ranked>;
  private readonly uncertain: BoundedBestHeap<Ranked>;
  /** Created on first use: most inputs fill a fraction of the off-diagonal cells. */
  private readonly cells: (BoundedBestHeap<Ranked> | undefined)[];
  private mistakeCount = 0;
  private labeledCount = 0;
  private unlabeledCount = 0;

  constructor(options: MistakeCollectorOptions) {
    const { classes, features } = options;
    if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`classes must be a positive integer, got ${classes}`);
    if (!Number.isInteger(features) || features < 1) throw new RangeError(`features must be a positive integer, got ${features}`);
    this.classes = classes;
    this.features = features;
    this.capacity = options.capacity ?? DEFAULT_GALLERY_CAPACITY;
    this.perCell = options.perCell ?? DEFAULT_EXAMPLES_PER_CELL;
    this.toByte = byteFromNormalized(options.normalize);
    if (!Number.isInteger(this.perCell) || this.perCell < 0) throw new RangeError(`perCell must be an integer >= 0, got ${this.perCell}`);
    this.gallery = new BoundedBestHeap(this.capacity);
    this.uncertain = new BoundedBestHeap(this.capacity);
    this.cells = new Array(classes * classes);
  }

  /** Looks at every row of a scored batch; copies the pixels of the few rows it keeps, never `batch.x` itself. */
  readonly onBatch = (batch: Batch, scored: { predicted: Int32Array; confidence: Float32Array }): void => {
    const { rows, labels, lines, x } = batch;
    const { predicted, confidence } = scored;
    for (let r = 0; r < rows; r++) {
      const label = labels[r];
      const guess = predicted[r];
      // NaN (a broken model) ranks below everything instead of poisoning the heap's comparisons.
      const conf = Number.isNaN(confidence[r]) ? -Infinity : confidence[r];
      const line = lines[r];
      if (label === -1) {
        this.unlabeledCount += 1;
        this.keep(this.uncertain, -conf, x, r, line, label, guess, confidence[r]);
        continue;
      }
      this.labeledCount += 1;
      const mistake = label !== guess;
      if (mistake) {
        this.mistakeCount += 1;
        this.keep(this.gallery, conf, x, r, line, label, guess, confidence[r]);
      }
      if (this.perCell > 0 && guess >= 0 && guess < this.classes && label >= 0 && label < this.classes) {
        const index = label * this.classes + guess;
        const heap = (this.cells[index] ??= new BoundedBestHeap<Ranked>(this.perCell));
        this.keep(heap, mistake ? conf : -conf, x, r, line, label, guess, confidence[r]);
      }
    }
  };

  result(): CollectedImages {
    const strip = (items: Ranked[]): KeptImage[] =>
      items.map(({ line, label, predicted, confidence, pixels }) => ({ line, label, predicted, confidence, pixels }));
    const labeled = this.labeledCount > 0;
    const k = this.classes;
    return {
      kind: labeled ? 'mistakes' : 'uncertain',
      gallery: strip((labeled ? this.gallery : this.uncertain).sorted()),
      mistakes: this.mistakeCount,
      labeled: this.labeledCount,
      unlabeled: this.unlabeledCount,
      cells: labeled
        ? Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => strip(this.cells[t * k + p]?.sorted() ?? [])))
        : null,
      capacity: this.capacity,
      perCell: this.perCell,
    };
  }

  private keep(
    heap: BoundedBestHeap<Ranked>,
    score: number,
    x: Float32Array,
    row: number,
    line: number,
    label: number,
    predicted: number,
    confidence: number,
  ): void {
    heap.offer(score, line, (recycled) => {
      const item = recycled ?? { score, line, label, predicted, confidence, pixels: new Uint8Array(this.features) };
      item.score = score;
      item.line = line;
      item.label = label;
      item.predicted = predicted;
      item.confidence = confidence;
      const offset = row * this.features;
      for (let i = 0; i < this.features; i++) item.pixels[i] = this.toByte(x[offset + i]);
      return item;
    });
  }
}

/**
 * The inverse of normalizationTable: `unit` stores float32(b / 255), and round(float32(b / 255) * 255) is b
 * for every byte (checked in the tests); `none` stores the byte itself. Clamped so that a value that did not
 * come from a byte still draws.
 */
export function byteFromNormalized(mode: Normalization): (value: number) => number {
  const scale = mode === 'unit' ? 255 : mode === 'none' ? 1 : NaN;
  if (Number.isNaN(scale)) throw new RangeError(`unknown normalization '${String(mode)}' (expected unit or none)`);
  return (value) => {
    const byte = Math.round(value * scale);
    return byte > 255 ? 255 : byte >= 0 ? byte : 0; // NaN -> 0
  };
}
