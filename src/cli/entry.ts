// Being the program: whether a command module was started as the program (`node dist/src/cli/train.js`, or
// `nnpipe train`, which starts it the same way; imported by the docs script or by tests it does not run), and
// what a program does when the reader of its stdout goes away.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ExitCode } from '../errors.js';

export function isEntryPoint(moduleUrl: string): boolean {
  try {
    return process.argv[1] !== undefined && moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

let watchingStdout = false;

/**
 * A reader that stops early (`nnpipe --help | head -1`) closes stdout: what is left to print has nowhere to
 * go, which is no error of ours. Instead of an uncaught EPIPE with its stack, the program goes on quietly
 * and exits 141 (as one killed by SIGPIPE would), unless it failed for a reason of its own.
 */
export function quietOnClosedStdout(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    closed = true;
  });
  process.on('exit', (code) => {
    if (closed && code === 0) process.exitCode = ExitCode.stdoutClosed;
  });
}
