// Latency distribution in bounded memory: an HdrHistogram (hdr-histogram-js), 3 significant figures (values
// are kept within 0.1% relative error), fixed size whatever the sample count. hdr-histogram-js rather than
// Node's perf_hooks histogram because its compressed base64 form is the HdrHistogram wire format that every
// port reads: a shard's histogram travels in its report (`partial`) and histograms merge exactly (counts
// add), so the percentiles of a merged run come from the merged distribution, never from averaged
// percentiles.
//
// Values are recorded as integer nanoseconds: the HdrHistogram needs integers >= 1, and nanoseconds keep
// sub-microsecond worker compute times meaningful. Anything below 1 ns is recorded as 1 ns.
// The histogram's own min/max/mean are bucket approximations (its max can exceed the largest sample), so
// count, sum, min and max are tracked exactly next to it; only the percentiles come from the histogram.
//
// The package's JavaScript histogram and its wire format are imported by their own modules: its index
// also loads a WebAssembly build and a log writer that formats numbers with Intl at load, ~25 ms of every
// start for nothing we use (test/stats/latency-wire.test.ts checks both against the index's functions).
import type { JsHistogram } from 'hdr-histogram-js/dist/JsHistogram.js';
import { decompress, doDecode } from 'hdr-histogram-js/dist/JsHistogram.encoding.js';
import { constructorFromBucketSize } from 'hdr-histogram-js/dist/JsHistogramFactory.js';

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

/** The mergeable state of a LatencyHistogram, JSON-safe (it travels in reports and queue results). */
export interface LatencyState {
  count: number;
  sumMs: number;
  /** Exact extremes; null without samples. */
  minMs: number | null;
  maxMs: number | null;
  /** The HdrHistogram of nanoseconds in its compressed base64 encoding ("HISTF..."). */
  histogram: string;
}

const NS_PER_MS = 1e6;
const MAX_NS = Number.MAX_SAFE_INTEGER;
const SIGNIFICANT_DIGITS = 3;

/** What hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true }) makes. */
export function newHistogram(): JsHistogram {
  const Histogram = constructorFromBucketSize(32);
  const histogram = new Histogram(1, 2, SIGNIFICANT_DIGITS);
  histogram.autoResize = true;
  return histogram;
}

/** The HdrHistogram's compressed base64 form ("HISTF..."), as hdr.encodeIntoCompressedBase64 writes it. */
export const encodeHistogram = (histogram: JsHistogram): string => histogram.encodeIntoCompressedBase64();

/** A histogram from its compressed base64 form, as hdr.decodeFromCompressedBase64 reads it. */
export const decodeHistogram = (base64: string): JsHistogram =>
  doDecode(decompress(Buffer.from(base64.trim(), 'base64')));

export class LatencyHistogram {
  private readonly histogram: JsHistogram = newHistogram();
  private samples = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = -Infinity;

  /** Records one duration in milliseconds. Negative or non-finite durations are a bug upstream. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`LatencyHistogram: a duration must be a finite number >= 0 ms, got ${ms}`);
    }
    this.histogram.recordValue(Math.min(MAX_NS, Math.max(1, Math.round(ms * NS_PER_MS))));
    this.samples += 1;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds every sample of `other` to this histogram (`other` is unchanged). */
  merge(other: LatencyHistogram): void {
    if (other.samples === 0) return;
    this.histogram.add(other.histogram);
    this.addExact(other.samples, other.sumMs, other.minMs, other.maxMs);
  }

  /** Adds the samples of a state (from toState(), possibly of another process). */
  mergeState(state: LatencyState): void {
    if (state.count === 0) return;
    const decoded = decodeHistogram(state.histogram);
    if (decoded.totalCount !== state.count) {
      throw new RangeError(
        `LatencyHistogram: the encoded histogram holds ${decoded.totalCount} samples, its state says ${state.count}`,
      );
    }
    this.histogram.add(decoded);
    this.addExact(state.count, state.sumMs, state.minMs ?? Infinity, state.maxMs ?? -Infinity);
  }

  static fromState(state: LatencyState): LatencyHistogram {
    const histogram = new LatencyHistogram();
    histogram.mergeState(state);
    return histogram;
  }

  toState(): LatencyState {
    const empty = this.samples === 0;
    return {
      count: this.samples,
      sumMs: this.sumMs,
      minMs: empty ? null : this.minMs,
      maxMs: empty ? null : this.maxMs,
      histogram: encodeHistogram(this.histogram),
    };
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

  private addExact(count: number, sumMs: number, minMs: number, maxMs: number): void {
    this.samples += count;
    this.sumMs += sumMs;
    if (minMs < this.minMs) this.minMs = minMs;
    if (maxMs > this.maxMs) this.maxMs = maxMs;
  }

  /** The histogram's value at percentile p (0, 100], clamped to the exact min/max so that p99 <= max. */
  private percentile(p: number): number {
    const ms = this.histogram.getValueAtPercentile(p) / NS_PER_MS;
    return Math.min(this.maxMs, Math.max(this.minMs, ms));
  }
}
