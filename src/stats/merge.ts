// Merging the reports of runs over the shards of one input into the report of the whole input, from their
// `partial` blocks (partial.ts). The counts, the confusion matrix, the skipped rows and the first errors are
// exactly those of one run over the whole input; the latency percentiles come from the merged histograms.
//
// A set merges only when it is whole and consistent: shards 1..n of one cut, each once, of the same input
// (path, size, modification time), model (sha256) and counting options. Like one run, a merged run stops at
// its first failed or stopped shard: the merged report counts the shards before it and that shard's rows
// before its stop, and says why (with the line renumbered); the shards after it are left out, as one run
// over the whole input would never have read them.
import { PipelineError } from '../errors.js';
import { noValidRows } from '../data/messages.js';
import { buildReport, type PipelineReport, type RunStatus, type ShardSummary } from './report.js';
import {
  readPartialBlock,
  type CountingOptions,
  type PartialBlock,
  type PredictionsFile,
  type ShardSpan,
} from './partial.js';
import { RunStats } from './run-stats.js';

/** A set of reports that cannot be merged: nothing is written (exit 2). */
export class MergeError extends PipelineError {
  constructor(message: string) {
    super('PIPE_ERR_MERGE', message);
    this.name = 'MergeError';
  }
}

/** One shard's report, with the name it is known by in messages (its file, or its job). */
export interface NamedReport {
  name: string;
  report: PipelineReport;
}

/** A shard of a checked set: its report, its partial block and where its line numbers start. */
export interface MergePart {
  name: string;
  report: PipelineReport;
  partial: PartialBlock;
  span: ShardSpan;
  /** Lines before the shard's first line: add to its line numbers. Null when a shard before it stopped early. */
  lineOffset: number | null;
}

/** The checked set in input order; `included` are the shards a run over the whole input would have counted. */
export interface ShardSet {
  parts: MergePart[];
  included: MergePart[];
  count: number;
}

