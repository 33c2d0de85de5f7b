// A merged run: the shard reports checked and merged (src/stats/merge.ts), the shards' predictions files
// joined in input order with absolute line and row numbers (in the shards' own layout: CSV or JSON Lines,
// with or without probabilities), the merged report written, and with an html output the page of the
// merged run from the shards' page data (src/html/page-state.ts). `nnpipe merge` runs it
// on report files; the parent job of `nnpipe submit` on its shards' return values.
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../src/output/write-file.js';
import { checkShardSet, mergeShardReports, MergeError, type NamedReport, type ShardSet } from '../src/stats/merge.js';
import { CSV_LAYOUT, formatByName, type PredictionsLayout } from '../src/stats/predictions-format.js';
import { mergePredictionFiles, type PredictionsPart } from '../src/stats/predictions-merge.js';
import type { PipelineReport } from '../src/stats/report.js';

export interface MergeOutputs {
  report: string | null;
  predictions: string | null;
  /** The merged run's HTML page (the shards must have run with --html). */
  html?: string | null;
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
  const html = options.outputs.html ?? null;
  // The HTML report's code (and Chart.js) is loaded only when a page is asked for.
  const page = html === null ? null : await import('../src/html/page-state.js');
  // Refused before any file is written: a shard without page data.
  page?.readPageStates(pageParts(set));
  const target = options.outputs.predictions;
  const merged = target === null ? null : predictionsOf(set, target);
  const rows = merged === null ? null : await mergePredictionFiles(target!, merged.parts, merged.layout);
  const config = options.config ?? {
    ...set.parts[0].report.config,
    shard: null,
    report: options.outputs.report,
    predictions: target,
    html,
  };
  const report = mergeShardReports(set, {
    config,
    predictions: rows === null ? null : { path: target!, rows, ...merged!.layout },
  });
  const pageInput = page === null ? null : page.mergedPageInput(report, pageParts(set));
  if (options.outputs.report !== null) await writeJsonAtomic(options.outputs.report, report);
  if (pageInput !== null) await page!.writePageInput(html!, pageInput);
  return report;
}

/** The shards the merged run counts, as the page needs them. */
function pageParts(set: ShardSet) {
  const startedAtMs = Math.min(...set.included.map((p) => p.partial.startedAtMs));
  return set.included.map((part) => ({
    name: part.name,
    page: part.partial.page,
    rows: part.partial.stats.rows,
    lineOffset: part.lineOffset ?? 0,
    startMs: part.partial.startedAtMs - startedAtMs,
  }));
}

/**
 * The shards' predictions files to join, and their layout: every shard the merged run counts with rows
 * must have one, all in the same layout, and a target named .csv or .jsonl must name that format.
 */
function predictionsOf(set: ShardSet, target: string): { parts: PredictionsPart[]; layout: PredictionsLayout } {
  let layout: PredictionsLayout | null = null;
  let first = '';
  const parts = set.included.flatMap((part) => {
    const written = part.partial.predictions;
    const name = `${part.name} (shard ${part.span.index}/${part.span.count})`;
    if (written === null && part.partial.stats.rows === 0) return [];
    if (written === null)
      throw new MergeError(
        `${part.name}: shard ${part.span.index}/${part.span.count} was run without --predictions: there are no ` +
          `predictions of it to merge`,
      );
    const own: PredictionsLayout = { format: written.format ?? 'csv', probabilities: written.probabilities ?? 0 };
    if (layout === null) [layout, first] = [own, name];
    else if (own.format !== layout.format || own.probabilities !== layout.probabilities) {
      throw new MergeError(
        `${name}: its predictions are ${describeLayout(own)}, those of ${first} ${describeLayout(layout)}: run every ` +
          `shard with the same --predictions-format and --probabilities`,
      );
    }
    return [{ path: written.path, lineOffset: part.lineOffset!, rows: written.rows, name }];
  });
  const found: PredictionsLayout = layout ?? { ...CSV_LAYOUT, format: formatByName(target) ?? 'csv' };
  const named = formatByName(target);
  if (named !== null && named !== found.format) {
    throw new MergeError(
      `--predictions ${target}: the shards' predictions are ${describeLayout(found)}` +
        `; name the merged file for that format (.${found.format}), or give it another extension`,
    );
  }
  return { parts, layout: found };
}

const describeLayout = (layout: PredictionsLayout): string =>
  `${layout.format === 'csv' ? 'CSV' : 'JSON Lines'}${
    layout.probabilities > 0 ? ` with ${layout.probabilities} probabilities per row` : ' without probabilities'
  }`;

/** Reads report files for a merge; a file that is not a JSON report is refused naming it. */
export async function readReportFiles(paths: string[]): Promise<NamedReport[]> {
  return Promise.all(
    paths.map(async (path) => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new MergeError(
          `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
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
