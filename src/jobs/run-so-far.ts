// The report of a run that cannot wait for runInference to finish: the batches in flight did not finish
// within --stop-timeout after a stop signal, or a second signal forces an exit. It reads the pipeline's
// own statistics while the run goes on (the caller hands the same RunStats to runInference), so "the
// rows done so far" in such a report are exactly the rows whose results came back.
import type { Batch } from '../data/types.js';
import type { LoadedModel } from '../nn/types.js';
import type { ScoredBatch } from '../pool/task-types.js';
import { buildReport, describeModel, type PipelineReport } from '../stats/report.js';
import type { RunStats } from '../stats/run-stats.js';

export class RunSoFar {
  private readonly startedAt = new Date();
  private totalBytes: number | null = null;
  private kernel = 'auto';

  constructor(
    private readonly model: LoadedModel,
    private readonly input: string,
    private readonly config: Record<string, unknown>,
    /** The run's statistics, recorded by runInference (its `stats` option). */
    private readonly stats: RunStats,
  ) {}

  /** The pipeline's onBatch hook: which forward engine ran. */
  readonly onBatch = (_batch: Batch, scored: ScoredBatch): void => {
    this.kernel = scored.kernel;
  };

  /** The pipeline's onProgress hook: the input's size is only known from there. */
  readonly onProgress = (progress: { totalBytes: number | null }): void => {
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
        ...(this.stats.files === null ? {} : { files: this.stats.files.report() }),
        bytes: this.totalBytes,
        hasHeader: null,
        labeled: null,
        parser: typeof this.config.parser === 'string' ? this.config.parser : 'csv-parse',
      },
      config: this.config,
      startedAt: this.startedAt,
      finishedAt: new Date(),
    });
    return report;
  }
}
