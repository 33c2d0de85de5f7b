// The input file of a command that scores or measures one: the path given (which must exist), '-' for
// stdin, or the bundled MNIST test set (prepared as CSV on first use) when none was given.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PipelineError } from '../errors.js';
import { mnistCsvPath, prepareMnistCsv } from '../data/mnist.js';
import type { Logger } from './logger.js';

export async function resolveInput(input: string | null, log: Logger): Promise<string> {
  if (input === '-') return '-';
  if (input !== null) {
    const path = resolve(input);
    if (!existsSync(path)) throw new PipelineError('PIPE_ERR_INPUT', `${input}: no such file`);
    return path;
  }
  const path = mnistCsvPath('test');
  if (!existsSync(path)) {
    log.info({ path }, 'preparing the MNIST test set as CSV (first use)');
    await prepareMnistCsv('test');
  }
  return path;
}
