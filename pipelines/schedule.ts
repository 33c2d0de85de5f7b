// The scheduler: runs the pipeline command on a cron expression, in this process, one run at a time.
//
//   croner (cron expression + IANA time zone, `protect` against overlap)
//     -> runPipeline(the pipeline's own argv)  -- the CLI passes runPipelineCli: the code path of `npm run pipeline`
//     -> one structured log line per run (exit code, duration, the error message), then wait for the next
//     -> on stdout, one line per run (or the pipeline's full summary with summary: 'full')
//
// A run that is still going when the next one is due is not started twice: croner's `protect` skips the
// tick, and we log the skipped time. A failed run is logged and the schedule goes on. The pipeline runs
// in-process (a warm process: no module loading per run, one log stream); runPipelineCli leaves nothing
// behind between runs (signal handlers, worker pool, lock timers), which test/jobs/soak.test.ts checks.
// Stop signals reach the run's own handler (it stops the way `nnpipe` does: interrupted report, history
// line) and ours (no more runs; wait for the current one, then resolve `done`).
// The runs are given --json, so that the scheduler has each run's report to summarise; what the user asked
// for (their own --json, --quiet, or the full summary) is what reaches stdout.
// Times of the schedule (next runs, skipped ticks) are shown in its time zone, with the offset.
import { Cron } from 'croner';
import { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { EXIT_CODE_MEANINGS, ExitCode } from '../src/errors.js';
import { isoInZone, systemTimeZone } from '../src/jobs/zoned-time.js';
import type { PipelineReport } from '../src/stats/report.js';
import { formatSummary, formatSummaryLine } from '../src/stats/summary-text.js';

/** Where a run's output goes (the pipeline CLI's own streams). */
export interface RunIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
  /** Where the run's log lines go: the scheduler's own log stream. */
  logs?: NodeJS.WriteStream;
}

/** Runs the pipeline command with these arguments; its exit code. */
export type PipelineRunner = (argv: string[], io: RunIo) => Promise<number>;

/** What each run prints on stdout: one line (default), or the pipeline's full summary. */
export type SummaryMode = 'line' | 'full';

export interface ScheduleOptions {
  /** 5 fields (minute precision), 6 (with seconds first) or 7 (with years); croner syntax. */
  cron: string;
  /** IANA time zone the expression is read in; default the system's. */
  timezone?: string;
  /** The pipeline's own options, as `npm run pipeline -- ...` takes them. */
  pipelineArgs: string[];
  log: Logger;
  /** Stop after this many runs have finished (skipped ticks do not count). Default: never. */
  maxRuns?: number;
  /** Where the runs' summaries / --json reports go. Default process.stdout. */
  stdout?: NodeJS.WriteStream;
  /** Default 'line'. */
  summary?: SummaryMode;
  /** The pipeline options' own say on stdout (their parsed --json and --quiet): they win over `summary`. */
  pipelineOutput?: { json: boolean; quiet: boolean };
  /** The pipeline command (the CLI passes runPipelineCli; tests substitute slow or failing ones). */
  runPipeline: PipelineRunner;
}

export interface RunOutcome {
  run: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  exitCode: number;
  /** The pipeline's own message (its stderr), for runs that did not exit 0. */
  error: string | null;
}

/** Collects what a run writes to stdout (its --json report: a few KB; bounded all the same). */
class StdoutCapture extends Writable {
  text = '';
  constructor(private readonly limit = 16 * 1024 * 1024) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    if (this.text.length < this.limit) this.text += chunk.toString();
    callback();
  }
  /** The run's report, or null when the run ended before it had one (bad input, lock held). */
  report(): PipelineReport | null {
    try {
      const value = JSON.parse(this.text) as PipelineReport | null;
      return value !== null && typeof value === 'object' && typeof value.status === 'string' ? value : null;
    } catch {
      return null;
    }
  }
}

/** Keeps the last few KB a run writes to its stderr (its `nnpipe: ...` messages), for the run's log line. */
class StderrTail extends Writable {
  private text = '';
  constructor(private readonly limit = 4096) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
    callback();
  }
  get message(): string | null {
    const lines = this.text
      .split('\n')
      .map((line) =>
        line
          .replace(/^nnpipe: /, '')
          .replace(/ \(run with --help for usage\)$/, '')
          .trim(),
      )
      .filter((line) => line.length > 0);
    return lines.length > 0 ? lines.join('; ') : null;
  }
}

export class PipelineSchedule {
  private readonly options: ScheduleOptions;
  private readonly log: Logger;
  private readonly job: Cron;
  private readonly timezone: string;
  private current: { run: number; startedAt: Date; finished: Promise<void> } | null = null;
  /**
   * The latest run started, kept after it ends: croner reports a skipped tick a timer turn late, when that run may be
   * done.
   */
  private latest: { run: number; startedAt: Date } | null = null;
  private runs = 0;
  private stopping = false;
  private resolveDone!: () => void;
  /** Resolves once the schedule has stopped (stop(), or --max-runs reached) and no run is going. */
  readonly done: Promise<void>;
  readonly outcomes: RunOutcome[] = [];

  /**
   * Validates the expression and the time zone (throws TypeError / RangeError with croner's message); starts paused.
   */
  constructor(options: ScheduleOptions) {
    this.options = options;
    this.log = options.log;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    // RangeError if unknown
    if (options.timezone !== undefined) new Intl.DateTimeFormat('en-US', { timeZone: options.timezone });
    this.timezone = options.timezone ?? systemTimeZone();
    this.job = new Cron(options.cron, {
      timezone: options.timezone,
      paused: true,
      // Overlap: croner does not start the function again while the previous call's promise is pending.
      protect: (job) => this.logSkipped(job),
      catch: (error) =>
        this.log.error({ err: error instanceof Error ? error.stack : String(error) }, 'the scheduled function threw'),
    });
  }

