// The report of a run that cannot wait for runInference to finish: the batches in flight did not finish
// within --stop-timeout after a stop signal, or a second signal forces an exit. It is fed the same scored
// batches as the pipeline's own statistics (through the onBatch / onProgress hooks), so "the rows done so
// far" in such a report are exactly the rows whose results came back.
import type { Batch } from '../data/types.js';
import type { LoadedModel } from '../nn/types.js';
import type { ScoredBatch } from '../pool/forward-pool.js';
import { buildReport, describeModel, type PipelineReport } from '../stats/report.js';
import { RunStats } from '../stats/run-stats.js';

export class RunSoFar {
  private readonly stats: RunStats;
  private readonly startedAt = new Date();
  private skipped = 0;
  private totalBytes: number | null = null;
  private kernel = 'auto';

  constructor(
    private readonly model: LoadedModel,
    private readonly input: string,
    private readonly config: Record<string, unknown>,
  ) {
    this.stats = new RunStats({ classes: model.layerSizes[model.layerSizes.length - 1] });
    this.stats.start();
  }

  /** The pipeline's onBatch hook. */
  readonly onBatch = (batch: Batch, scored: ScoredBatch): void => {
    this.kernel = scored.kernel;
    this.stats.recordBatch({
      rows: batch.rows,
      labels: batch.labels,
      predicted: scored.predicted,
      confidence: scored.confidence,
      latencyMs: scored.latencyMs,
      computeMs: scored.computeMs,
    });
  };

  /** The pipeline's onProgress hook (skipped rows and the input size are only known from there). */
  readonly onProgress = (progress: { skipped: number; totalBytes: number | null }): void => {
    this.skipped = progress.skipped;
    this.totalBytes = progress.totalBytes;
  };

  /** An `interrupted` report of the rows scored so far. */
  report(error: { code: string; message: string }): PipelineReport {
    this.stats.finish();
    const { model } = this;
    const report = buildReport(this.stats, {
      status: 'interrupted',
      error,
      model: describeModel(model, this.kernel),
      input: {
        path: this.input,
        bytes: this.totalBytes,
        hasHeader: null,
        labeled: null,
        parser: typeof this.config.parser === 'string' ? this.config.parser : 'csv-parse',
      },
      config: this.config,
      startedAt: this.startedAt,
      finishedAt: new Date(),
    });
    // Skipped rows are counted by the pipeline's source; the kept row errors stay with it.
    report.skipped = this.skipped;
    return report;
  }
}
