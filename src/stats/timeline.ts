// The run over time, in bounded memory, for charts: throughput as the run went (a timeline of batch groups
// that halves its resolution whenever it fills up), and the batch latency distribution as counts in fixed
// logarithmic buckets (RunStats' HdrHistogram gives percentiles but no buckets to draw).
import { performance } from 'node:perf_hooks';

/** One point of the throughput line: the rows finished in a group of consecutive batches. */
export interface ThroughputPoint {
  /** End of the group, seconds since the timeline started. */
  seconds: number;
  /** Rows finished in the group / the time the group took. */
  imagesPerSecond: number;
  rows: number;
}

export interface ThroughputTimelineOptions {
  /** Most points returned (and about twice that kept). Default 60. */
  maxPoints?: number;
  /** Millisecond clock; default performance.now. Injected by tests. */
  now?: () => number;
}

export const DEFAULT_TIMELINE_POINTS = 60;

/**
 * Throughput over the run. Every batch is recorded as (end time, rows); when the kept groups reach
 * 2 x maxPoints, neighbours are merged pairwise, so each group always spans the same number of batches
 * (a power of two) and memory stays fixed however long the run. A group's throughput is its rows over
 * the time since the previous group ended (the first group's includes start-up, which is the truth).
 */
export class ThroughputTimeline {
  readonly maxPoints: number;
  private readonly now: () => number;
  private startedAt: number;
  /** Group end times (ms since start) and rows; merged in place. */
  private ends: number[] = [];
  private rows: number[] = [];
  /** Batches per group; partial groups at the end carry fewer. */
  private groupSize = 1;
  private pending = 0;

  constructor(options: ThroughputTimelineOptions = {}) {
    this.maxPoints = options.maxPoints ?? DEFAULT_TIMELINE_POINTS;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 1) throw new RangeError(`maxPoints must be a positive integer, got ${this.maxPoints}`);
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
  }

  /** Marks time 0 (the run's start, before the worker pool starts). */
  start(): void {
    this.startedAt = this.now();
    this.ends = [];
    this.rows = [];
    this.groupSize = 1;
    this.pending = 0;
  }

  /** Records a finished batch of `rows` rows, now. */
  record(rows: number): void {
    const at = this.now() - this.startedAt;
    if (this.pending > 0) {
      // The last group is still filling up to groupSize batches.
      this.ends[this.ends.length - 1] = at;
      this.rows[this.rows.length - 1] += rows;
      this.pending -= 1;
    } else {
      this.ends.push(at);
      this.rows.push(rows);
      this.pending = this.groupSize - 1;
    }
    // Halve only when every group is complete, so that all groups keep spanning the same number of batches.
    if (this.pending === 0 && this.ends.length >= 2 * this.maxPoints) this.halve();
  }

  /** At most maxPoints points, in time order. */
  points(): ThroughputPoint[] {
    let ends = this.ends;
    let rows = this.rows;
    while (ends.length > this.maxPoints) [ends, rows] = mergePairs(ends, rows);
    return ends.map((end, i) => {
      const begin = i === 0 ? 0 : ends[i - 1];
      const ms = end - begin;
      return { seconds: end / 1000, imagesPerSecond: ms > 0 ? (rows[i] * 1000) / ms : 0, rows: rows[i] };
    });
  }

  private halve(): void {
    [this.ends, this.rows] = mergePairs(this.ends, this.rows);
    this.groupSize *= 2;
  }
}

/** Merges neighbours (0+1, 2+3, ...): a group ends where its second half ends and holds both halves' rows. */
function mergePairs(ends: number[], rows: number[]): [number[], number[]] {
  const mergedEnds: number[] = [];
  const mergedRows: number[] = [];
  for (let i = 0; i < ends.length; i += 2) {
    const j = Math.min(i + 1, ends.length - 1);
    mergedEnds.push(ends[j]);
    mergedRows.push(rows[i] + (j > i ? rows[j] : 0));
  }
  return [mergedEnds, mergedRows];
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
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`LatencyBuckets: a duration must be a finite number >= 0 ms, got ${ms}`);
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
    for (let i = first; i <= last; i++) out.push({ fromMs: this.edgeMs(i), toMs: this.edgeMs(i + 1), count: this.counts[i] });
    return out;
  }

  /** The lower edge of bucket i (the upper edge of bucket i - 1), ms. */
  edgeMs(i: number): number {
    return this.minMs * 10 ** (i / this.perDecade);
  }
}
