// One pipeline command seen as a job: it takes the run lock on its output files before doing anything,
// removes the temp files dead runs left next to them, remembers what happened (report, error, stop
// signal), and at the end appends exactly one history line and releases the lock. pipeline-main drives
// it; everything a job runner relies on lives here.
import type { Logger } from 'pino';
import { PipelineError } from '../errors.js';
import { lockOwnerPathFor } from '../output/names.js';
import { removeStaleTemps } from '../output/stale-temps.js';
import { interruptedError, type PipelineReport } from '../stats/report.js';
import { appendHistoryLine } from './history-file.js';
import { buildRunRecord, type RunRecord } from './run-record.js';
import { RunLock } from './run-lock.js';

export interface JobRunOptions {
  /** Every output file of the run (null entries are ignored); each one is locked (devices and FIFOs excepted). */
  outputs: (string | null)[];
  history: string | null;
  lockStaleMs: number;
  minAccuracy: number | null;
  /** What the history shows when the run ends before its report exists. */
  modelPath: string | null;
  inputPath: string | null;
  log: Logger;
  /** Where a failure to write the history is told (the command's stderr). */
  stderr: { write(text: string): unknown };
}

export class JobRun {
  readonly startedAt = new Date();
  report: PipelineReport | null = null;
  /** The error that ended the command (wins over the report's error in the history). */
  error: { code: string; message: string } | null = null;
  signal: NodeJS.Signals | null = null;
  /** The report file, once it has been written (the history points at it). */
  writtenReport: string | null = null;
  private recorded = false;
  /** Whether the history line was appended (false without --history). */
  historyAppended = false;

  private constructor(
    private readonly options: JobRunOptions,
    private readonly lock: RunLock | null,
    /** Temp files of dead runs removed next to the outputs, before anything was written. */
    readonly removedTempFiles: string[],
  ) {}

  /** Takes the lock (throws LockHeldError, exit 75, when another run holds it). */
  static async begin(options: JobRunOptions): Promise<JobRun> {
    const outputs = [...options.outputs, options.history].filter((p): p is string => p !== null);
    const lock =
      outputs.length === 0
        ? null
        : await RunLock.acquire(
            outputs.map((path) => ({ path })),
            {
              staleMs: options.lockStaleMs,
              onCompromised: (path, error) =>
                options.log.error(
                  { path, err: error.message },
                  'lost the run lock (not refreshed in time, another process took it over); outputs are still ' +
                    'replaced atomically',
                ),
            },
          );
    const removed: string[] = [];
    try {
      for (const path of lock?.paths ?? []) {
        removed.push(
          ...(await removeStaleTemps(path, options.lockStaleMs)),
          ...(await removeStaleTemps(lockOwnerPathFor(path), options.lockStaleMs)),
        );
      }
    } catch (error) {
      await lock?.release();
      throw error;
    }
    for (const path of removed)
      options.log.warn({ path }, 'removed a temp file that a dead run had left next to an output');
    return new JobRun(options, lock, removed);
  }

  /**
   * The report as the command writes it: what the job knows added to what the pipeline measured (the
   * temp files it removed; for a run stopped by a signal, which signal).
   */
  finalReport(report: PipelineReport): PipelineReport {
    const stopped =
      report.status === 'interrupted' && (report.error === null || report.error.code === 'PIPE_ERR_INTERRUPTED');
    return {
      ...report,
      error: stopped ? interruptedError(this.signal) : report.error,
      removedTempFiles: [...this.removedTempFiles],
    };
  }

  noteError(error: unknown): void {
    if (error instanceof PipelineError) this.error = { code: error.code, message: error.message };
    else this.error = { code: 'PIPE_ERR_UNEXPECTED', message: error instanceof Error ? error.message : String(error) };
  }

  private record(exitCode: number, forced: boolean): RunRecord {
    const o = this.options;
    return buildRunRecord({
      startedAt: this.startedAt,
      finishedAt: new Date(),
      exitCode,
      report: this.report,
      error: this.error,
      signal: this.signal,
      forced,
      minAccuracy: o.minAccuracy,
      modelPath: o.modelPath,
      inputPath: o.inputPath,
      reportPath: this.writtenReport,
    });
  }

  /** Appends the history line (once); false when it could not be written (already told on stderr). */
  private appendHistory(exitCode: number, forced: boolean): boolean {
    if (this.recorded || this.options.history === null) return true;
    this.recorded = true;
    try {
      const repair = appendHistoryLine(this.options.history, this.record(exitCode, forced));
      if (repair) {
        this.options.log.warn(
          { history: this.options.history, action: repair.action, bytes: repair.bytes, tail: repair.preview },
          repair.action === 'truncated'
            ? 'the history ended in an incomplete line (a write was cut short); removed it before appending'
            : 'the history lacked its final newline; added it before appending',
        );
      }
      this.historyAppended = true;
      return true;
    } catch (error) {
      this.options.stderr.write(`nnpipe: ${(error as Error).message}\n`);
      return false;
    }
  }

  /**
   * Ends the job: appends the history line, releases the lock, and returns the exit code to use (a run
   * that succeeded but could not be recorded exits 1: a job runner must not believe it was recorded).
   */
  async finish(exitCode: number): Promise<number> {
    try {
      const recorded = this.appendHistory(exitCode, false);
      return !recorded && exitCode === 0 ? 1 : exitCode;
    } finally {
      await this.lock?.release();
    }
  }

  /**
   * The forced-exit path (a second stop signal): appends the history line synchronously, right before
   * process.exit. The lock is not released here; proper-lockfile removes its lock directories on exit.
   */
  finishForcedSync(exitCode: number): void {
    this.appendHistory(exitCode, true);
  }
}
