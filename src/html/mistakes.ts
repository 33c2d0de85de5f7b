// The images the HTML report shows: a fixed budget of T images whatever the number of rows, so that the
// page's size does not grow with the input. The budget is filled in tiers:
//   1. mistakes, picked round-robin across the confusion matrix's off-diagonal cells (the most confident
//      mistake of every cell, then the second of every cell, ...), so every kind of mistake is shown;
//   2. when there are fewer than T mistakes, close calls (the least confident correct predictions),
//      picked round-robin across the classes;
//   3. when there are fewer labeled rows than T, the least confident unlabeled rows (for unlabeled input
//      this is the whole gallery).
// So the page holds exactly min(T, rows) images.
//
// While the run streams, each tier keeps only the candidates its final pick can still need: a bounded
// priority queue per group (cell or class) whose capacity is the round-robin "water level" + 1, lowered as
// the counts grow (RoundRobinCandidates). Worst case, with k classes: T + k(k-1) images for labeled input
// (the mistakes' heaps hold at most one image beyond the full rounds per cell; the close calls' heaps are
// emptied once there are T mistakes), T for unlabeled input, 2T + k(k-1) for a mix. With T = 240 and MNIST
// (k = 10) that is 330 images of 784 bytes for labeled input: about 0.3 MB.
import type { Batch } from '../data/types.js';
import type { Normalization } from '../data/normalize.js';

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
export interface Ranked extends KeptImage {
  score: number;
}

/**
 * A binary min-heap of the `capacity` best-scored items: the root is the worst kept item, so a new row is
 * rejected with one comparison once the heap is full, and accepted in O(log capacity). The evicted item is
 * handed back to the caller to refill, so a full heap allocates nothing more. The capacity can be lowered
 * (the worst items are dropped) as a caller learns it needs fewer.
 */
export class BoundedBestHeap<T extends { score: number; line: number }> {
  private cap: number;
  private readonly items: T[] = [];

  constructor(capacity: number) {
    this.cap = checkCapacity(capacity);
  }

  get capacity(): number {
    return this.cap;
  }

  get size(): number {
    return this.items.length;
  }

  /** Changes the capacity; a lower one drops the worst items beyond it. */
  setCapacity(capacity: number): void {
    this.cap = checkCapacity(capacity);
    while (this.items.length > this.cap) this.popWorst();
  }

  /** Whether an item with this score and line would be kept. */
  accepts(score: number, line: number): boolean {
    if (this.items.length < this.cap) return true;
    return this.cap > 0 && isBetter(score, line, this.items[0]);
  }

  /**
   * Keeps the item when it ranks among the best: `make` receives the evicted item (to reuse its buffers)
   * or undefined, and returns the item to store with the given score and line. Returns whether it was kept.
   */
  offer(score: number, line: number, make: (recycled: T | undefined) => T): boolean {
    if (!this.accepts(score, line)) return false;
    if (this.items.length < this.cap) {
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
    return [...this.items].sort(byRank);
  }

  private popWorst(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.siftDown(0);
    }
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

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new RangeError(`heap capacity must be an integer >= 0, got ${capacity}`);
  return capacity;
}

/** Higher score wins; on a tie the earlier line wins, so the result does not depend on batch boundaries. */
function isBetter(score: number, line: number, other: { score: number; line: number }): boolean {
  return score > other.score || (score === other.score && line < other.line);
}

/** Sort order: best first. */
function byRank(a: { score: number; line: number }, b: { score: number; line: number }): number {
  return isBetter(a.score, a.line, b) ? -1 : isBetter(b.score, b.line, a) ? 1 : 0;
}

/**
 * Candidates in groups (confusion cells, classes), to pick `budget` of them round-robin at the end: round r
 * takes the r-th best of every group that has one; the last round, if only partly needed, takes its best.
 * (Round by round rather than group by group, so that a group with many rows cannot crowd out the others.)
 *
 * Only what that pick can still use is kept. With n_g rows seen in group g, full rounds 1..L fit in the
 * budget while S(L) = sum_g min(n_g, L) <= budget, and the pick takes at most min(n_g, L + 1) from group g.
 * Rows only raise the counts and the budget only goes down, so L only goes down: a heap of capacity L + 1
 * per group (never more than the budget) always holds every row the final pick can take. Memory: at most
 * S(L) + (groups with n_g > L) <= budget + groups items.
 */
export class RoundRobinCandidates<T extends { score: number; line: number } = Ranked> {
  readonly groups: number;
  private currentBudget: number;
  /** Created on first use: a run fills a fraction of the off-diagonal cells. */
  private readonly heaps: (BoundedBestHeap<T> | undefined)[];
  private readonly seen: Float64Array;
  /** L: the full rounds that fit in the budget (at most the budget). */
  private level: number;
  /** S(L). */
  private filled = 0;
  /** The capacity the heaps were last trimmed to. */
  private heapCapacity: number;

