// The exit code of a command that ends with a run's report (the pipeline, `merge`, `submit`, `result`):
// 1 failed (141 when the reader of its predictions closed them), 130/143 interrupted, 3 below --min-accuracy
// (or no labels to measure it), else 0.
import { ExitCode, PipelineError } from '../errors.js';
import type { PipelineReport } from '../stats/report.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';

export function exitCodeForReport(
  report: PipelineReport,
  options: { minAccuracy: number | null; signal?: NodeJS.Signals | null },
  stderr: { write(text: string): unknown },
  name = 'nnpipe',
): number {
  if (report.status === 'failed') {
    stderr.write(`${name}: ${report.error?.message ?? 'the run failed'}\n`);
    return report.error?.code === 'PIPE_ERR_OUTPUT_CLOSED' ? ExitCode.stdoutClosed : ExitCode.failed;
  }
  if (report.status === 'interrupted') return exitCodeForSignal(options.signal ?? 'SIGINT');
  if (options.minAccuracy !== null) {
    if (report.accuracy === null) {
      stderr.write(`${name}: --min-accuracy was given but the input has no labels\n`);
      return ExitCode.belowMinAccuracy;
    }
    if (report.accuracy < options.minAccuracy) {
      stderr.write(`${name}: accuracy ${report.accuracy} is below --min-accuracy ${options.minAccuracy}\n`);
      return ExitCode.belowMinAccuracy;
    }
  }
  return ExitCode.ok;
}

/** The exit code of a command that ended with an error: a PipelineError's own (its message printed), else 1. */
export function exitCodeForError(error: unknown, stderr: { write(text: string): unknown }, name = 'nnpipe'): number {
  if (error instanceof PipelineError) {
    stderr.write(`${name}: ${error.message}\n`);
    return error.exitCode;
  }
  stderr.write(`${name}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  return ExitCode.failed;
}
