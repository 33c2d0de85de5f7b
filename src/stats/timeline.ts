// The run over time, in bounded memory, for charts: throughput as the run went (rows finished per sliding
// window, from time bins that double their width whenever they fill up), and the batch latency distribution
// as counts in fixed logarithmic buckets (RunStats' HdrHistogram gives percentiles but no buckets to draw).
import { performance } from 'node:perf_hooks';

/** One point of the throughput line: the rows finished in the window that ends here, as a rate. */
export interface ThroughputPoint {
  /** End of the window, seconds since the timeline started. */
  seconds: number;
  /** Rows finished in the window / the window's length (shorter at the start of the run). */
  imagesPerSecond: number;
  /** Rows finished from the start up to `seconds` (the last point's is every row of the run). */
  rows: number;
}

export interface ThroughputTimelineOptions {
  /** Points returned, evenly spaced over the run. Default 60. */
  maxPoints?: number;
  /** Millisecond clock; default performance.now. Injected by tests. */
  now?: () => number;
}

export const DEFAULT_TIMELINE_POINTS = 60;

/** The sliding window: this share of the run, and never shorter than WINDOW_MIN_MS (nor longer than the run). */
export const WINDOW_SHARE = 0.05;
export const WINDOW_MIN_MS = 50;

/** Width of the first time bins, ms; they double as the run goes on. */
const FIRST_BIN_MS = 0.25;

/**
 * Throughput over the run as a rate over a sliding window. Why a window: results come back in bursts (in
 * order, so a slow batch holds back the ones behind it, which then land within the same millisecond), so the
 * rate of single batches swings from 0 to millions of images/s and says nothing. Rows finished in the last
 * 5% of the run (at least 50 ms) is what a person means by "the throughput at that moment".
 *
 * Memory is fixed: finished rows are counted in time bins; when the bins would reach 2 x maxPoints,
 * neighbours are merged pairwise and the width doubles. So bins are always narrower than 1/maxPoints of
 * the run, finer than the window.
 */
export class ThroughputTimeline {
  readonly maxPoints: number;
  private readonly now: () => number;
  private startedAt: number;
  private binMs = FIRST_BIN_MS;
  /** Rows finished in [i x binMs, (i + 1) x binMs). */
  private bins: number[] = [];
  /** When the last batch finished, ms since start. */
  private endMs = 0;

  constructor(options: ThroughputTimelineOptions = {}) {
    this.maxPoints = options.maxPoints ?? DEFAULT_TIMELINE_POINTS;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 1)
      throw new RangeError(`maxPoints must be a positive integer, got ${this.maxPoints}`);
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
  }

  /** Marks time 0 (the run's start, before the worker pool starts). */
  start(): void {
    this.startedAt = this.now();
    this.binMs = FIRST_BIN_MS;
    this.bins = [];
    this.endMs = 0;
  }

  /** Records a finished batch of `rows` rows, now. */
  record(rows: number): void {
    const at = Math.max(0, this.now() - this.startedAt);
    while (Math.floor(at / this.binMs) >= 2 * this.maxPoints) this.widen();
    const bin = Math.floor(at / this.binMs);
    while (this.bins.length <= bin) this.bins.push(0);
    this.bins[bin] += rows;
    this.endMs = Math.max(this.endMs, at);
  }

  /** The window the points use, ms: WINDOW_SHARE of the run, at least WINDOW_MIN_MS, at most the run. */
  windowMs(): number {
    return Math.min(this.endMs, Math.max(WINDOW_SHARE * this.endMs, WINDOW_MIN_MS));
  }

  /** maxPoints points evenly spaced up to the last finished batch (none before the first). */
  points(): ThroughputPoint[] {
    if (this.bins.length === 0) return [];
    const end = this.endMs;
    const window = this.windowMs();
    const out: ThroughputPoint[] = [];
    for (let j = 1; j <= this.maxPoints; j++) {
      // The last point is the end itself: (end * n) / n can round below it, leaving a row unfinished.
      const at = j === this.maxPoints ? end : (end * j) / this.maxPoints;
      const from = Math.max(0, at - window);
      const done = this.rowsBy(at);
      const ms = at - from;
      out.push({
        seconds: at / 1000,
        imagesPerSecond: ms > 0 ? ((done - this.rowsBy(from)) * 1000) / ms : 0,
        rows: done,
      });
    }
    return out;
  }

  /**
   * Rows finished by `ms`: whole bins before it, and the share of its own bin that lies before it (rows
   * spread evenly within a bin). At or after the last batch: every row.
   */
  private rowsBy(ms: number): number {
    if (ms >= this.endMs) return this.bins.reduce((a, b) => a + b, 0);
    const bin = Math.floor(ms / this.binMs);
    let rows = 0;
    for (let i = 0; i < bin && i < this.bins.length; i++) rows += this.bins[i];
    // The last bin's rows finished by endMs, not by the bin's end.
    const binEnd = Math.min((bin + 1) * this.binMs, this.endMs);
    if (bin < this.bins.length) rows += (this.bins[bin] * (ms - bin * this.binMs)) / (binEnd - bin * this.binMs);
    return rows;
  }

  private widen(): void {
    const merged: number[] = [];
    for (let i = 0; i < this.bins.length; i += 2) merged.push(this.bins[i] + (this.bins[i + 1] ?? 0));
    this.bins = merged;
    this.binMs *= 2;
  }
}

