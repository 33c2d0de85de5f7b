// What `--html` collects while the pipeline streams, in bounded memory: the images (a fixed budget of
// mistakes and close calls, see html/mistakes.ts), the throughput timeline and the latency buckets. Pass
// `onBatch` to runInference, then `writeRunPage` with the finished report.
import type { LineMap } from '../data/line-map.js';
import type { Batch } from '../data/types.js';
import type { LoadedModel } from '../nn/types.js';
import type { Normalization } from '../data/normalize.js';
import { writeFileAtomic } from '../output/write-file.js';
import { MistakeCollector } from './mistakes.js';
import type { PipelineReport } from '../stats/report.js';
import { LatencyBuckets, ThroughputTimeline } from '../stats/timeline.js';
import { buildRunPage, type RunPageInput } from './run-page.js';
import { encodePageState, type PageState } from './page-state.js';

export interface RunPageCollectorOptions {
  classes: number;
  features: number;
  normalize: Normalization;
  /** T: images on the page (mistakes first, then close calls). Default 240. */
  imageBudget?: number;
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
  /** The run's lines to files (several input files); the images keep run lines until the page is built. */
  private lineMap: LineMap | null = null;

  /** The timeline starts now: create the collector right before the run. */
  constructor(options: RunPageCollectorOptions) {
    this.features = options.features;
    this.images = new MistakeCollector({
      classes: options.classes,
      features: options.features,
      normalize: options.normalize,
      budget: options.imageBudget,
    });
    this.throughput = new ThroughputTimeline({ maxPoints: options.timelinePoints, now: options.now });
  }

  static forModel(model: Pick<LoadedModel, 'layerSizes'>, normalize: Normalization): RunPageCollector {
    const sizes = model.layerSizes;
    return new RunPageCollector({ classes: sizes[sizes.length - 1], features: sizes[0], normalize });
  }

  /** runInference's onBatch hook. */
  readonly onBatch = (batch: Batch, scored: ScoredForPage, lineMap?: LineMap): void => {
    this.lineMap ??= lineMap?.several ? lineMap : null;
    this.images.onBatch(batch, scored);
    this.throughput.record(batch.rows);
    this.batchLatency.record(scored.latencyMs);
    this.computeLatency.record(scored.computeMs);
  };

  pageInput(report: PipelineReport): RunPageInput {
    return {
      report,
      images: this.images.result(),
      lineMap: this.lineMap,
      features: this.features,
      throughput: this.throughput.points(),
      throughputWindowMs: this.throughput.windowMs(),
      timelinePoints: this.throughput.maxPoints,
      latency: {
        minMs: this.batchLatency.minMs,
        perDecade: this.batchLatency.perDecade,
        batch: this.batchLatency.allCounts(),
        compute: this.computeLatency.allCounts(),
      },
    };
  }

  /** The state a merge of shard runs needs (the report's `partial.page`, see page-state.ts). */
  pageState(): PageState {
    return encodePageState({
      held: this.images.heldImages(),
      features: this.features,
      latency: {
        minMs: this.batchLatency.minMs,
        perDecade: this.batchLatency.perDecade,
        batch: this.batchLatency.allCounts(),
        compute: this.computeLatency.allCounts(),
      },
      throughput: {
        maxPoints: this.throughput.maxPoints,
        windowMs: this.throughput.windowMs(),
        points: this.throughput.points(),
      },
    });
  }
}

/** Builds the page for a finished (complete, failed or interrupted) run and writes it atomically. */
export async function writeRunPage(path: string, report: PipelineReport, collector: RunPageCollector): Promise<void> {
  await writeFileAtomic(path, buildRunPage(collector.pageInput(report)));
}
