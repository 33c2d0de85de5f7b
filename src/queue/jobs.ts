// The queue side of a distributed run, in one place: queue names, job ids, what a job carries (checked
// when a worker takes it: Redis is shared, its data is input like any other) and the job options that make
// a run's execution at-least-once and its counting exactly-once.
//
// A run is one BullMQ flow: a parent job in the `runs` queue (the merge) with one child per shard in the
// `shards` queue. A shard job carries the input's path, size and modification time, its byte range, the
// model's path and sha256 and the options: never rows. It returns its report (with the `partial` block);
// BullMQ keeps that return value in the parent, keyed by the child, so a shard that ran twice (a stalled
// job re-run after its worker died) is counted once. The parent merges when every shard has finished.
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { JobsOptions } from 'bullmq';
import type { ShardSpan } from '../stats/partial.js';
import { KERNEL_KINDS, type KernelKind } from '../nn/kernels/index.js';
import { ACTIVATIONS, OUTPUT_FUNCTIONS, type Activation, type OutputFunction } from '../nn/types.js';

/** Key prefix of every nnpipe queue in Redis. */
export const QUEUE_PREFIX = 'nnpipe';
export const SHARD_QUEUE = 'shards';
export const RUN_QUEUE = 'runs';

/** A shard that threw or stalled this many times fails the run (BullMQ's attempts; maxStalledCount 1). */
export const SHARD_ATTEMPTS = 2;

/** Finished runs kept in Redis for `nnpipe result` (the newest ones, at most a week). */
export const KEEP_RUNS = 100;
export const KEEP_SECONDS = 7 * 24 * 3600;

/** The pipeline options a shard runs with (threads and in-flight batches are the worker's own). */
export interface RunOptions {
  batchSize: number;
  normalize: 'unit' | 'none' | null;
  activation: Activation | null;
  output: OutputFunction | null;
  onError: 'fail' | 'skip';
  parser: 'auto' | 'fast' | 'csv-parse';
  kernel: KernelKind;
  decode: 'auto' | 'main' | 'workers';
  taskTimeoutMs: number;
  /** The shards' predictions files' layout (absent in jobs of nnpipe before JSON Lines: CSV). */
  predictionsFormat?: 'csv' | 'jsonl';
  probabilities?: boolean;
}

/** The input as the submitter saw it: a worker that finds another file fails the shard. */
export interface SubmittedInput {
  path: string;
  bytes: number;
  mtimeMs: number;
}

export interface ShardJobData {
  runId: string;
  shard: ShardSpan;
  input: SubmittedInput;
  model: { path: string; sha256: string };
  options: RunOptions;
  /** The shard's predictions file, next to the run's --predictions (null without it). */
  predictions: string | null;
  /** The run has --html: the shard's report keeps its page data (`partial.page`) for the merge. Absent: false. */
  page?: boolean;
}

export interface RunJobData {
  runId: string;
  shards: number;
  input: SubmittedInput;
  /** The first data byte (src/data/shards.ts): with the input's size it gives every shard's range. */
  dataStart: number;
  model: { path: string; sha256: string };
  options: RunOptions;
  outputs: { report: string | null; predictions: string | null; html: string | null };
  /** The merged report's `config`: every effective option of the submit. */
  config: Record<string, unknown>;
  submittedAtMs: number;
}

const count = z.number().check(z.refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be an integer >= 0'));
const positive = count.check(z.refine((n) => n >= 1, 'must be at least 1'));
const text = z.string().check(z.minLength(1));
const input = z.object({ path: text, bytes: count, mtimeMs: z.number() });
const model = z.object({ path: text, sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) });
const runOptions = z.object({
  batchSize: positive,
  normalize: z.nullable(z.enum(['unit', 'none'])),
  activation: z.nullable(z.enum(ACTIVATIONS)),
  output: z.nullable(z.enum(OUTPUT_FUNCTIONS)),
  onError: z.enum(['fail', 'skip']),
  parser: z.enum(['auto', 'fast', 'csv-parse']),
  kernel: z.enum(KERNEL_KINDS),
  decode: z.enum(['auto', 'main', 'workers']),
  taskTimeoutMs: positive,
  predictionsFormat: z.optional(z.enum(['csv', 'jsonl'])),
  probabilities: z.optional(z.boolean()),
});

const shardJobSchema = z.object({
  runId: text,
  shard: z.object({ index: positive, count: positive, byteStart: count, byteEnd: count }),
  input,
  model,
  options: runOptions,
  predictions: z.nullable(text),
  page: z.optional(z.boolean()),
});

const runJobSchema = z.object({
  runId: text,
  shards: positive,
  input,
  dataStart: count,
  model,
  options: runOptions,
  outputs: z.object({ report: z.nullable(text), predictions: z.nullable(text), html: z.nullable(text) }),
  config: z.record(z.string(), z.unknown()),
  submittedAtMs: z.number(),
});

/** A job's data checked against its schema; the problem names the field. */
export function readJobData<T>(kind: 'shard' | 'run', data: unknown): T {
  const result = z.safeParse(kind === 'shard' ? shardJobSchema : runJobSchema, data);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0];
  throw new Error(`the ${kind} job's data is not valid: ${issue.path.join('.')} ${issue.message}`);
}

/** A new run id: sortable by time, unique across submitters ("r" + base-36 ms + 8 hex digits). */
export const newRunId = (): string => `r${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** A run id as the command line takes it (and nothing that could address another Redis key). */
export const RUN_ID_PATTERN = /^r[0-9a-z]+-[0-9a-f]{8}$/;

export const shardJobId = (runId: string, index: number): string => `${runId}-s${index}`;

/** The shard index of a child job's key (`<prefix>:<queue>:<runId>-s<index>`), or null. */
export function shardIndexOfKey(key: string): number | null {
  const match = /-s([0-9]+)$/.exec(key);
  return match ? Number(match[1]) : null;
}

/**
 * Where shard `index` of a run writes its predictions: next to the run's --predictions (so on the same
 * storage), named after it and the run; each attempt adds `-<random>.csv` (or `.jsonl`). The parent removes them all.
 */
export const shardFilesPrefix = (output: string, runId: string): string => `${output}.nnpipe-${runId}-shard-`;
export const shardPredictionsBase = (output: string, runId: string, index: number): string =>
  `${shardFilesPrefix(output, runId)}${index}`;

/** Options of a shard job: retried once, then its failure goes to the parent (which fails the run). */
export function shardJobOptions(runId: string, index: number): JobsOptions {
  return {
    jobId: shardJobId(runId, index),
    attempts: SHARD_ATTEMPTS,
    backoff: { type: 'fixed', delay: 1_000 },
    // Its return value lives on in the parent; the job itself goes.
    removeOnComplete: true,
    removeOnFail: { count: KEEP_RUNS, age: KEEP_SECONDS },
    ignoreDependencyOnFailure: true,
  };
}

/** Options of a run's parent job: kept (count- and age-limited) for `nnpipe result`. */
export function runJobOptions(runId: string): JobsOptions {
  return {
    jobId: runId,
    attempts: 2,
    backoff: { type: 'fixed', delay: 1_000 },
    removeOnComplete: { count: KEEP_RUNS, age: KEEP_SECONDS },
    removeOnFail: { count: KEEP_RUNS, age: KEEP_SECONDS },
  };
}

/** What a shard job reports as progress (job.updateProgress), for submit's display. */
export interface ShardProgress {
  rows: number;
  bytesRead: number;
}