  constructor(groups: number, budget: number) {
    if (!Number.isInteger(groups) || groups < 1)
      throw new RangeError(`groups must be a positive integer, got ${groups}`);
    checkCapacity(budget);
    this.groups = groups;
    this.currentBudget = budget;
    this.level = budget;
    this.heapCapacity = budget;
    this.heaps = new Array(groups);
    this.seen = new Float64Array(groups);
  }

  get budget(): number {
    return this.currentBudget;
  }

  /** Rows offered to `group` so far (kept or not). */
  count(group: number): number {
    return this.seen[group];
  }

  /** Items held now, all groups together (for memory checks). */
  get held(): number {
    return this.heaps.reduce((n, heap) => n + (heap?.size ?? 0), 0);
  }

  /** Every item held, all groups together, in no particular order (for a merge: mergeHeldImages). */
  items(): T[] {
    return this.heaps.flatMap((heap) => heap?.sorted() ?? []);
  }

  /** Lowers the budget (a higher one is ignored: the rows dropped so far are gone). */
  lowerBudget(budget: number): void {
    checkCapacity(budget);
    if (budget >= this.currentBudget) return;
    this.currentBudget = budget;
    if (this.level > budget) {
      this.level = budget;
      this.filled = 0;
      for (const n of this.seen) this.filled += Math.min(n, budget);
    }
    this.settle();
  }

  /** Counts a row of `group` and keeps it if the final pick may take it (see BoundedBestHeap.offer). */
  offer(group: number, score: number, line: number, make: (recycled: T | undefined) => T): boolean {
    const before = this.seen[group];
    this.seen[group] = before + 1;
    if (before < this.level) {
      this.filled += 1;
      if (this.filled > this.currentBudget) this.settle();
    }
    const capacity = this.capacity();
    if (capacity === 0) return false;
    const heap = (this.heaps[group] ??= new BoundedBestHeap<T>(capacity));
    return heap.offer(score, line, make);
  }

  /** The round-robin pick of min(budget, rows seen) items, in pick order (round by round, each best first). */
  pick(): T[] {
    const lists = Array.from(this.heaps, (heap) => heap?.sorted() ?? []);
    const picked: T[] = [];
    for (let round = 0; picked.length < this.currentBudget; round++) {
      const items = lists.filter((list) => list.length > round).map((list) => list[round]);
      if (items.length === 0) break;
      // Each round best first, so a partly needed last round takes its best.
      items.sort(byRank);
      picked.push(...items.slice(0, this.currentBudget - picked.length));
    }
    return picked;
  }

  private capacity(): number {
    return Math.min(this.level + 1, this.currentBudget);
  }

