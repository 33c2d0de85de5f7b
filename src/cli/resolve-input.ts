// The input file(s) of a command that scores or measures them: the paths given (which must exist and be
// distinct files), '-' for stdin, or the bundled MNIST test set (prepared as CSV on first use) when none
// was given.
import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PipelineError, UsageError } from '../errors.js';
import { mnistCsvPath, prepareMnistCsv } from '../data/mnist.js';
import type { Logger } from './logger.js';
import { isInputPattern } from './input-globs.js';

export async function resolveInput(input: string | null, log: Logger): Promise<string> {
  if (input === '-') return '-';
  if (input !== null) {
    const path = resolve(input);
    checkInputPath(input, path);
    return path;
  }
  const path = mnistCsvPath('test');
  if (!existsSync(path)) {
    log.info({ path }, 'preparing the MNIST test set as CSV (first use)');
    await prepareMnistCsv('test');
  }
  return path;
}

/**
 * Every input of a run: the paths given (each must exist and not be a folder; the first that fails is named),
 * or the default.
 */
export async function resolveInputs(inputs: readonly string[], log: Logger): Promise<string[]> {
  if (inputs.length <= 1) return [await resolveInput(inputs[0] ?? null, log)];
  const paths = inputs.map((input) => resolve(input));
  paths.forEach((path, i) => checkInputPath(inputs[i], path));
  return paths;
}

/** An input must be there and be something to read: a file, a FIFO or a device, not a folder. */
function checkInputPath(given: string, path: string): void {
  if (!existsSync(path))
    throw new PipelineError(
      'PIPE_ERR_INPUT',
      isInputPattern(given) ? `${given}: no file matches this pattern` : `${given}: no such file`,
    );
  if (statSync(path).isDirectory())
    throw new PipelineError('PIPE_ERR_INPUT', `${given}: is a directory, not a CSV file (give a file, or a glob)`);
}

/**
 * Several inputs must be several files: one given twice (also through a link: the same device and inode) is
 * refused (exit 2), naming both. Files that cannot be stat'ed are left to resolveInputs to name.
 */
export async function checkDistinctInputs(inputs: readonly string[]): Promise<void> {
  if (inputs.length <= 1) return;
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const info = await stat(input).catch(() => null);
    const key = info === null ? `path:${resolve(input)}` : `${info.dev}:${info.ino}`;
    const before = seen.get(key);
    if (before !== undefined)
      throw new UsageError(
        before === input
          ? `--input ${input} is given twice: each file is scored once`
          : `--input ${input} and ${before} are the same file: each file is scored once`,
      );
    seen.set(key, input);
  }
}
