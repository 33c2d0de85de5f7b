// Accuracy bookkeeping: a classes x classes confusion matrix, filled incrementally while the run streams.
// Memory is classes^2 counters whatever the number of rows.

/** Per-class figures derived from the confusion matrix. */
export interface ClassStats {
  class: number;
  /** Labeled rows whose true label is this class (row sum). */
  support: number;
  /** Labeled rows predicted as this class (column sum). */
  predicted: number;
  /** Rows of this class predicted right (the diagonal cell). */
  correct: number;
  /** correct / predicted; null when nothing was predicted as this class. */
  precision: number | null;
  /** correct / support; null when the class has no labeled rows. */
  recall: number | null;
  /** Share of this class's rows predicted right: the same figure as `recall`. */
  accuracy: number | null;
}

export class ConfusionMatrix {
  readonly classes: number;
  /** Row-major [true][predicted]; float64 counters stay exact up to 2^53 rows. */
  private readonly counts: Float64Array;
  private totalCount = 0;
  private correctCount = 0;

  constructor(classes: number) {
    if (!Number.isInteger(classes) || classes < 1) {
      throw new RangeError(`ConfusionMatrix: classes must be a positive integer, got ${classes}`);
    }
    this.classes = classes;
    this.counts = new Float64Array(classes * classes);
  }

  /** Counts one labeled row. A label of -1 (unlabeled row) is ignored. */
  add(label: number, predicted: number): void {
    if (label === -1) return;
    this.checkClass('label', label);
    this.checkClass('predicted class', predicted);
    this.counts[label * this.classes + predicted] += 1;
    this.totalCount += 1;
    if (label === predicted) this.correctCount += 1;
  }

  /** Counts the first `rows` entries of a batch; labels of -1 (unlabeled rows) are ignored. */
  addBatch(labels: Int16Array, predicted: Int32Array, rows: number): void {
    if (!Number.isInteger(rows) || rows < 0 || rows > labels.length || rows > predicted.length) {
      throw new RangeError(
        `ConfusionMatrix.addBatch: rows ${rows} does not fit labels (${labels.length}) and predicted ` +
          `(${predicted.length})`,
      );
    }
    for (let i = 0; i < rows; i++) this.add(labels[i], predicted[i]);
  }

  /**
   * Adds another matrix's counts ([true][predicted], classes x classes non-negative integers): a shard's, when runs
   * merge.
   */
  addCounts(counts: readonly (readonly number[])[]): void {
    const k = this.classes;
    if (counts.length !== k || counts.some((row) => row.length !== k)) {
      throw new RangeError(`ConfusionMatrix.addCounts: expected ${k} x ${k} counts`);
    }
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < k; c++) {
        const n = counts[r][c];
        if (!Number.isSafeInteger(n) || n < 0)
          throw new RangeError(`ConfusionMatrix.addCounts: count [${r}][${c}] is ${n}, not an integer >= 0`);
        this.counts[r * k + c] += n;
        this.totalCount += n;
        if (r === c) this.correctCount += n;
      }
    }
  }

  /** Labeled rows counted so far. */
  get total(): number {
    return this.totalCount;
  }

  /** Labeled rows predicted right (the trace). */
  get correct(): number {
    return this.correctCount;
  }

  /** correct / total, or null when no labeled row has been counted. */
  accuracy(): number | null {
    return this.totalCount === 0 ? null : this.correctCount / this.totalCount;
  }

  perClass(): ClassStats[] {
    const k = this.classes;
    const result: ClassStats[] = [];
    for (let c = 0; c < k; c++) {
      let support = 0;
      let predicted = 0;
      for (let j = 0; j < k; j++) {
        support += this.counts[c * k + j];
        predicted += this.counts[j * k + c];
      }
      const correct = this.counts[c * k + c];
      const recall = support === 0 ? null : correct / support;
      result.push({
        class: c,
        support,
        predicted,
        correct,
        precision: predicted === 0 ? null : correct / predicted,
        recall,
        accuracy: recall,
      });
    }
    return result;
  }

  /** A copy of the counts as nested arrays, [true label][predicted class]. */
  toArray(): number[][] {
    const k = this.classes;
    return Array.from({ length: k }, (_, r) => Array.from(this.counts.subarray(r * k, (r + 1) * k)));
  }

  private checkClass(what: string, value: number): void {
    // Out-of-range values mean a bug upstream (labels are validated, predictions come from argmax):
    // fail loudly rather than silently corrupt the statistics.
    if (!Number.isInteger(value) || value < 0 || value >= this.classes) {
      throw new RangeError(`ConfusionMatrix: ${what} ${value} is outside 0..${this.classes - 1}`);
    }
  }
}
