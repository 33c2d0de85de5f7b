// Latency distribution in bounded memory: Node's built-in HdrHistogram (perf_hooks.createHistogram),
// 3 significant figures (values are kept within 0.1% relative error), fixed size whatever the sample count.
//
// Values are recorded as integer nanoseconds: the HdrHistogram needs integers >= 1, and nanoseconds keep
// sub-microsecond worker compute times meaningful. Anything below 1 ns is recorded as 1 ns.
// The histogram's own min/max/mean are bucket approximations (its max can exceed the largest sample), so
// count, sum, min and max are tracked exactly next to it; only the percentiles come from the histogram.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** A latency distribution in milliseconds; every field is 0 when nothing was recorded. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const NS_PER_MS = 1e6;
const MAX_NS = Number.MAX_SAFE_INTEGER;

export class LatencyHistogram {
  private readonly histogram: RecordableHistogram = createHistogram({ figures: 3 });
  private samples = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = -Infinity;

  /** Records one duration in milliseconds. Negative or non-finite durations are a bug upstream. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`LatencyHistogram: a duration must be a finite number >= 0 ms, got ${ms}`);
    }
    this.histogram.record(Math.min(MAX_NS, Math.max(1, Math.round(ms * NS_PER_MS))));
    this.samples += 1;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds every sample of `other` to this histogram (`other` is unchanged). */
  merge(other: LatencyHistogram): void {
    if (other.samples === 0) return;
    this.histogram.add(other.histogram);
    this.samples += other.samples;
    this.sumMs += other.sumMs;
    if (other.minMs < this.minMs) this.minMs = other.minMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  get count(): number {
    return this.samples;
  }

  summary(): LatencySummary {
    if (this.samples === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: this.samples,
      min: this.minMs,
      mean: this.sumMs / this.samples,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.maxMs,
    };
  }

  /** The histogram's value at percentile p (0, 100], clamped to the exact min/max so that p99 <= max. */
  private percentile(p: number): number {
    const ms = this.histogram.percentile(p) / NS_PER_MS;
    return Math.min(this.maxMs, Math.max(this.minMs, ms));
  }
}
