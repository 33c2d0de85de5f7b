// The parent job of a distributed run, on a worker, once every shard has finished: the shards' reports
// merged (pipelines/merge-run.ts), the merged report, predictions and page written to the run's outputs, the
// shards' own predictions files removed. A shard that failed for good (it threw or stalled twice, or found
// another input file than the one submitted) fails
// the run: the merged report counts the shards before it and names its byte and line range.
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { shardLines, shardRange } from '../src/data/shards.js';
import { loadModel } from '../src/nn/load-model.js';
import { shardFilesPrefix, type RunJobData } from '../src/queue/jobs.js';
import type { NamedReport } from '../src/stats/merge.js';
import { buildReport, describeModel, type PipelineReport } from '../src/stats/report.js';
import { RunStats } from '../src/stats/run-stats.js';
import { mergeRun } from './merge-run.js';

export interface ShardOutcomes {
  /** The reports the shards returned, by shard index (each counted once, whatever ran twice). */
  reports: Map<number, PipelineReport>;
  /** Why a shard failed for good, by shard index. */
  failures: Map<number, string>;
}

export async function mergeRunJob(data: RunJobData, outcomes: ShardOutcomes): Promise<PipelineReport> {
  try {
    const reports: NamedReport[] = [];
    for (let index = 1; index <= data.shards; index++) {
      const report = outcomes.reports.get(index);
      if (report) reports.push({ name: `shard ${index}/${data.shards}`, report });
      else
        reports.push({ name: `shard ${index}/${data.shards}`, report: await failedShardReport(data, index, outcomes) });
    }
    // The options the shards ran with, as the models' metadata settled them (normalize, activation, output).
    const settled = [...outcomes.reports.values()].find((report) => report.partial)?.partial?.options;
    const config = {
      ...data.config,
      ...(settled ? { normalize: settled.normalize, activation: settled.activation, output: settled.output } : {}),
    };
    return await mergeRun({ reports, outputs: data.outputs, config });
  } finally {
    if (data.outputs.predictions !== null) await removeShardFiles(data.outputs.predictions, data.runId);
  }
}

/** A shard that never returned a report, as the report of a run that failed before its first row. */
async function failedShardReport(data: RunJobData, index: number, outcomes: ShardOutcomes): Promise<PipelineReport> {
  const { start, end } = shardRange(data.input.bytes, data.dataStart, { index, count: data.shards });
  const lines = await shardLines(data.input.path, start, end).then(
    (found) => (found === null ? 'no lines' : `lines ${found.first}-${found.last}`),
    () => 'lines unknown',
  );
  const reason = outcomes.failures.get(index) ?? 'it returned no result';
  const message = `shard ${index}/${data.shards} (bytes ${start}-${end}, ${lines}) failed: ${reason}`;
  // The other shards' description of the run, so that the set merges; the model's own when none has one.
  const other = [...outcomes.reports.values()].find((report) => report.partial);
  const model = other
    ? null
    : await loadModel(data.model.path, {
        activation: data.options.activation ?? undefined,
        output: data.options.output ?? undefined,
      });
  const classes = other ? other.partial!.stats.classes : model!.layerSizes[model!.layerSizes.length - 1];
  const now = new Date();
  return buildReport(new RunStats({ classes }), {
    status: 'failed',
    error: { code: 'PIPE_ERR_SHARD', message },
    model: other ? other.model : describeModel(model!, data.options.kernel),
    input: other
      ? other.input
      : { path: data.input.path, bytes: data.input.bytes, hasHeader: null, labeled: null, parser: data.options.parser },
    config: data.config,
    startedAt: now,
    finishedAt: now,
    partial: {
      shard: { index, count: data.shards, byteStart: start, byteEnd: end },
      input: { path: data.input.path, bytes: data.input.bytes, mtimeMs: data.input.mtimeMs },
      options: other
        ? other.partial!.options
        : {
            batchSize: data.options.batchSize,
            normalize: data.options.normalize ?? model!.normalize ?? 'unit',
            activation: model!.network.activation,
            output: model!.network.output,
            onError: data.options.onError,
            kernel: data.options.kernel,
          },
      lines: null,
      predictions: null,
    },
  });
}

/** Every attempt's predictions file of the run's shards (the counted ones are merged by now). */
async function removeShardFiles(output: string, runId: string): Promise<void> {
  const prefix = basename(shardFilesPrefix(output, runId));
  const folder = dirname(output);
  const names = await readdir(folder).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => name.startsWith(prefix)).map((name) => unlink(join(folder, name)).catch(() => undefined)),
  );
}
