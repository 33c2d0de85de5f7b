// The `npm run experiment` command line: its options, defaults and validation (commander for the syntax,
// zod through parse-options.ts for the values, so every problem is a UsageError that names the flag).
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as z from 'zod/mini';
import { UsageError } from '../errors.js';
import { positiveInt } from './option-schemas.js';
import { parseOptions } from './parse-options.js';
import { maxThreads } from './pipeline-options.js';
import { expandGrid, freshProbeOption, inFlightList, positiveIntList, type FreshProbe, type GridSpec, type InFlightSpec } from '../experiment/grid.js';
import { POOL_CHOICES, type Configuration, type PoolChoice } from '../experiment/types.js';

export const DEFAULT_BATCH_SIZES = '1,10,32,100,320,1000';
export const DEFAULT_MAX_IN_FLIGHT = '2x';
/**
 * Chosen so that the default grid (12 warm configurations and 2 fresh probes on the 10,000-image test set)
 * finishes in well under 3 minutes on a 2-core machine (measured: about 2 minutes). benchmark.js only starts
 * counting maxTime at the minSamples-th sample (`size >= minSamples && (elapsed += ...)`), so a configuration
 * takes about (minSamples - 1) passes + maxTime seconds + one more pass, plus the child's start and a short
 * warm-up pass; one pass over the test set takes about 0.6-2 s.
 */
export const DEFAULT_MIN_SAMPLES = 5;
export const DEFAULT_MAX_TIME_S = 2;

/** 1 and every core: the two ends that matter (one thread; as many threads as the machine runs at once). */
export function defaultThreads(cores = availableParallelism()): string {
  return cores > 1 ? `1,${Math.min(cores, maxThreads)}` : '1';
}

export function experimentCommand(): Command {
  return new Command('nnpipe experiment')
    .description(
      'Measure the inference pipeline over a grid of batch sizes x threads x max-in-flight with benchmark.js; ' +
        'print a table and write experiment.json, experiment.csv and a self-contained experiment.html with charts.',
    )
    .option('--batch-sizes <list>', 'rows per batch, comma-separated', DEFAULT_BATCH_SIZES)
    .option('--threads <list>', `worker threads, comma-separated (each 1..${maxThreads})`, defaultThreads())
    .option('--max-in-flight <list>', 'batches queued or running at once, comma-separated: a number, or Nx = N x threads', DEFAULT_MAX_IN_FLIGHT)
    .addOption(
      new Option('--pool <mode>', 'warm = one started pool per configuration, reused by every sample (plus one fresh-pool probe per thread count); fresh = every sample starts its own pool; both = the grid in both modes')
        .choices(POOL_CHOICES)
        .default('warm'),
    )
    .option('--fresh-probe <batch size|auto|none>', 'with --pool warm: the batch size of the fresh-pool probe per thread count (auto = the grid batch size nearest 100)', 'auto')
    .option('--input <file>', 'CSV of images, label first (measured as a whole, once per sample)', 'the MNIST test set (data/mnist_test.csv, prepared on first use)')
    .option('--model <file>', 'model file: .safetensors, .npz or the book\'s .pkl', 'data/models/default.safetensors')
    .option('--out <dir>', 'folder for experiment.json, experiment.csv and experiment.html', 'reports/experiment-<timestamp>')
    .option('--min-samples <n>', 'benchmark.js minSamples: passes measured per configuration at least', String(DEFAULT_MIN_SAMPLES))
    .option('--max-time <seconds>', 'benchmark.js maxTime: after the first min-samples passes, keep sampling until the passes from the last of those on add up to more than this', String(DEFAULT_MAX_TIME_S))
    .option('--json', 'print the experiment JSON on stdout instead of the table', false)
    .option('--quiet', 'no progress, no table; only warnings and errors', false)
    .allowExcessArguments(false);
}

const positiveSeconds = z
  .pipe(z.string().check(z.regex(/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/, 'must be a number of seconds')), z.transform(Number))
  .check(z.refine((n) => n > 0 && Number.isFinite(n), 'must be more than 0 seconds'));

const rawSchema = z.object({
  batchSizes: positiveIntList('batch size'),
  threads: positiveIntList('thread count', {
    max: maxThreads,
    maxMessage: (n) => `must list thread counts of at most ${maxThreads}, the pool maximum (4 per core, at least 16): ${n} is too many`,
  }),
  maxInFlight: inFlightList,
  pool: z.enum(POOL_CHOICES),
  freshProbe: freshProbeOption,
  input: z.string().check(z.minLength(1)),
  model: z.string().check(z.minLength(1)),
  out: z.string().check(z.minLength(1)),
  minSamples: positiveInt,
  maxTime: positiveSeconds,
  json: z.boolean(),
  quiet: z.boolean(),
});

export interface ExperimentCliOptions {
  grid: GridSpec;
  configurations: Configuration[];
  /** null means the MNIST test set. */
  input: string | null;
  /** null means the committed default model. */
  model: string | null;
  /** null means reports/experiment-<timestamp>. */
  out: string | null;
  minSamples: number;
  maxTimeS: number;
  json: boolean;
  quiet: boolean;
}

/** Turns commander's parsed (string) options into validated options and the expanded grid. */
export function validateExperimentOptions(command: Command): ExperimentCliOptions {
  const raw = { ...command.opts() } as Record<string, unknown>;
  const isDefault = (name: string) => command.getOptionValueSource(name) === 'default';
  const parsed = parseOptions(rawSchema, raw) as {
    batchSizes: number[];
    threads: number[];
    maxInFlight: InFlightSpec[];
    pool: PoolChoice;
    freshProbe: FreshProbe;
    input: string;
    model: string;
    out: string;
    minSamples: number;
    maxTime: number;
    json: boolean;
    quiet: boolean;
  };
  if (!isDefault('input') && parsed.input === '-') {
    throw new UsageError('--input - (stdin) cannot be measured: every sample reads the input again; give a file');
  }
  if (!isDefault('freshProbe') && parsed.pool !== 'warm') {
    throw new UsageError(`--fresh-probe applies to --pool warm only (--pool ${parsed.pool} measures fresh pools for every configuration)`);
  }
  const grid: GridSpec = {
    batchSizes: parsed.batchSizes,
    threads: parsed.threads,
    maxInFlight: parsed.maxInFlight,
    pool: parsed.pool,
    freshProbe: parsed.freshProbe,
  };
  return {
    grid,
    configurations: expandGrid(grid),
    input: isDefault('input') ? null : parsed.input,
    model: isDefault('model') ? null : parsed.model,
    out: isDefault('out') ? null : parsed.out,
    minSamples: parsed.minSamples,
    maxTimeS: parsed.maxTime,
    json: parsed.json,
    quiet: parsed.quiet,
  };
}
