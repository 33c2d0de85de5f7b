// Exit codes beyond src/errors.ts's ExitCode (0 ok, 1 failed, 2 usage, 3 below --min-accuracy) that job
// runners act on. 75 is sysexits.h EX_TEMPFAIL ("try again later"): the run did not start because another
// run holds the lock on one of its output files. 130 / 143 are the shell's 128 + SIGINT / SIGTERM.
import { constants } from 'node:os';

export const JobExitCode = {
  lockHeld: 75,
  sigint: 130,
  sigterm: 143,
} as const;

/** The shell's convention, 128 + the signal number: 130 for SIGINT, 143 for SIGTERM. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Every exit code of `nnpipe`, for help texts and logs (docs/scheduling.md has the same table). */
export const EXIT_CODE_MEANINGS: Record<number, string> = {
  0: 'complete',
  1: 'failed (bad input, model, worker, output)',
  2: 'usage error (bad option, or an output refused)',
  3: 'accuracy below --min-accuracy, or no labels to measure it',
  69: 'submit, result, worker: Redis unreachable, or lost while waiting',
  75: 'not started: another run holds the lock on an output file',
  130: 'interrupted by SIGINT',
  143: 'interrupted by SIGTERM',
};
