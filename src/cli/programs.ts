// The commands of `nnpipe <command>` that are programs of their own (src/cli/<command>.js, what their npm
// scripts run), started as they are: not part of the bundled CLI (scripts/bundle.mjs's loader starts them
// before loading the bundle), so the pipeline's start-up does not pay for them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Each program's entry file (in this folder) and the arguments it gets before the user's. */
const ENTRIES: Record<string, [file: string, ...first: string[]]> = {
  train: ['train.js'],
  data: ['data.js'],
  convert: ['convert.js'],
  schedule: ['schedule.js'],
  experiment: ['experiment.js'],
  history: ['history.js'],
  worker: ['queue-main.js', 'worker'],
  submit: ['queue-main.js', 'submit'],
  result: ['queue-main.js', 'result'],
};

export const PROGRAMS = Object.keys(ENTRIES);

export const isProgram = (name: string | undefined): boolean => Object.hasOwn(ENTRIES, name ?? '');

/** Runs a program as if started on its own (`node src/cli/<name>.js ARGS`); its exit code once it is done. */
export async function runProgram(name: string, argv: string[]): Promise<number> {
  const [entry, ...first] = ENTRIES[name];
  const file = join(dirname(fileURLToPath(import.meta.url)), entry);
  if (!existsSync(file)) throw new Error(`cannot find the compiled ${file} (run npm run build)`);
  process.argv = [process.argv[0], file, ...first, ...argv];
  await import(pathToFileURL(file).href);
  return Number(process.exitCode ?? 0);
}
