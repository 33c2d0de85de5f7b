// What every command does with its command line: --help and --version exit 0, a
// commander error (unknown option, missing argument) and a UsageError from validation exit 2. Every
// message is one line that starts with the command's name (`nnpipe: `, `nnpipe train: `), commander's
// own included, and ends with a pointer to --help.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { projectRoot } from '../paths.js';

interface Writable {
  write(text: string): unknown;
}

export const HELP_HINT = '(run with --help for usage)';

/** A usage message as every command prints it: one line, `NAME: message (run with --help for usage)`. */
export function usageLine(name: string, message: string): string {
  const text = message
    .replace(/^error: /, '')
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
  return `${name}: ${text} ${HELP_HINT}\n`;
}

/**
 * Every command is `nnpipe <command> [options]` (the pipeline itself: `nnpipe [options]`); npm scripts run the same.
 */
export function commandName(command: string): string {
  return command === 'pipeline' ? 'nnpipe' : `nnpipe ${command}`;
}

/** The package's version (package.json), for --version. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Every command's conventions: --version, and numeric defaults shown as numbers in --help (`(default:
 * 100)`, not `(default: "100")`: commander hands string defaults to validation, and quotes them).
 */
export function withConventions(command: Command): void {
  if (!command.options.some((o) => o.long === '--version'))
    command.version(packageVersion(), '-V, --version', 'print the version and exit');
  for (const option of command.options) {
    if (
      typeof option.defaultValue === 'string' &&
      option.defaultValueDescription === undefined &&
      /^-?[0-9]+(\.[0-9]+)?$/.test(option.defaultValue)
    ) {
      option.defaultValueDescription = option.defaultValue;
    }
  }
}

/**
 * The command, made to throw instead of exiting and to write its help and errors to `io`, its errors
 * as usageLine(name, ...).
 */
export function forCli<C extends Command>(command: C, io: { stdout: Writable; stderr: Writable }, name: string): C {
  withConventions(command);
  command
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (text, write) => write(usageLine(name, text)),
    });
  return command;
}

/** The exit code for an error thrown while parsing and validating a command line; rethrows any other error. */
export function usageExitCode(error: unknown, name: string, stderr: Writable): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? ExitCode.ok
      : ExitCode.usage;
  }
  if (error instanceof UsageError) {
    stderr.write(usageLine(name, error.message));
    return ExitCode.usage;
  }
  throw error;
}
