// The `npm run experiment` command line: its options, defaults and validation (commander for the syntax,
// zod through parse-options.ts for the values, so every problem is a UsageError that names the flag).
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as z from 'zod/mini';
import { UsageError } from '../errors.js';
import { positiveInt } from './option-schemas.js';
import { type LogFormat, logFormatOption } from './logger.js';
import { addOptions, choice, flag, option, validateOptions } from './option-table.js';
import { maxThreads } from './pipeline-options.js';
import {
  expandGrid,
  freshProbeOption,
  inFlightList,
  positiveIntList,
  type FreshProbe,
  type GridSpec,
  type InFlightSpec,
} from '../experiment/grid.js';
import { POOL_CHOICES, type Configuration, type PoolChoice } from '../experiment/types.js';
import { MODEL_EXTENSIONS_TEXT } from '../nn/model-files/index.js';

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

const positiveSeconds = z
  .pipe(z.string().check(z.regex(/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/, 'must be a number of seconds')), z.transform(Number))
  .check(z.refine((n) => n > 0 && Number.isFinite(n), 'must be more than 0 seconds'));

const path = z.string().check(z.minLength(1));

/** Every option of `nnpipe experiment`, once (see option-table.ts). */
export const EXPERIMENT_OPTIONS = {
  batchSizes: option('--batch-sizes <list>', 'rows per batch, comma-separated', positiveIntList('batch size'), {
    default: DEFAULT_BATCH_SIZES,
  }),
  threads: option(
    '--threads <list>',
    'worker threads, comma-separated (each 1 to 4 per core, at least 16)',
    positiveIntList('thread count', {
      max: maxThreads,
      maxMessage: (n) =>
        `must list thread counts of at most ${maxThreads}, the pool maximum (4 per core, at least 16): ${n} is too ` +
        `many`,
    }),
    { defaultText: '1 and the number of cores' },
  ),
  maxInFlight: option(
    '--max-in-flight <list>',
    'batches queued or running at once, comma-separated: a number, or Nx = N x threads',
    inFlightList,
    { default: DEFAULT_MAX_IN_FLIGHT },
  ),
  pool: choice(
    '--pool <mode>',
    'warm = one started pool per configuration, reused by every sample (plus one fresh-pool probe per thread count); ' +
      'fresh = every sample ' +
      'starts its own pool; ' +
      'both = the grid in both modes',
    POOL_CHOICES,
    { default: 'warm' },
  ),
  freshProbe: option(
    '--fresh-probe <batch size|auto|none>',
    'with --pool warm: the batch size of the fresh-pool probe per thread count (auto = the grid batch size nearest ' +
      '100)',
    freshProbeOption,
    { default: 'auto' },
  ),
  input: option('--input <file>', 'CSV of images, label first (measured as a whole, once per sample)', path, {
    defaultText: 'the MNIST test set (data/mnist_test.csv, prepared on first use)',
  }),
  model: option('--model <file>', `model file: ${MODEL_EXTENSIONS_TEXT}`, path, {
    defaultText: 'data/models/default.safetensors',
  }),
  out: option('--out <dir>', 'folder for experiment.json, experiment.csv and experiment.html', path, {
    defaultText: 'reports/experiment-<timestamp>',
  }),
  minSamples: option(
    '--min-samples <n>',
    'benchmark.js minSamples: passes measured per configuration at least',
    positiveInt,
    { default: DEFAULT_MIN_SAMPLES },
  ),
  maxTime: option(
    '--max-time <seconds>',
    'benchmark.js maxTime: after the first min-samples passes, keep sampling until the passes from the last of those ' +
      'on add up to more than this',
    positiveSeconds,
    { default: DEFAULT_MAX_TIME_S },
  ),
  logFormat: logFormatOption(),
  json: flag('--json', 'print the experiment JSON on stdout instead of the table'),
  quiet: flag('--quiet', 'no progress, no table; only warnings and errors'),
};

export function experimentCommand(): Command {
  const command = new Command('nnpipe experiment')
    .description(
      'Measure the inference pipeline over a grid of batch sizes x threads x max-in-flight with benchmark.js; ' +
        'print a table and write experiment.json, experiment.csv and a self-contained experiment.html with charts.',
    )
    .allowExcessArguments(false);
  return addOptions(command, EXPERIMENT_OPTIONS);
}

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
  logFormat: LogFormat;
  json: boolean;
  quiet: boolean;
}

/** Turns commander's parsed (string) options into validated options and the expanded grid. */
export function validateExperimentOptions(command: Command): ExperimentCliOptions {
  const given = validateOptions(command, EXPERIMENT_OPTIONS);
  const parsed = { ...given, threads: given.threads ?? defaultThreads().split(',').map(Number) } as typeof given & {
    batchSizes: number[];
    threads: number[];
    maxInFlight: InFlightSpec[];
    pool: PoolChoice;
    freshProbe: FreshProbe;
  };
  if (parsed.input === '-') {
    throw new UsageError('--input - (stdin) cannot be measured: every sample reads the input again; give a file');
  }
  if (command.getOptionValueSource('freshProbe') !== 'default' && parsed.pool !== 'warm') {
    throw new UsageError(
      `--fresh-probe applies to --pool warm only (--pool ${parsed.pool} measures fresh pools for every configuration)`,
    );
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
    input: parsed.input,
    model: parsed.model,
    out: parsed.out,
    minSamples: parsed.minSamples,
    maxTimeS: parsed.maxTime,
    logFormat: parsed.logFormat,
    json: parsed.json,
    quiet: parsed.quiet,
  };
}
