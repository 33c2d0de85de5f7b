// The report's `partial` block: the mergeable state of a run, so that the reports of runs over parts of
// one input (`--shard i/n`, or the shard jobs of `nnpipe submit`) can be merged later into the report of
// the whole input (src/stats/merge.ts). Every report built with a PartialContext carries it; its fields are
// a contract like the report's (docs in the README, "Across machines").
//
// Line numbers: a run over shard i > 1 cannot know how many lines come before its first byte without
// reading them, so its errors and predictions count lines from its own first line (1). `lines` is how
// many lines start in the shard; merging adds the lines of the shards before to each shard's numbers.
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { RunStatus, StatsState } from './run-stats.js';
import { PREDICTIONS_FORMATS, type PredictionsFormat } from './predictions-format.js';

export const PARTIAL_FORMAT = 'nnpipe-partial/1';

/** Which part of the input a run read: shard `index` (1-based) of `count`, by raw byte range. */
export interface ShardSpan {
  index: number;
  count: number;
  /**
   * The raw range [byteStart, byteEnd) that src/data/shards.ts cut; the shard holds the lines that start
   * in it (so its bytes run from the first line start at or after byteStart to the first at or after byteEnd).
   */
  byteStart: number;
  byteEnd: number;
}

/** The options that change what a run counts or predicts: runs merge only when they agree. */
export interface CountingOptions {
  batchSize: number;
  normalize: string;
  activation: string;
  output: string;
  onError: 'fail' | 'skip';
  kernel: string;
}

/** The input as the run found it (a shard job compares it with what the submitter saw). */
export interface InputIdentity {
  path: string;
  bytes: number | null;
  mtimeMs: number | null;
}

/** A predictions file: where, how many data rows, in which layout (predictions-format.ts). */
export interface PredictionsFile {
  path: string;
  rows: number;
  format?: PredictionsFormat;
  probabilities?: number;
}

/** What only the run's caller knows; buildReport adds the rest. */
export interface PartialContext {
  shard: ShardSpan | null;
  input: InputIdentity;
  options: CountingOptions;
  /**
   * Lines that start in the part read (blank ones included): the next shard's line numbers start after
   * them. Null when the read stopped before the part's end (a failed or stopped run).
   */
  lines: number | null;
  /** The predictions file written with the run, its data lines and its layout, or null. */
  predictions: PredictionsFile | null;
}

export interface PartialBlock extends PartialContext {
  format: typeof PARTIAL_FORMAT;
  model: { sha256: string };
  status: RunStatus;
  /** What ended a failed or stopped run; `line` (in the run's own numbering) and `problem` for a bad row. */
  error: PartialError | null;
  stats: StatsState;
  /** Wall-clock milliseconds since the epoch (merged runs report from the first start to the last finish). */
  startedAtMs: number;
  finishedAtMs: number;
  peakRssBytes: number;
  /**
   * The `--html` page's collected state (src/html/page-state.ts, which checks it): only in the reports of
   * runs with --html, for `nnpipe merge --html` and `nnpipe submit --html`.
   */
  page?: unknown;
}

export interface PartialError {
  code: string;
  message: string;
  line: number | null;
  problem: string | null;
}

const count = z.number().check(z.refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be an integer >= 0'));
const nullableCount = z.nullable(count);
const latencyState = z.object({
  count,
  sumMs: z.number(),
  minMs: z.nullable(z.number()),
  maxMs: z.nullable(z.number()),
  histogram: z.string(),
});

/** What merge accepts as a partial block (a report written by another process is untrusted input). */
export const partialBlockSchema = z.object({
  format: z.literal(PARTIAL_FORMAT),
  shard: z.nullable(
    z.object({
      index: count.check(z.refine((n) => n >= 1, 'must be at least 1')),
      count: count.check(z.refine((n) => n >= 1, 'must be at least 1')),
      byteStart: count,
      byteEnd: count,
    }),
  ),
  input: z.object({ path: z.string(), bytes: nullableCount, mtimeMs: z.nullable(z.number()) }),
  options: z.object({
    batchSize: count,
    normalize: z.string(),
    activation: z.string(),
    output: z.string(),
    onError: z.enum(['fail', 'skip']),
    kernel: z.string(),
  }),
  lines: nullableCount,
  // format and probabilities: absent in reports of nnpipe before JSON Lines (then CSV without them).
  predictions: z.nullable(
    z.object({
      path: z.string(),
      rows: count,
      format: z.optional(z.enum(PREDICTIONS_FORMATS)),
      probabilities: z.optional(count),
    }),
  ),
  model: z.object({ sha256: z.string() }),
  status: z.enum(['complete', 'failed', 'interrupted']),
  error: z.nullable(
    z.object({ code: z.string(), message: z.string(), line: nullableCount, problem: z.nullable(z.string()) }),
  ),
  stats: z.object({
    classes: count,
    rows: count,
    labeled: count,
    skipped: count,
    batches: count,
    confusion: z.array(z.array(count)),
    errors: z.array(z.object({ line: count, message: z.string() })),
    batchLatency: latencyState,
    computeLatency: latencyState,
  }),
  startedAtMs: z.number(),
  finishedAtMs: z.number(),
  peakRssBytes: count,
  page: z.optional(z.unknown()),
});

/** A partial block checked against the schema, or the first problem with it (naming the field). */
export function readPartialBlock(value: unknown): { partial: PartialBlock } | { problem: string } {
  if (value === undefined)
    return {
      problem: 'it has no `partial` block (a report of an older nnpipe, or of a run stopped by --stop-timeout)',
    };
  const result = z.safeParse(partialBlockSchema, value);
  if (result.success) return { partial: result.data as PartialBlock };
  const issue = result.error.issues[0];
  return { problem: `its partial block is not valid: partial.${issue.path.join('.')} ${issue.message}` };
}