  /** Lowers L until S(L) fits the budget (S(L - 1) = S(L) - groups with n_g >= L), then trims the heaps. */
  private settle(): void {
    while (this.filled > this.currentBudget) {
      let reaching = 0;
      for (const n of this.seen) if (n >= this.level) reaching += 1;
      this.filled -= reaching;
      this.level -= 1;
    }
    const capacity = this.capacity();
    if (capacity < this.heapCapacity) {
      this.heapCapacity = capacity;
      for (const heap of this.heaps) if (heap && heap.capacity > capacity) heap.setCapacity(capacity);
    }
  }
}

export interface MistakeCollectorOptions {
  classes: number;
  /** Values per row (784 for MNIST). */
  features: number;
  /** How `batch.x` was made from the bytes, to turn it back into bytes. */
  normalize: Normalization;
  /** T: images on the page. Default 240. */
  budget?: number;
}

/**
 * T = 240: for 10 classes it is 24 close calls per class, or at least two examples of each of the 90
 * possible mistakes (three for 60 of them) when all occur; 240 tiles are about 16 rows of 15 on a wide
 * screen; 240 records of 800 bytes are 192,000 bytes (a multiple of 3: no base64 padding) and 256,000
 * characters of base64, about as much as the inlined Chart.js.
 */
export const DEFAULT_IMAGE_BUDGET = 240;

/** What the collector picked, ready for a page; every list is in display order. */
export interface CollectedImages {
  /** `mistakes` when any row had a label, `uncertain` (least confident predictions) when none had. */
  kind: 'mistakes' | 'uncertain';
  /** T. */
  budget: number;
  classes: number;
  /** Mistakes picked round-robin across the confusion cells; shown most confident first. */
  mistakes: KeptImage[];
  /** Close calls (least confident correct predictions) picked round-robin across the classes; least confident first. */
  closeCalls: KeptImage[];
  /** Least confident unlabeled rows; least confident first. */
  uncertain: KeptImage[];
  /** Misclassified labeled rows seen. */
  mistakeCount: number;
  labeled: number;
  unlabeled: number;
}

/** Collects the report's images from scored batches; `onBatch` fits runInference's `onBatch` hook. */
export class MistakeCollector {
  readonly classes: number;
  readonly features: number;
  readonly budget: number;
  private readonly toByte: (value: number) => number;
  /** Tier 1, grouped by confusion cell (true x classes + predicted; the diagonal stays empty). */
  private readonly mistakeCandidates: RoundRobinCandidates<Ranked>;
  /** Tier 2, grouped by class; its budget is what the mistakes leave. */
  private readonly closeCallCandidates: RoundRobinCandidates<Ranked>;
  /** Tier 3: its capacity is what the labeled rows leave. */
  private readonly uncertainCandidates: BoundedBestHeap<Ranked>;
  /** The row being offered (see `make`). */
  private readonly row: {
    x: Float32Array;
    index: number;
    score: number;
    line: number;
    label: number;
    predicted: number;
    confidence: number;
  } = { x: EMPTY, index: 0, score: 0, line: 0, label: 0, predicted: 0, confidence: 0 };
  private mistakeCount = 0;
  private labeledCount = 0;
  private unlabeledCount = 0;

  constructor(options: MistakeCollectorOptions) {
    const { classes, features } = options;
    if (!Number.isInteger(classes) || classes < 1)
      throw new RangeError(`classes must be a positive integer, got ${classes}`);
    if (!Number.isInteger(features) || features < 1)
      throw new RangeError(`features must be a positive integer, got ${features}`);
    const budget = options.budget ?? DEFAULT_IMAGE_BUDGET;
    if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`budget must be an integer >= 0, got ${budget}`);
    this.classes = classes;
    this.features = features;
    this.budget = budget;
    this.toByte = byteFromNormalized(options.normalize);
    this.mistakeCandidates = new RoundRobinCandidates(classes * classes, budget);
    this.closeCallCandidates = new RoundRobinCandidates(classes, budget);
    this.uncertainCandidates = new BoundedBestHeap(budget);
  }

  /** Images held right now, all tiers together (for memory checks). */
  get held(): number {
    return this.mistakeCandidates.held + this.closeCallCandidates.held + this.uncertainCandidates.size;
  }