  /** The next due times (for the start-up log and --help-like checks). */
  nextRuns(n: number): Date[] {
    return this.job.nextRuns(n);
  }

  /** A time of the schedule as its reader thinks of it: local time in the schedule's zone, with the offset. */
  zoned(date: Date): string {
    return isoInZone(date, this.timezone);
  }

  start(): void {
    this.job.schedule(() => this.runOnce());
    this.job.resume();
    this.log.info(
      {
        cron: this.options.cron,
        timezone: this.timezone,
        next: this.nextRuns(3).map((d) => this.zoned(d)),
        pipeline: this.options.pipelineArgs,
      },
      'scheduler started',
    );
  }

  /** No more runs; resolves when the current run (if any) has finished. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.job.stop();
    }
    if (this.current) await this.current.finished;
    this.resolveDone();
  }

  get running(): boolean {
    return this.current !== null;
  }

  private logSkipped(job: Cron): void {
    // The tick that was skipped is the latest due time at or before now (croner calls this right after it).
    const skipped = job.previousRuns(1, new Date())[0] ?? new Date();
    const current = this.current ?? this.latest;
    this.log.warn(
      {
        skipped: this.zoned(skipped),
        running: current ? { run: current.run, since: current.startedAt.toISOString() } : null,
        next: this.nextTime(),
      },
      'skipped a run: the previous run is still going',
    );
  }

  private async runOnce(): Promise<void> {
    if (this.stopping) return;
    const run = ++this.runs;
    const startedAt = new Date();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.current = { run, startedAt, finished };
    this.latest = { run, startedAt };
    this.log.info({ run, startedAt: startedAt.toISOString() }, 'run starting');
    const stderr = new StderrTail();
    const stdout = new StdoutCapture();
    const io: RunIo = {
      stdout: stdout as unknown as NodeJS.WriteStream,
      // Not a TTY: no progress bar; the run's messages end up in its log line below.
      stderr: stderr as unknown as NodeJS.WriteStream,
      stdin: Readable.from([]),
    };
    let exitCode: number;
    try {
      exitCode = await this.options.runPipeline(['--json', ...this.options.pipelineArgs], io);
    } catch (error) {
      // runPipelineCli turns every failure into an exit code; this is a bug, and the schedule goes on.
      stderr.write(`unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      exitCode = 1;
    }
    const finishedAt = new Date();
    const outcome: RunOutcome = {
      run,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      exitCode,
      error: exitCode === 0 ? null : stderr.message,
    };
    this.outcomes.push(outcome);
    this.current = null;
    const report = stdout.report();
    this.logOutcome(outcome, report);
    this.writeOutput(outcome, report, stdout.text);
    finish();
    if (this.options.maxRuns !== undefined && this.runs >= this.options.maxRuns) {
      this.log.info({ runs: this.runs }, 'scheduler done: --max-runs reached');
      void this.stop();
    }
  }

  /** The next due time in the schedule's zone; null once stopping or after the last of --max-runs. */
  private nextTime(): string | null {
    const last = this.options.maxRuns !== undefined && this.runs >= this.options.maxRuns;
    const next = this.stopping || last ? null : this.job.nextRun();
    return next ? this.zoned(next) : null;
  }

  private logOutcome(outcome: RunOutcome, report: PipelineReport | null): void {
    const { error, ...rest } = outcome;
    const fields = {
      ...rest,
      meaning: meaningOf(outcome.exitCode),
      ...(error === null ? {} : { error }),
      ...(report === null ? {} : { rows: report.rows, accuracy: report.accuracy }),
      next: this.nextTime(),
    };
    if (outcome.exitCode === 0) this.log.info(fields, 'run complete');
    else if (outcome.exitCode === ExitCode.lockHeld)
      this.log.warn(fields, 'run not started: another run holds the lock');
    else if (outcome.exitCode === ExitCode.sigint || outcome.exitCode === ExitCode.sigterm)
      this.log.warn(fields, 'run interrupted');
    else this.log.error(fields, 'run failed; the schedule goes on');
  }

  /**
   * The run on stdout: the pipeline's own --json report; or the full summary (none with the pipeline's
   * --quiet, as `nnpipe` itself); or the scheduler's one line, which the pipeline's --quiet leaves alone
   * (it is the schedule's record of the tick, not the run's summary).
   */
  private writeOutput(outcome: RunOutcome, report: PipelineReport | null, captured: string): void {
    const out = this.options.stdout ?? process.stdout;
    const wanted = this.options.pipelineOutput ?? { json: false, quiet: false };
    if (wanted.json) {
      out.write(captured);
    } else if ((this.options.summary ?? 'line') === 'full') {
      if (report !== null && !wanted.quiet)
        out.write(`${formatSummary(report, { color: Boolean(out.isTTY) && !process.env.NO_COLOR })}\n`);
    } else {
      const what =
        report !== null
          ? formatSummaryLine(report)
          : `${meaningOf(outcome.exitCode)}${outcome.error === null ? '' : `: ${outcome.error}`}`;
      const next = this.nextTime();
      out.write(
        `${this.zoned(new Date(outcome.startedAt))} run ${outcome.run} (exit ${outcome.exitCode}) ` +
          `${what}${next === null ? '' : `; next ${next}`}\n`,
      );
    }
  }
}

const meaningOf = (exitCode: number): string => EXIT_CODE_MEANINGS[exitCode as ExitCode] ?? 'unknown';
