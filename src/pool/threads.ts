// How many worker threads a run gets when the user leaves it to us (--threads auto). A worker costs a
// Node environment to start (measured here: ~65 ms of CPU for a bare Node 20 worker, ~130 ms with its
// modules and kernels), and every task a message each way; the work it takes over is decoding (~1.5 µs a
// row) and the forward pass. For the book's small network that is ~3 µs a row, so the main thread alone
// scores even a 440 MB file as fast as a pool does on 2 cores; a network 20x the size is 1.5x faster on
// two workers than on one. So workers start only when the estimated work is worth them (see bench/).
import { availableParallelism } from 'node:os';

/** Estimated single-thread work above which workers start, ms. */
export const WORKERS_FROM_MS = 1000;
/** Decoding a row, µs (WebAssembly row decoder, MNIST-like rows). */
const DECODE_US_PER_ROW = 1.5;
/** Forward-pass speed assumed for the estimate (the native kernel skips zero inputs: more in practice). */
const FLOPS_PER_US = 50_000;
/** Bytes of text per input value in a numeric CSV ("0," to "255,": MNIST averages 2.3). */
const BYTES_PER_VALUE = 2.3;

export interface ThreadChoice {
  threads: number;
  /** Why, in words, for the report and the log. */
  reason: string;
}

export interface WorkEstimate {
  /** The input's size (null: unknown, e.g. stdin). */
  inputBytes: number | null;
  /** --limit, if any. */
  limit: number | null;
  /** Values per row (the model's inputs) and the forward pass's FLOPs per row. */
  features: number;
  flopsPerRow: number;
}

/** The estimated time to score the input on one thread, ms; null when its size is unknown. */
export function estimatedWorkMs({ inputBytes, limit, features, flopsPerRow }: WorkEstimate): number | null {
  const fileRows = inputBytes === null ? null : inputBytes / (features * BYTES_PER_VALUE);
  const rows = limit === null ? fileRows : Math.min(limit, fileRows ?? limit);
  if (rows === null) return null;
  return (rows * (DECODE_US_PER_ROW + flopsPerRow / FLOPS_PER_US)) / 1000;
}

/** The threads for a run: `requested` when it is a number; for 'auto', by the estimated work. */
export function chooseThreads(requested: number | 'auto', estimate: WorkEstimate): ThreadChoice {
  if (requested !== 'auto') return { threads: requested, reason: `--threads ${requested}` };
  const cores = availableParallelism();
  const work = estimatedWorkMs(estimate);
  if (work !== null && work < WORKERS_FROM_MS) {
    return {
      threads: 0,
      reason: `auto: ~${Math.round(work)} ms of work is scored sooner on the main thread than workers start`,
    };
  }
  return {
    threads: cores,
    reason:
      work === null
        ? `auto: input of unknown size: one worker per core (${cores})`
        : `auto: ~${Math.round(work)} ms of work: one worker per core (${cores})`,
  };
}