  /** Looks at every row of a scored batch; copies the pixels of the few rows it keeps, never `batch.x` itself. */
  readonly onBatch = (batch: Batch, scored: { predicted: Int32Array; confidence: Float32Array }): void => {
    const { rows, labels, lines, x } = batch;
    const { predicted, confidence } = scored;
    const k = this.classes;
    for (let r = 0; r < rows; r++) {
      const label = labels[r];
      const guess = predicted[r];
      // NaN (a broken model) ranks as the least confident instead of poisoning the heaps' comparisons.
      const conf = Number.isNaN(confidence[r]) ? -Infinity : confidence[r];
      const line = lines[r];
      const row = this.row;
      row.x = x;
      row.index = r;
      row.line = line;
      row.label = label;
      row.predicted = guess;
      row.confidence = confidence[r];
      if (label === -1) {
        this.unlabeledCount += 1;
        row.score = -conf;
        this.uncertainCandidates.offer(row.score, line, this.make);
        continue;
      }
      this.labeledCount += 1;
      if (label !== guess) this.mistakeCount += 1;
      // Labels and predictions are checked upstream (0..classes-1); anything else counts but is not shown.
      if (!(label >= 0 && label < k && guess >= 0 && guess < k)) continue;
      if (label !== guess) {
        row.score = conf;
        this.mistakeCandidates.offer(label * k + guess, row.score, line, this.make);
        if (this.closeCallCandidates.budget > 0)
          this.closeCallCandidates.lowerBudget(Math.max(0, this.budget - this.mistakeCount));
      } else if (this.closeCallCandidates.budget > 0) {
        row.score = -conf;
        this.closeCallCandidates.offer(label, row.score, line, this.make);
      }
    }
    this.row.x = EMPTY; // do not hold on to the batch
    // Unlabeled rows only fill what the labeled ones leave.
    const room = Math.max(0, this.budget - this.labeledCount);
    if (this.uncertainCandidates.capacity > room) this.uncertainCandidates.setCapacity(room);
  };

  result(): CollectedImages {
    const counts = {
      classes: this.classes,
      budget: this.budget,
      mistakeCount: this.mistakeCount,
      labeled: this.labeledCount,
      unlabeled: this.unlabeledCount,
    };
    return finalPick(counts, {
      mistakes: this.mistakeCandidates,
      closeCalls: this.closeCallCandidates,
      uncertain: this.uncertainCandidates,
    });
  }

  /**
   * Every image the collector holds (each tier's candidates) and its counts: what the final pick of a run
   * over a larger input containing this one can still need from it (see mergeHeldImages).
   */
  heldImages(): HeldImages {
    const strip = ({ line, label, predicted, confidence, pixels }: Ranked): KeptImage => ({
      line,
      label,
      predicted,
      confidence,
      pixels,
    });
    const images = [
      ...this.mistakeCandidates.items(),
      ...this.closeCallCandidates.items(),
      ...this.uncertainCandidates.sorted(),
    ].map(strip);
    return {
      classes: this.classes,
      budget: this.budget,
      images,
      mistakeCount: this.mistakeCount,
      labeled: this.labeledCount,
      unlabeled: this.unlabeledCount,
    };
  }

  /**
   * The heaps' `make` for the row in `this.row`: fills a new or recycled item, its bytes recovered from `x`.
   * One function for every row (no closure per row: a run offers millions of rows and keeps a few hundred).
   */
  private readonly make = (recycled: Ranked | undefined): Ranked => {
    const { x, index, score, line, label, predicted, confidence } = this.row;
    const item = recycled ?? { score, line, label, predicted, confidence, pixels: new Uint8Array(this.features) };
    item.score = score;
    item.line = line;
    item.label = label;
    item.predicted = predicted;
    item.confidence = confidence;
    const offset = index * this.features;
    for (let i = 0; i < this.features; i++) item.pixels[i] = this.toByte(x[offset + i]);
    return item;
  };
}

const EMPTY: Float32Array = new Float32Array(0);

/** The candidates of each tier, ready for the final pick. */
interface Tiers {
  mistakes: RoundRobinCandidates<Ranked>;
  closeCalls: RoundRobinCandidates<Ranked>;
  uncertain: BoundedBestHeap<Ranked>;
}

type Counts = Pick<HeldImages, 'classes' | 'budget' | 'mistakeCount' | 'labeled' | 'unlabeled'>;