/** Checks that the reports are shards 1..n of one cut of one input, run the same way; orders them. */
export function checkShardSet(reports: NamedReport[]): ShardSet {
  if (reports.length === 0) throw new MergeError('no shard reports to merge');
  const parts = reports.map(({ name, report }) => {
    const read = readPartialBlock(report.partial);
    if ('problem' in read) throw new MergeError(`${name}: cannot be merged: ${read.problem}`);
    const { partial } = read;
    const span = partial.shard ?? { index: 1, count: 1, byteStart: 0, byteEnd: partial.input.bytes ?? 0 };
    return { name, report, partial, span, lineOffset: null as number | null };
  });
  const first = parts[0];
  for (const part of parts.slice(1)) checkSameRun(first, part);
  const count = first.span.count;
  const byIndex = new Map<number, MergePart>();
  for (const part of parts) {
    if (part.span.count !== count)
      throw new MergeError(
        `${part.name} is shard ${part.span.index}/${part.span.count}, ${first.name} is shard ${first.span.index}` +
          `/${count}: they come from different cuts`,
      );
    const seen = byIndex.get(part.span.index);
    if (seen) throw new MergeError(`shard ${part.span.index}/${count} is given twice: ${seen.name} and ${part.name}`);
    byIndex.set(part.span.index, part);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new MergeError(
      `shard${missing.length > 1 ? 's' : ''} ${listShards(missing)} of ${count} ${missing.length > 1 ? 'are' : 'is'} ` +
        `missing`,
    );
  const ordered = Array.from({ length: count }, (_, i) => byIndex.get(i + 1)!);
  checkContiguous(ordered, first.partial.input.bytes);
  return { parts: ordered, included: numberLines(ordered), count };
}

function checkSameRun(a: MergePart, b: MergePart): void {
  const differs = (what: string, x: unknown, y: unknown) =>
    new MergeError(
      `${b.name} and ${a.name} are not shards of one run: ${what} differ${what.endsWith('s') ? '' : 's'} ` +
        `(${JSON.stringify(y)}` +
        ` and ${JSON.stringify(x)})`,
    );
  const [x, y] = [a.partial, b.partial];
  if (x.input.path !== y.input.path) throw differs('the input', x.input.path, y.input.path);
  if (x.input.bytes !== y.input.bytes || x.input.mtimeMs !== y.input.mtimeMs) {
    throw differs('the input file (size and modification time)', describeFile(x.input), describeFile(y.input));
  }
  if (x.model.sha256 !== y.model.sha256) throw differs("the model's sha256", x.model.sha256, y.model.sha256);
  for (const key of Object.keys(x.options) as (keyof CountingOptions)[]) {
    if (x.options[key] !== y.options[key]) throw differs(`the option ${key}`, x.options[key], y.options[key]);
  }
  if (x.stats.classes !== y.stats.classes) throw differs('the classes', x.stats.classes, y.stats.classes);
}

const describeFile = (input: PartialBlock['input']) =>
  `${input.bytes} bytes, modified ` +
  `${input.mtimeMs === null ? 'at an unknown time' : new Date(input.mtimeMs).toISOString()}`;

/** The raw ranges must tile the input: 0 .. size, each shard starting where the one before ended. */
function checkContiguous(parts: MergePart[], bytes: number | null): void {
  let at = 0;
  for (const part of parts) {
    if (part.span.byteStart !== at)
      throw new MergeError(
        `${part.name}: shard ${part.span.index}/${part.span.count} starts at byte ${part.span.byteStart}` +
          `, expected ${at}: the shards come from different cuts`,
      );
    at = part.span.byteEnd;
  }
  if (bytes !== null && at !== bytes)
    throw new MergeError(`the shards end at byte ${at}, the input has ${bytes} bytes`);
}

/** Sets each shard's line offset; returns the shards up to the first one that did not complete. */
function numberLines(parts: MergePart[]): MergePart[] {
  let offset: number | null = 0;
  let stopped = false;
  const included: MergePart[] = [];
  for (const part of parts) {
    part.lineOffset = offset;
    offset = offset === null || part.partial.lines === null ? null : offset + part.partial.lines;
    if (!stopped) included.push(part);
    stopped ||= part.partial.status !== 'complete';
  }
  return included;
}

const listShards = (indices: number[]) =>
  indices.length <= 1 ? String(indices[0]) : `${indices.slice(0, -1).join(', ')} and ${indices[indices.length - 1]}`;

export interface MergeOptions {
  /** The config the merged report shows (the shards' own, with the merge's outputs). */
  config: Record<string, unknown>;
  /** The merged predictions file, its rows and layout, when one was written. */
  predictions?: PredictionsFile | null;
  /** Row errors kept (as the shards' runs kept them). @default DEFAULT_MAX_ERRORS */
  maxErrors?: number;
}

/** The report of the whole input, from a checked set. */
export function mergeShardReports(set: ShardSet, options: MergeOptions): PipelineReport {
  const first = set.parts[0];
  const last = set.included[set.included.length - 1];
  const startedAtMs = Math.min(...set.included.map((p) => p.partial.startedAtMs));
  const finishedAtMs = Math.max(...set.included.map((p) => p.partial.finishedAtMs));
  let clock = startedAtMs;
  const stats = new RunStats({ classes: first.partial.stats.classes, maxErrors: options.maxErrors, now: () => clock });
  stats.start();
  for (const part of set.included) stats.absorb(part.partial.stats, part.lineOffset ?? 0);
  clock = finishedAtMs;
  stats.finish();
  const { status, error } = mergedOutcome(set, last, stats);
  const complete = status === 'complete';
  const lines =
    complete && set.parts.every((p) => p.partial.lines !== null)
      ? set.parts.reduce((n, p) => n + p.partial.lines!, 0)
      : null;
  const { partial } = first;
  const head = first.report;
  const report = buildReport(stats, {
    status,
    error,
    model: { ...head.model, kernel: [...new Set(set.included.map((p) => p.report.model.kernel))].join(',') },
    input: { ...head.input, path: partial.input.path, bytes: partial.input.bytes },
    config: options.config,
    startedAt: new Date(startedAtMs),
    finishedAt: new Date(finishedAtMs),
    partial: {
      shard: null,
      input: partial.input,
      options: partial.options,
      lines,
      predictions: options.predictions ?? null,
    },
  });
  report.peakRssBytes = Math.max(...set.included.map((p) => p.partial.peakRssBytes));
  report.partial!.peakRssBytes = report.peakRssBytes;
  // The first result of the merged run: the earliest of its shards'.
  const firsts = set.included.flatMap((p) =>
    p.report.timeToFirstResultMs === null ? [] : [p.partial.startedAtMs + p.report.timeToFirstResultMs - startedAtMs],
  );
  report.timeToFirstResultMs = firsts.length > 0 ? Math.min(...firsts) : null;
  report.shards = set.parts.map(shardSummary);
  return report;
}

/** Status and error: the first shard that did not complete decides, its line made absolute. */
function mergedOutcome(
  set: ShardSet,
  last: MergePart,
  stats: RunStats,
): { status: RunStatus; error: NonNullable<Parameters<typeof buildReport>[1]['error']> | null } {
  const { partial } = last;
  if (partial.status !== 'complete') {
    const e = partial.error;
    if (e === null) return { status: partial.status, error: null };
    const shard = set.count > 1 && !e.message.startsWith('shard ') ? `shard ${last.span.index}/${set.count}: ` : '';
    if (e.line !== null && e.problem !== null && last.lineOffset !== null) {
      const line = e.line + last.lineOffset;
      return {
        status: partial.status,
        error: { code: e.code, message: `${partial.input.path}:${line}: ${e.problem}`, line, problem: e.problem },
      };
    }
    return {
      status: partial.status,
      error: { code: e.code, message: `${shard}${e.message}`, line: null, problem: e.problem },
    };
  }
  // One run over the whole input fails when no row was good; a shard alone cannot tell.
  if (stats.rows === 0) {
    const problem = stats.skipped > 0 ? noValidRows(stats.skipped) : 'no rows: the input has no data rows';
    return {
      status: 'failed',
      error: { code: 'PIPE_ERR_DATA', message: `${partial.input.path}: ${problem}`, line: null, problem },
    };
  }
  return { status: 'complete', error: null };
}

function shardSummary(part: MergePart): ShardSummary {
  const { partial, span, lineOffset } = part;
  const known = lineOffset !== null && partial.lines !== null && partial.lines > 0;
  return {
    index: span.index,
    count: span.count,
    byteStart: span.byteStart,
    byteEnd: span.byteEnd,
    firstLine: known ? lineOffset + 1 : null,
    lastLine: known ? lineOffset + partial.lines! : null,
    rows: partial.stats.rows,
    status: partial.status,
    durationMs: partial.finishedAtMs - partial.startedAtMs,
  };
}
