// How many worker threads a run gets when the user leaves it to us (--threads auto). Starting a worker
// costs a Node environment, the worker's modules and its WebAssembly; for a small input that is longer
// than scoring it on the main thread, so such inputs are scored here (threads 0). The crossover below
// comes from `npm run bench` (the start-up suite), on a 2-core machine.
import { availableParallelism } from 'node:os';

/** Inputs up to this size are scored on the main thread. */
export const INLINE_MAX_BYTES = 8 * 1024 * 1024;
/** A --limit up to this many rows is scored on the main thread, whatever the input's size. */
export const INLINE_MAX_ROWS = 4000;

export interface ThreadChoice {
  threads: number;
  /** Why, in words, for the report and the log. */
  reason: string;
}

/**
 * The threads for a run: `requested` when it is a number; for 'auto', none (the main thread scores)
 * when the input is a file of at most INLINE_MAX_BYTES or the run stops after at most INLINE_MAX_ROWS
 * rows, else one per core.
 */
export function chooseThreads(requested: number | 'auto', inputBytes: number | null, limit: number | null): ThreadChoice {
  if (requested !== 'auto') return { threads: requested, reason: requested === 0 ? '--threads 0' : `--threads ${requested}` };
  if (inputBytes !== null && inputBytes <= INLINE_MAX_BYTES) {
    return { threads: 0, reason: `auto: a ${(inputBytes / 1e6).toFixed(1)} MB input is scored sooner on the main thread than workers start` };
  }
  if (limit !== null && limit <= INLINE_MAX_ROWS) {
    return { threads: 0, reason: `auto: ${limit} rows (--limit) are scored sooner on the main thread than workers start` };
  }
  const cores = availableParallelism();
  return { threads: cores, reason: `auto: one worker per core (${cores})` };
}