/**
 * The page's images from the tiers' candidates: the mistakes, then close calls and unlabeled rows to fill the budget.
 */
function finalPick(counts: Counts, tiers: Tiers): CollectedImages {
  const strip = (items: Ranked[]): KeptImage[] =>
    items.map(({ line, label, predicted, confidence, pixels }) => ({ line, label, predicted, confidence, pixels }));
  const { budget } = counts;
  const mistakes = tiers.mistakes.pick();
  const closeCalls = tiers.closeCalls.pick().slice(0, budget - mistakes.length);
  const uncertain = tiers.uncertain.sorted().slice(0, budget - mistakes.length - closeCalls.length);
  return {
    kind: counts.labeled > 0 ? 'mistakes' : 'uncertain',
    budget,
    classes: counts.classes,
    // Picked round-robin for coverage; shown by rank: the most confident mistakes, the least confident rest.
    mistakes: strip(mistakes.sort(byRank)),
    closeCalls: strip(closeCalls.sort(byRank)),
    uncertain: strip(uncertain),
    mistakeCount: counts.mistakeCount,
    labeled: counts.labeled,
    unlabeled: counts.unlabeled,
  };
}

/**
 * What a collector holds at the end of a run (MistakeCollector.heldImages): enough to merge runs over parts of one
 * input.
 */
export interface HeldImages {
  classes: number;
  budget: number;
  /** Every candidate of every tier, in no particular order; the tier follows from label and predicted. */
  images: KeptImage[];
  mistakeCount: number;
  labeled: number;
  unlabeled: number;
}

/**
 * The images one collector over the whole input would pick, from the held images of collectors over its
 * parts, each with the lines before its part (so that ties, broken by the earlier line, break as in one
 * run). Exact: a part's rows are a subset of the whole's and its budgets are at least the whole's
 * (T - its mistakes >= T - all mistakes), so each part keeps at least the whole's top min(n_g, L + 1)
 * rows of every group g (its level L only goes down as counts grow); the union holds the whole's top
 * rows of every group, and the round-robin pick on any such subset of the rows is the pick on all rows.
 */
export function mergeHeldImages(parts: { held: HeldImages; lineOffset: number }[]): CollectedImages {
  if (parts.length === 0) throw new RangeError('mergeHeldImages: no parts');
  const { classes: k, budget } = parts[0].held;
  for (const { held } of parts) {
    if (held.classes !== k || held.budget !== budget)
      throw new RangeError(
        `mergeHeldImages: parts with ${held.classes} classes and budget ${held.budget}, and ${k} and ${budget}`,
      );
  }
  const sum = (key: 'mistakeCount' | 'labeled' | 'unlabeled') => parts.reduce((n, p) => n + p.held[key], 0);
  const counts: Counts = {
    classes: k,
    budget,
    mistakeCount: sum('mistakeCount'),
    labeled: sum('labeled'),
    unlabeled: sum('unlabeled'),
  };
  // The budgets one run ends with: close calls get what the mistakes leave, unlabeled rows what the labeled ones leave.
  const tiers: Tiers = {
    mistakes: new RoundRobinCandidates<Ranked>(k * k, budget),
    closeCalls: new RoundRobinCandidates<Ranked>(k, Math.max(0, budget - counts.mistakeCount)),
    uncertain: new BoundedBestHeap<Ranked>(Math.max(0, budget - counts.labeled)),
  };
  for (const { held, lineOffset } of parts) {
    for (const image of held.images) {
      const line = image.line + lineOffset;
      const conf = Number.isNaN(image.confidence) ? -Infinity : image.confidence;
      const make = (): Ranked => ({
        ...image,
        line,
        score: image.label !== -1 && image.label !== image.predicted ? conf : -conf,
      });
      if (image.label === -1) tiers.uncertain.offer(-conf, line, make);
      else if (image.label !== image.predicted)
        tiers.mistakes.offer(image.label * k + image.predicted, conf, line, make);
      else tiers.closeCalls.offer(image.label, -conf, line, make);
    }
  }
  return finalPick(counts, tiers);
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
