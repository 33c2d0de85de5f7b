#!/usr/bin/env node
// Entry point of `npm run schedule`: the pipeline on a cron schedule, in this process (pipelines/schedule.ts).
//
//   npm run schedule -- --cron "*/15 * * * *" --tz Europe/Berlin -- --input /data/incoming.csv --min-accuracy 0.97
//
// Everything after `--` is the pipeline's own command line, checked once at start-up (a bad option, an
// output in a missing folder or an input whose folder does not exist is exit 2 now, not a failed run every
// 15 minutes). stdout: one line per run (--summary full: the pipeline's whole summary). Logs: one JSON
// object per line on stderr (pretty on a terminal). Exit: 0 after --max-runs, 2 bad options, 130 / 143
// after SIGINT / SIGTERM (the current run is stopped the way `nnpipe` stops: interrupted report, history
// line), 1 unexpected.
import { Command, CommanderError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as z from 'zod/mini';
import { ExitCode, UsageError } from '../errors.js';
import { PipelineSchedule } from '../../pipelines/schedule.js';
import { EXIT_CODE_MEANINGS } from '../errors.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';
import { createLogger, type Logger, logFormatOption } from './logger.js';
import { positiveInt } from './option-schemas.js';
import { addOptions, choice, flag, option, required, validateOptions } from './option-table.js';
import { pipelineCommand, validatePipelineOptions } from './pipeline-options.js';
import { checkRunOutputs, runPipelineCli } from './pipeline-main.js';
import { checkDistinctInputs } from './resolve-input.js';
import { forCli, usageExitCode } from './usage.js';
import { isEntryPoint, quietOnClosedStdout } from './entry.js';

const exitCodeHelp = Object.entries(EXIT_CODE_MEANINGS)
  .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
  .join('\n');

/** How the scheduler's messages start. */
const NAME = 'nnpipe schedule';

export function scheduleCommand(): Command {
  return addOptions(new Command(NAME), SCHEDULE_OPTIONS)
    .description(
      'Run the pipeline on a cron schedule, one run at a time: a run still going when the next is due skips that one ' +
        '(logged); a failed ' +
        'run is logged and ' +
        'the schedule goes on.',
    )
    .usage('--cron <expr> [options] -- <pipeline options>')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `\nPipeline options (after --) are those of \`nnpipe --help\`; give --report and/or --history so runs leave a ` +
        `record.\n\nExamples:\n  nnpipe schedule --cron "*/10 * * * * *" --max-runs 3 -- --input data/mnist_test.csv         ` +
        `    # a trial: every 10 s (6 fields: seconds first), 3 runs\n  nnpipe schedule --cron "*/15 * * * *" --tz ` +
        `Europe/Berlin -- --input /data/incoming.csv --history reports/history.jsonl   # every 15 minutes\n\nExit codes of ` +
        `each run (logged as exitCode):\n${exitCodeHelp}\n\nThe scheduler itself exits 0 after --max-runs, 2 on bad options, ` +
        `130 / 143 after SIGINT / SIGTERM.`,
    );
}

/** Every option of `nnpipe schedule`, once (see option-table.ts); the runs' own options follow `--`. */
export const SCHEDULE_OPTIONS = {
  cron: required(
    '--cron <expr>',
    'cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first ("*/10 * * * * *")',
    z.string().check(z.minLength(1)),
  ),
  tz: option(
    '--tz <zone>',
    'IANA time zone the expression is read in (Europe/Berlin, UTC)',
    z.string().check(z.minLength(1)),
    { defaultText: 'the system time zone' },
  ),
  maxRuns: option('--max-runs <n>', 'exit 0 after this many runs (skipped ones do not count)', positiveInt, {
    defaultText: 'no limit',
  }),
  summary: choice(
    '--summary <mode>',
    'what each run prints on stdout: one line, or the full summary with the confusion matrix',
    ['line', 'full'],
    { default: 'line' },
  ),
  logFormat: logFormatOption("the scheduler's, and the runs' unless their options give one"),
  quiet: flag('--quiet', 'log only warnings and errors'),
};

/** What the start-up check found that is worth a warning (not an error). */
interface PipelineArgsCheck {
  json: boolean;
  quiet: boolean;
  /** The input file, when its folder exists but the file does not (yet). */
  missingInput: string | null;
}

