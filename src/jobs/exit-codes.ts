// The exit code of a run stopped by a signal. The table of every exit code is in src/errors.ts.
import { constants } from 'node:os';

/** The shell's convention, 128 + the signal number: 130 for SIGINT, 143 for SIGTERM. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