/** One bar of a latency histogram: [fromMs, toMs) and how many samples fell in it. */
export interface LatencyBucket {
  fromMs: number;
  toMs: number;
  count: number;
}

export interface LatencyBucketsOptions {
  /** Buckets per factor of ten. Default 20 (each bucket about 12% wide). */
  perDecade?: number;
  /** Lower edge of the first bucket, ms; smaller samples count in it. Default 0.001 (1 µs). */
  minMs?: number;
  /** Decades covered; larger samples count in the last bucket. Default 9 (up to 1000 s). */
  decades?: number;
}

/** Latency counts in fixed logarithmic buckets: a few hundred counters whatever the number of samples. */
export class LatencyBuckets {
  readonly perDecade: number;
  /** Lower edge of bucket 0; bucket i covers [edgeMs(i), edgeMs(i + 1)). */
  readonly minMs: number;
  private readonly counts: Float64Array;
  private samples = 0;

  constructor(options: LatencyBucketsOptions = {}) {
    this.perDecade = options.perDecade ?? 20;
    this.minMs = options.minMs ?? 0.001;
    const decades = options.decades ?? 9;
    if (!(this.perDecade >= 1 && this.minMs > 0 && decades >= 1)) throw new RangeError('LatencyBuckets: bad options');
    this.counts = new Float64Array(Math.ceil(this.perDecade * decades));
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`LatencyBuckets: a duration must be a finite number >= 0 ms, got ${ms}`);
    const raw = ms <= this.minMs ? 0 : Math.floor(Math.log10(ms / this.minMs) * this.perDecade);
    this.counts[Math.min(this.counts.length - 1, raw)] += 1;
    this.samples += 1;
  }

  get count(): number {
    return this.samples;
  }

  /** The number of buckets: fixed by the options, whatever was recorded. */
  get bucketCount(): number {
    return this.counts.length;
  }

  /** A copy of every bucket's count (bucketCount values, empty buckets included): fixed-size data for a page. */
  allCounts(): Float64Array {
    return this.counts.slice();
  }

  /** Indices of the first and last non-empty buckets, or null without samples. */
  nonEmptyRange(): [number, number] | null {
    if (this.samples === 0) return null;
    let first = 0;
    while (this.counts[first] === 0) first += 1;
    let last = this.counts.length - 1;
    while (this.counts[last] === 0) last -= 1;
    return [first, last];
  }

  /**
   * Buckets first..last (indices, both included; default: the non-empty range, empty buckets between
   * included), so that histograms built with the same options can be drawn on one axis.
   */
  buckets(range: [number, number] | null = this.nonEmptyRange()): LatencyBucket[] {
    if (range === null) return [];
    const [first, last] = [Math.max(0, range[0]), Math.min(this.counts.length - 1, range[1])];
    const out: LatencyBucket[] = [];
    for (let i = first; i <= last; i++)
      out.push({ fromMs: this.edgeMs(i), toMs: this.edgeMs(i + 1), count: this.counts[i] });
    return out;
  }

  /** The lower edge of bucket i (the upper edge of bucket i - 1), ms. */
  edgeMs(i: number): number {
    return this.minMs * 10 ** (i / this.perDecade);
  }
}