/**
 * Checks the pipeline's options once, the way every run will parse them, and its outputs the way every
 * run will check them (a folder that is missing or an output that is the input fails now, not at every
 * run). The input may arrive later, but into a folder that exists: a missing folder is a typo.
 */
async function checkPipelineArgs(args: string[]): Promise<PipelineArgsCheck> {
  let problem = '';
  const command = pipelineCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: (s) => (problem += s) });
  try {
    command.parse(args, { from: 'user' });
    const options = validatePipelineOptions(command);
    if (options.input === '-') throw new UsageError('--input - (stdin) cannot be scheduled: give a file');
    if (options.predictionsToStdout)
      throw new UsageError(
        "--predictions - cannot be scheduled: the runs' stdout is the scheduler's (one line per run); give a FILE",
      );
    // Several inputs are checked as one: each folder must exist; the first missing file is the one named.
    const missing = options.inputs.map(checkInputFolder).filter((input) => input !== null);
    const missingInput = missing[0] ?? null;
    await checkDistinctInputs(options.inputs);
    await checkRunOutputs(options);
    return { json: options.json, quiet: options.quiet, missingInput };
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`pipeline options: ${error.message}`);
    if (error instanceof CommanderError) {
      const first = problem.split('\n').find((line) => line.trim().length > 0) ?? error.message;
      throw new UsageError(`pipeline options: ${first.replace(/^error: /, '')}`);
    }
    throw error;
  }
}

/** Throws a UsageError when the input's folder does not exist; returns the input when only the file is missing. */
function checkInputFolder(input: string): string | null {
  const folder = dirname(resolve(input));
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UsageError(`--input ${input}: the folder ${folder} does not exist`);
  return existsSync(input) ? null : input;
}

export async function runScheduleCli(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const given = split === -1 ? [] : argv.slice(split + 1);
  const command = forCli(scheduleCommand(), process, NAME);
  let schedule: PipelineSchedule;
  let log: Logger;
  try {
    command.parse(own, { from: 'user' });
    const options = validateOptions(command, SCHEDULE_OPTIONS);
    // One format on the shared stderr: the runs take the scheduler's unless their own options give one.
    const pipelineArgs = given.some((a) => /^--log-format(=|$)/.test(a))
      ? given
      : ['--log-format', options.logFormat, ...given];
    const checked = await checkPipelineArgs(pipelineArgs);
    log = createLogger({ name: 'nnpipe-schedule', quiet: options.quiet, format: options.logFormat });
    if (!pipelineArgs.some((a) => /^--(report|history)(=|$)/.test(a))) {
      log.warn('the runs keep no record: give the pipeline --report and/or --history (after --)');
    }
    if (checked.missingInput !== null)
      log.warn({ input: checked.missingInput }, 'the input does not exist yet: runs fail (exit 1) until it does');
    try {
      schedule = new PipelineSchedule({
        cron: options.cron,
        timezone: options.tz ?? undefined,
        pipelineArgs,
        log,
        maxRuns: options.maxRuns ?? undefined,
        summary: options.summary,
        pipelineOutput: { json: checked.json, quiet: checked.quiet },
        runPipeline: runPipelineCli,
      });
    } catch (error) {
      throw new UsageError(`--cron / --tz: ${(error as Error).message}`);
    }
  } catch (error) {
    return usageExitCode(error, NAME, process.stderr);
  }

  // A stop signal also reaches the current run's own handler, which stops it like `nnpipe` does. Here:
  // no more runs, then exit once that run is over. A second signal: the run's handler exits at once;
  // between runs, we do.
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      if (!schedule.running) process.exit(exitCodeForSignal(signal));
      return;
    }
    stoppedBy = signal;
    log.warn(
      { signal, running: schedule.running },
      schedule.running
        ? 'stopping: no more runs; the current run stops and writes its interrupted report'
        : 'stopping: no more runs',
    );
    void schedule.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    schedule.start();
    await schedule.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const code = stoppedBy ? exitCodeForSignal(stoppedBy) : ExitCode.ok;
  log.info({ runs: schedule.outcomes.length, exitCode: code }, 'scheduler stopped');
  return code;
}

if (isEntryPoint(import.meta.url)) {
  quietOnClosedStdout();
  process.exitCode = await runScheduleCli(process.argv.slice(2));
}
