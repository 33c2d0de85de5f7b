// Where the compiled worker modules are. Found by walking up from this module to the build folder that
// holds workers/esm-entry.cjs, so it works from the compiled dist/src/pool/ and from the bundled CLI
// (dist/bundle/), which have different relative paths to dist/workers/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findWorkersDir(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'workers');
    if (existsSync(join(candidate, 'esm-entry.cjs'))) return candidate;
    if (dirname(dir) === dir)
      throw new Error(`cannot find the compiled workers/ folder above ${start} (run npm run build)`);
  }
}

let workersDir: string | null = null;

/** The URL of a compiled worker file, e.g. workerFile('forward.js'). */
export function workerFile(name: string): URL {
  workersDir ??= findWorkersDir(dirname(fileURLToPath(import.meta.url)));
  return pathToFileURL(join(workersDir, name));
}

/**
 * The forward worker: the bundled one (dist/bundle/forward-worker.mjs, made by scripts/bundle.mjs; one
 * file loads faster in every new thread) when the build made it, else the compiled module.
 */
export function forwardWorkerFile(): URL {
  workersDir ??= findWorkersDir(dirname(fileURLToPath(import.meta.url)));
  const bundled = join(dirname(workersDir), 'bundle', 'forward-worker.mjs');
  return existsSync(bundled) ? pathToFileURL(bundled) : workerFile('forward.js');
}
