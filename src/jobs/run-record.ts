// One line of the run history (`--history FILE`): what a job runner or a person needs to see about a run
// at a glance, without opening its report. The field names are a contract (the `history` command, jq
// scripts and dashboards read them); add fields, never rename or remove one, and bump `schema` if a
// field's meaning ever changes.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { projectRoot } from '../paths.js';
import type { PipelineReport, RunStatus } from '../stats/report.js';

export const RUN_RECORD_SCHEMA = 1;

export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  /** ISO 8601 wall-clock times of the whole command (lock, model load and output writing included). */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The report's status; runs that failed before scoring started (missing model, missing input) are `failed`. */
  status: RunStatus;
  /** What the process exited with (see docs/scheduling.md): 0, 1, 3, 130, 143. */
  exitCode: number;
  /** The first stop signal received, if any (a run that had already read everything can still be complete). */
  signal: NodeJS.Signals | null;
  /** True when the run was cut short without a report: a second signal. */
  forced: boolean;
  rows: number;
  skipped: number;
  accuracy: number | null;
  minAccuracy: number | null;
  imagesPerSecond: number | null;
  /** Dispatch -> result p99 over the run's batches, ms. */
  batchP99Ms: number | null;
  model: { path: string | null; sha256: string | null };
  /** `files`: several input files, in order (`path` is then the first; `bytes` their total). */
  input: { path: string | null; bytes: number | null; files?: string[] };
  /** Where the full report went (absolute), or null without --report or when it was not written. */
  report: string | null;
  /** Why the run failed, stopped, or was refused (below --min-accuracy). */
  error: { code: string; message: string } | null;
  host: string;
  pid: number;
  nnpipe: string;
  node: string;
}

const nullableNumber = z.nullable(z.number());

/**
 * What a reader accepts: the fields the `history` command shows must have the right types; unknown
 * fields (a newer writer) are kept as they are.
 */
export const runRecordSchema = z.looseObject({
  schema: z.number(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  status: z.enum(['complete', 'failed', 'interrupted']),
  exitCode: z.number(),
  signal: z.optional(z.nullable(z.string())),
  forced: z.optional(z.boolean()),
  rows: z.number(),
  skipped: z.optional(z.number()),
  accuracy: nullableNumber,
  minAccuracy: z.optional(nullableNumber),
  imagesPerSecond: nullableNumber,
  batchP99Ms: nullableNumber,
  model: z.looseObject({ path: z.nullable(z.string()), sha256: z.nullable(z.string()) }),
  input: z.looseObject({ path: z.nullable(z.string()), bytes: nullableNumber }),
  report: z.optional(z.nullable(z.string())),
  error: z.nullable(z.looseObject({ code: z.string(), message: z.string() })),
});

let cachedVersion: string | null = null;

/** The package version, read once (a warm scheduler process records it on every run). */
export function nnpipeVersion(): string {
  if (cachedVersion === null) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { version?: string };
      cachedVersion = pkg.version ?? 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

export interface RunRecordInput {
  startedAt: Date;
  finishedAt: Date;
  exitCode: number;
  /** The run's report, when scoring ran (complete, failed, interrupted). */
  report: PipelineReport | null;
  /** The error that ended the command before or after scoring (it wins over the report's own error). */
  error: { code: string; message: string } | null;
  signal: NodeJS.Signals | null;
  forced?: boolean;
  minAccuracy: number | null;
  /** What is known without a report (the options as given). */
  modelPath: string | null;
  inputPath: string | null;
  reportPath: string | null;
}

/** The error a run is remembered by: the command's error, else the report's, else the --min-accuracy refusal. */
function errorFor(input: RunRecordInput): RunRecord['error'] {
  if (input.error) return { code: input.error.code, message: input.error.message };
  const report = input.report;
  if (report?.error) return { code: report.error.code, message: report.error.message };
  if (input.exitCode === 3 && input.minAccuracy !== null) {
    const message =
      report?.accuracy === null || report?.accuracy === undefined
        ? '--min-accuracy was given but the input has no labels'
        : `accuracy ${report.accuracy} is below --min-accuracy ${input.minAccuracy}`;
    return { code: 'PIPE_ERR_MIN_ACCURACY', message };
  }
  return null;
}

export function buildRunRecord(input: RunRecordInput): RunRecord {
  const { report } = input;
  const status: RunStatus = report?.status ?? (input.signal ? 'interrupted' : 'failed');
  return {
    schema: RUN_RECORD_SCHEMA,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime()),
    status,
    exitCode: input.exitCode,
    signal: input.signal,
    forced: input.forced ?? false,
    rows: report?.rows ?? 0,
    skipped: report?.skipped ?? 0,
    accuracy: report?.accuracy ?? null,
    minAccuracy: input.minAccuracy,
    imagesPerSecond: report ? report.imagesPerSecond : null,
    batchP99Ms: report && report.batchLatencyMs.count > 0 ? report.batchLatencyMs.p99 : null,
    model: { path: report?.model.path ?? input.modelPath, sha256: report?.model.sha256 ?? null },
    input: {
      path: report?.input.path ?? input.inputPath,
      bytes: report?.input.bytes ?? null,
      ...(report?.input.files === undefined ? {} : { files: report.input.files.map((file) => file.path) }),
    },
    report: input.reportPath,
    error: errorFor(input),
    host: hostname(),
    pid: process.pid,
    nnpipe: nnpipeVersion(),
    node: process.version,
  };
}
