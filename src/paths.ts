// Where the project's own files live. Found by walking up from this module to the folder that holds
// package.json, so it works from the compiled dist/src/ as well as from any other build folder.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(resolve(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The repository / package root (the folder holding package.json). */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
/** Prepared data (MNIST CSVs) and committed models. */
export const dataDir = resolve(projectRoot, 'data');
/** The committed default model used when `--model` is not given. */
export const defaultModelPath = resolve(dataDir, 'models/default.safetensors');
