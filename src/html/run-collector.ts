// What `--html` collects while the pipeline streams, in bounded memory: the images (mistakes gallery and
// per-cell examples), the throughput timeline and the latency buckets. Pass `onBatch` to runInference,
// then `writeRunPage` with the finished report.
import type { Batch } from '../data/types.js';
import type { LoadedModel, Normalization } from '../nn/types.js';
import { writeFileAtomic } from '../stats/atomic-write.js';
import { MistakeCollector } from '../stats/mistakes.js';
import type { PipelineReport } from '../stats/report.js';
import { LatencyBuckets, ThroughputTimeline } from '../stats/timeline.js';
import { buildRunPage, type RunPageInput } from './run-page.js';

export interface RunPageCollectorOptions {
  classes: number;
  features: number;
  normalize: Normalization;
  /** Gallery images. Default 200. */
  galleryCapacity?: number;
  /** Example images per confusion-matrix cell. Default 12. */
  examplesPerCell?: number;
  /** Throughput points. Default 60. */
  timelinePoints?: number;
  /** Millisecond clock for the timeline (tests). */
  now?: () => number;
}

/** The parts of a scored batch the page uses (ScoredBatch has them all). */
export interface ScoredForPage {
  predicted: Int32Array;
  confidence: Float32Array;
  latencyMs: number;
  computeMs: number;
}

export class RunPageCollector {
  readonly features: number;
  readonly images: MistakeCollector;
  readonly throughput: ThroughputTimeline;
  readonly batchLatency = new LatencyBuckets();
  readonly computeLatency = new LatencyBuckets();

  /** The timeline starts now: create the collector right before the run. */
  constructor(options: RunPageCollectorOptions) {
    this.features = options.features;
    this.images = new MistakeCollector({
      classes: options.classes,
      features: options.features,
      normalize: options.normalize,
      capacity: options.galleryCapacity,
      perCell: options.examplesPerCell,
    });
    this.throughput = new ThroughputTimeline({ maxPoints: options.timelinePoints, now: options.now });
  }

  static forModel(model: Pick<LoadedModel, 'layerSizes'>, normalize: Normalization): RunPageCollector {
    const sizes = model.layerSizes;
    return new RunPageCollector({ classes: sizes[sizes.length - 1], features: sizes[0], normalize });
  }

  /** runInference's onBatch hook. */
  readonly onBatch = (batch: Batch, scored: ScoredForPage): void => {
    this.images.onBatch(batch, scored);
    this.throughput.record(batch.rows);
    this.batchLatency.record(scored.latencyMs);
    this.computeLatency.record(scored.computeMs);
  };

  pageInput(report: PipelineReport): RunPageInput {
    // One bucket range for both latencies so that they share the histogram's axis.
    const ranges = [this.batchLatency.nonEmptyRange(), this.computeLatency.nonEmptyRange()].filter((r): r is [number, number] => r !== null);
    const range: [number, number] | null = ranges.length ? [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))] : null;
    return {
      report,
      images: this.images.result(),
      features: this.features,
      throughput: this.throughput.points(),
      batchLatency: this.batchLatency.buckets(range),
      computeLatency: this.computeLatency.buckets(range),
    };
  }
}

/** Builds the page for a finished (complete, failed or interrupted) run and writes it atomically. */
export async function writeRunPage(path: string, report: PipelineReport, collector: RunPageCollector): Promise<void> {
  await writeFileAtomic(path, buildRunPage(collector.pageInput(report)));
}
