// A merged run: the shard reports checked and merged (src/stats/merge.ts), the shards' predictions files
// joined in input order with absolute line numbers, and the merged report written. `nnpipe merge` runs it
// on report files; the parent job of `nnpipe submit` on its shards' return values.
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../src/output/write-file.js';
import { checkShardSet, mergeShardReports, MergeError, type NamedReport, type ShardSet } from '../src/stats/merge.js';
import { mergePredictionFiles } from '../src/stats/predictions-merge.js';
import type { PipelineReport } from '../src/stats/report.js';

export interface MergeOutputs {
  report: string | null;
  predictions: string | null;
}

export interface MergeRunOptions {
  reports: NamedReport[];
  outputs: MergeOutputs;
  /** The merged report's `config`; default: the first shard's, with the merge's outputs. */
  config?: Record<string, unknown>;
}

/** Checks, merges and writes; returns the merged report. Nothing is written for a set that cannot be merged. */
export async function mergeRun(options: MergeRunOptions): Promise<PipelineReport> {
  const set = checkShardSet(options.reports);
  const predictionParts = options.outputs.predictions === null ? null : predictionsOf(set);
  const rows = predictionParts === null ? null : await mergePredictionFiles(options.outputs.predictions!, predictionParts);
  const config = options.config ?? { ...set.parts[0].report.config, shard: null, report: options.outputs.report, predictions: options.outputs.predictions, html: null };
  const report = mergeShardReports(set, { config, predictions: rows === null ? null : { path: options.outputs.predictions!, rows } });
  if (options.outputs.report !== null) await writeJsonAtomic(options.outputs.report, report);
  return report;
}

/** The shards' predictions files to join: every shard the merged run counts with rows must have one. */
function predictionsOf(set: ShardSet) {
  return set.included.flatMap((part) => {
    const written = part.partial.predictions;
    if (written === null && part.partial.stats.rows === 0) return [];
    if (written === null) throw new MergeError(`${part.name}: shard ${part.span.index}/${part.span.count} was run without --predictions: there are no predictions of it to merge`);
    return [{ path: written.path, lineOffset: part.lineOffset!, rows: written.rows, name: `${part.name} (shard ${part.span.index}/${part.span.count})` }];
  });
}

/** Reads report files for a merge; a file that is not a JSON report is refused naming it. */
export async function readReportFiles(paths: string[]): Promise<NamedReport[]> {
  return Promise.all(
    paths.map(async (path) => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new MergeError(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      try {
        const report = JSON.parse(text) as unknown;
        if (typeof report !== 'object' || report === null || Array.isArray(report)) throw new Error('not an object');
        return { name: path, report: report as PipelineReport };
      } catch {
        throw new MergeError(`${path}: is not a JSON report of nnpipe`);
      }
    }),
  );
}
