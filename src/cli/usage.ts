// What every command does with a problem on its command line: --help and --version exit 0, a
// commander error (unknown option, missing argument; commander has printed it) exits 2, and a
// UsageError from validation is printed with the command's name and a pointer to --help, then exits 2.
import { CommanderError, type Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';

interface Writable {
  write(text: string): unknown;
}

/** The command, made to throw instead of exiting and to write its help and errors to `io`. */
export function forCli<C extends Command>(command: C, io: { stdout: Writable; stderr: Writable }): C {
  command.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  return command;
}

/** The exit code for an error thrown while parsing and validating a command line; rethrows any other error. */
export function usageExitCode(error: unknown, name: string, stderr: Writable): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof UsageError) {
    stderr.write(`${name}: ${error.message}\n(run with --help for usage)\n`);
    return ExitCode.usage;
  }
  throw error;
}
