// The commands of `nnpipe <command>` that are programs of their own (src/cli/<command>.js, what their npm
// scripts run), started as they are: not part of the bundled CLI (scripts/bundle.mjs's loader starts them
// before loading the bundle), so the pipeline's start-up does not pay for them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PROGRAMS = ['train', 'data', 'convert', 'schedule', 'experiment', 'history'] as const;

export const isProgram = (name: string | undefined): boolean => (PROGRAMS as readonly string[]).includes(name ?? '');

/** Runs a program as if started on its own (`node src/cli/<name>.js ARGS`); its exit code once it is done. */
export async function runProgram(name: string, argv: string[]): Promise<number> {
  const file = join(dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  if (!existsSync(file)) throw new Error(`cannot find the compiled ${file} (run npm run build)`);
  process.argv = [process.argv[0], file, ...argv];
  await import(pathToFileURL(file).href);
  return Number(process.exitCode ?? 0);
}
