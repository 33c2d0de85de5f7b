#!/usr/bin/env node
// Entry point of `npm run history -- FILE`: the runs recorded with `--history FILE`, as a table with trends
// (accuracy and images/s against the previous run) or, with --json, one JSON document for machines.
// An incomplete last line (a write cut short) and a few lines that are not run records are skipped and
// reported on stderr (the first SHOWN_PROBLEMS of them); the exit code stays 0 (the other runs are fine).
// A file that is not a history at all (its first or last complete line is not a run record, the rule that
// `--history` applies) is refused. Exit 1: no such file; 2: bad options, or not a history.
import { Command } from 'commander';
import { ExitCode, PipelineError } from '../errors.js';
import { NotAHistoryError, readHistory } from '../jobs/history-file.js';
import { formatHistoryTable, historyDocument } from '../jobs/history-table.js';
import { positiveInt } from './option-schemas.js';
import { addOptions, flag, option, validateOptions, type OptionValues } from './option-table.js';
import { forCli, usageExitCode } from './usage.js';
import { isEntryPoint, quietOnClosedStdout } from './entry.js';

/** How the command's messages start. */
const NAME = 'nnpipe history';
/** Lines that are not run records listed one by one; the rest are counted. */
const SHOWN_PROBLEMS = 10;

export function historyCommand(): Command {
  return addOptions(new Command(NAME), HISTORY_OPTIONS)
    .description('Show the runs recorded in a history file (written by `nnpipe --history FILE`).')
    .argument('<file>', 'the history file (JSON Lines)')
    .allowExcessArguments(false);
}

/** Every option of `nnpipe history`, once (see option-table.ts). */
export const HISTORY_OPTIONS = {
  last: option('--last <n>', 'only the last n runs (trends still compare with the run before them)', positiveInt, {
    defaultText: 'all',
  }),
  json: flag('--json', 'print one JSON document: {file, total, runs: [record + trend], tornTail, problems}'),
};

export function runHistoryCli(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): number {
  const command = forCli(historyCommand(), io, NAME);
  let options: OptionValues<typeof HISTORY_OPTIONS>;
  let file: string;
  try {
    command.parse(argv, { from: 'user' });
    options = validateOptions(command, HISTORY_OPTIONS);
    file = command.args[0];
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }

  let contents: ReturnType<typeof readHistory>;
  try {
    contents = readHistory(file);
  } catch (error) {
    if (error instanceof NotAHistoryError) {
      io.stderr.write(`${NAME}: ${file} is not a run history (${error.problem}); give a file written by --history\n`);
      return error.exitCode;
    }
    if (error instanceof PipelineError) {
      io.stderr.write(`${NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
  for (const problem of contents.problems.slice(0, SHOWN_PROBLEMS))
    io.stderr.write(`${NAME}: ${file}:${problem.line}: skipped: ${problem.message}\n`);
  const more = contents.problems.length - SHOWN_PROBLEMS;
  if (more > 0)
    io.stderr.write(
      `${NAME}: ${file}: skipped ${more} more line${more === 1 ? '' : 's'} that ${more === 1 ? 'is' : 'are'} not run ` +
        `records\n`,
    );
  if (contents.tornTail) {
    io.stderr.write(
      `${NAME}: ${file}:${contents.tornTail.line}: skipped an incomplete last line (${contents.tornTail.bytes} ` +
        `bytes; a write was cut short, the next run's append removes it)\n`,
    );
  }
  const document = historyDocument(file, contents, options.last ?? null);
  if (options.json) {
    io.stdout.write(`${JSON.stringify(document)}\n`);
  } else if (document.runs.length === 0) {
    io.stdout.write(`${file}: no runs recorded\n`);
  } else {
    const shown = document.runs.length < document.total ? ` (last ${document.runs.length} of ${document.total})` : '';
    io.stdout.write(
      `${file}: ${document.total} ` +
        `run${document.total === 1 ? '' : 's'}${shown}\n\n${formatHistoryTable(document.runs)}\n`,
    );
  }
  return ExitCode.ok;
}

if (isEntryPoint(import.meta.url)) {
  quietOnClosedStdout();
  process.exitCode = runHistoryCli(process.argv.slice(2));
}
