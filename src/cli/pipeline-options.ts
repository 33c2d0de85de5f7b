// The `nnpipe` pipeline command line: its options (one table, PIPELINE_OPTIONS), defaults and validation.
// To add an option: one entry in PIPELINE_OPTIONS (see option-table.ts); `nnpipe submit` shares the table.
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as z from 'zod/mini';
import { ACTIVATIONS, OUTPUT_FUNCTIONS } from '../nn/types.js';
import { NORMALIZATIONS } from '../data/normalize.js';
import {
  MAX_TIMER_MS,
  memoryBudgetBytes,
  milliseconds,
  nonNegativeInt,
  positiveInt,
  unitInterval,
} from './option-schemas.js';
import { addOptions, choice, flag, option, validateOptions, type OptionValues } from './option-table.js';
import { UsageError } from '../errors.js';
import { PARSER_CHOICES, type ParserChoice } from '../data/source.js';
import { parseShardSpec } from '../data/shards.js';
import { DECODE_CHOICES } from '../../pipelines/inference.js';
import { KERNEL_KINDS } from '../nn/kernels/index.js';
import { PREDICTIONS_FORMATS, predictionsFormatFor, type PredictionsFormat } from '../stats/predictions-format.js';
import { STDOUT_PATH } from '../output/target.js';
import type { ColumnChoice } from '../data/columns.js';
import { DROP_COLUMNS_HELP, LABEL_COLUMN_HELP, parseColumnOptions } from './column-options.js';
import { batchCapacity } from '../nn/kernels/batch-capacity.js';
import { MODEL_EXTENSIONS_TEXT } from '../nn/model-files/index.js';
import { expandInputPatterns } from './input-globs.js';
import { DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS } from '../jobs/run-lock.js';
import { EXIT_CODE_MEANINGS } from '../errors.js';
import { logFormatOption } from './logger.js';
import { commandName } from './usage.js';

/** How long the batches in flight may take to finish after the first SIGINT / SIGTERM. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** Generous: a batch of 100 rows takes about a millisecond; even 100,000 rows take well under a minute. */
export const DEFAULT_TASK_TIMEOUT_MS = 60_000;

/** More threads than this is a mistake, not a configuration (4 per core, at least 16). */
export const maxThreads = Math.max(16, 4 * availableParallelism());

/** "i/n": shard i (1-based) of n. */
const shardSpec = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    const spec = parseShardSpec(text);
    if ('problem' in spec) {
      ctx.issues.push({ code: 'custom', message: spec.problem, input: text });
      return z.NEVER;
    }
    return spec;
  }),
);

const path = z.string().check(z.minLength(1));

/**
 * Every option of the pipeline, once. `config`: the key of the report's `config` that records it (the
 * run fills in effective values where it settles them: paths, threads, the model's defaults).
 */
export const PIPELINE_OPTIONS = {
  input: option(
    '--input <files...>',
    'CSV of images, label first (or a `label` column), plain or gzip, or - for stdin; several files (repeated, or ' +
      'a glob, expanded here when quoted) are scored as one run, in order',
    z.array(path).check(z.minLength(1)),
    { defaultText: 'the MNIST test set (data/mnist_test.csv, prepared on first use)', config: 'input' },
  ),
  model: option('--model <file>', `model file: ${MODEL_EXTENSIONS_TEXT}`, path, {
    defaultText: 'data/models/default.safetensors',
    config: 'model',
  }),
  batchSize: option(
    '--batch-size <n>',
    `rows per batch (at most what one worker can hold for the model: ${batchCapacity([784, 50, 100, 10]).maxRows} ` +
      `for 784-50-100-10)`,
    positiveInt,
    { default: 100, config: 'batchSize' },
  ),
  threads: option(
    '--threads <n>',
    'worker threads, 0 (the main thread) to max(16, 4 per core); auto = 0 when the input is under ~1 s of work, else ' +
      'one per core',
    z.union([
      z.literal('auto'),
      nonNegativeInt.check(z.refine((n) => n <= maxThreads, `must be at most ${maxThreads}`)),
    ]),
    { default: 'auto', config: 'threads' },
  ),
  maxInFlight: option(
    '--max-in-flight <n>',
    'batches queued or running at once; reading pauses at the limit, so memory stays flat (at most half the memory)',
    positiveInt,
    { defaultText: '2 x threads, fitted to memory', config: 'maxInFlight' },
  ),
  normalize: choice('--normalize <mode>', 'pixel scaling: unit = x/255, none = raw 0..255', NORMALIZATIONS, {
    defaultText: "the model's, else unit",
    config: 'normalize',
  }),
  activation: choice('--activation <fn>', 'hidden-layer activation: sigmoid, relu, step or identity', ACTIVATIONS, {
    defaultText: "the model's, else sigmoid",
    config: 'activation',
  }),
  output: choice('--output <fn>', 'output function: softmax, sigmoid or identity', OUTPUT_FUNCTIONS, {
    defaultText: "the model's, else softmax",
    config: 'output',
  }),
  parser: choice(
    '--parser <name>',
    'CSV decoder: fast = bytes to floats, csv-parse = the general path, auto = fast unless the input needs csv-parse',
    PARSER_CHOICES,
    { default: 'auto', config: 'parser' },
  ),
  // Plain strings: column-options.ts says what is wrong with a value (an empty one included).
  labelColumn: option('--label-column <name|index|none>', LABEL_COLUMN_HELP, z.string(), {
    defaultText: 'detected',
    config: 'labelColumn',
  }),
  dropColumns: option('--drop-columns <list>', DROP_COLUMNS_HELP, z.string(), { config: 'dropColumns' }),
  decode: choice(
    '--decode <where>',
    'where the fast parser decodes: workers, main (the main thread), auto = workers when there are workers',
    DECODE_CHOICES,
    { default: 'auto', config: 'decode' },
  ),
  kernel: choice(
    '--kernel <engine>',
    'forward pass: native = C++ addon (AVX-512/AVX2/SSE2), wasm = WebAssembly SIMD, js = JavaScript, auto = the ' +
      'first that loads',
    KERNEL_KINDS,
    { default: 'auto', config: 'kernel' },
  ),
  limit: option(
    '--limit <n>',
    'score only the first n good rows (under --on-error skip, bad rows are left out and not counted)',
    positiveInt,
    { defaultText: 'all', config: 'limit' },
  ),
  shard: option(
    '--shard <i/n>',
    'score only shard i of n (1-based) of the input file, cut by bytes at line starts; merge with `nnpipe merge`',
    shardSpec,
    { defaultText: 'the whole input', config: 'shard' },
  ),
  onError: choice(
    '--on-error <policy>',
    'bad rows: fail = stop with exit 1, skip = leave them out and list them',
    ['fail', 'skip'],
    { default: 'fail', config: 'onError' },
  ),
  report: option('--report <file>', 'write the JSON report here (atomically)', path, { config: 'report' }),
  predictions: option(
    '--predictions <file|->',
    'write line,row,label,predicted,confidence per scored row, in input order (- for stdout: the summary then goes ' +
      'to stderr)',
    path,
    { config: 'predictions' },
  ),
  predictionsFormat: choice('--predictions-format <format>', 'csv or jsonl (JSON Lines)', PREDICTIONS_FORMATS, {
    defaultText: 'by the --predictions name (.jsonl/.ndjson: jsonl), else csv',
    config: 'predictionsFormat',
  }),
  probabilities: flag(
    '--probabilities',
    "add every row's output vector to the predictions (p0..pK-1 columns; a `probabilities` array in jsonl)",
    { config: 'probabilities' },
  ),
  html: option(
    '--html <file>',
    'write a self-contained HTML report here (charts, confusion heat map, mistakes as images; atomically)',
    path,
    { config: 'html' },
  ),
  minAccuracy: option(
    '--min-accuracy <0..1>',
    'exit 3 when accuracy is below this, or when the input has no labels to measure it',
    unitInterval,
    { config: 'minAccuracy' },
  ),
  history: option(
    '--history <file>',
    'append one JSON line per run to this file (JSON Lines; see `nnpipe history`)',
    path,
    { config: 'history' },
  ),
  taskTimeout: option(
    '--task-timeout <ms>',
    `a batch still running after this long counts as failed (its worker is replaced; the batch is retried once; at ` +
      `most ${MAX_TIMER_MS})`,
    milliseconds,
    { default: DEFAULT_TASK_TIMEOUT_MS, config: 'taskTimeoutMs' },
  ),
  stopTimeout: option(
    '--stop-timeout <ms>',
    `after SIGINT/SIGTERM, wait this long for the batches in flight, then write the interrupted report (at most ` +
      `${MAX_TIMER_MS})`,
    milliseconds,
    { default: DEFAULT_STOP_TIMEOUT_MS },
  ),
  lockStale: option(
    '--lock-stale <ms>',
    `a lock on an output file not refreshed for this long is taken over (its holder died; ${MIN_LOCK_STALE_MS}` +
      `..${MAX_TIMER_MS})`,
    milliseconds.check(z.refine((n) => n >= MIN_LOCK_STALE_MS, `must be at least ${MIN_LOCK_STALE_MS}`)),
    { default: DEFAULT_LOCK_STALE_MS },
  ),
  logFormat: logFormatOption(),
  json: flag('--json', 'print the report as one JSON document on stdout and nothing else'),
  quiet: flag('--quiet', 'no progress bar, no summary, no "wrote FILE" notes; only warnings and errors'),
};

const exitCodeHelp = Object.entries(EXIT_CODE_MEANINGS)
  .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
  .join('\n');

/** What --help says after the options: where the defaults come from, and the exit codes. */
export const PIPELINE_HELP_AFTER =
  "\nA model file's metadata (activation, output, normalize) sets the defaults of --activation, --output and\n" +
  '--normalize; an option given on the command line overrides it (with a warning when they differ).\n' +
  'With --min-accuracy, an input without labels cannot be measured: exit 3.\n\n' +
  `Exit codes:\n${exitCodeHelp}\n`;

export function pipelineCommand(): Command {
  const command = new Command(commandName('pipeline'))
    .description(
      'Score a CSV of images with a neural network on a pool of worker threads and report accuracy and speed.',
    )
    .allowExcessArguments(false)
    .addHelpText('after', PIPELINE_HELP_AFTER);
  return addOptions(command, PIPELINE_OPTIONS);
}

/** The table's values, with the predictions' target settled: `-` is stdout, the format is known. */
export type PipelineCliOptions = Omit<OptionValues<typeof PIPELINE_OPTIONS>, 'predictionsFormat' | 'input'> & {
  /** The --input given (of several: the first), null: the default. */
  input: string | null;
  /** Every --input given, in order (empty: the default). */
  inputs: string[];
  /** --label-column / --drop-columns (src/data/columns.ts), or null: the layout is detected. */
  columns: ColumnChoice | null;
  /**
   * `--predictions -`: stdout carries the predictions only (`predictions` is then /dev/stdout), the summary goes to
   * stderr.
   */
  predictionsToStdout: boolean;
  /** By --predictions-format, else by the file's name (src/stats/predictions-format.ts). */
  predictionsFormat: PredictionsFormat;
};

/** Turns commander's parsed (string) options into validated, typed options (null: not given, the default applies). */
export function validatePipelineOptions(command: Command): PipelineCliOptions {
  const given = validateOptions(command, PIPELINE_OPTIONS);
  checkPredictionsOptions(given);
  const inputs = expandInputPatterns(given.input ?? []);
  if (inputs.length > 1 && inputs.includes('-'))
    throw new UsageError('--input - (stdin) must be the only input: it cannot be scored together with files');
  const options: PipelineCliOptions = {
    ...given,
    input: inputs[0] ?? null,
    inputs,
    predictions: given.predictions === '-' ? STDOUT_PATH : given.predictions,
    predictionsToStdout: given.predictions === '-',
    predictionsFormat: predictionsFormatFor(given.predictions ?? '-', given.predictionsFormat),
    columns: parseColumnOptions(given.labelColumn ?? undefined, given.dropColumns ?? undefined),
  };
  if (options.shard !== null) checkShardOptions(options);
  // Outputs that are the same file (also through links) are refused by checkOutputs, which looks at the
  // file system (src/output/check-outputs.ts); this is only the syntax.
  return options;
}

/** --predictions-format and --probabilities shape a predictions file; --json owns stdout. */
function checkPredictionsOptions(given: {
  predictions: string | null;
  predictionsFormat: string | null;
  probabilities: boolean;
  json: boolean;
}): void {
  if (given.predictions === null) {
    if (given.predictionsFormat !== null)
      throw new UsageError('--predictions-format needs --predictions FILE (or - for stdout)');
    if (given.probabilities) throw new UsageError('--probabilities needs --predictions FILE (or - for stdout)');
  }
  if (given.predictions === '-' && given.json) {
    throw new UsageError(
      '--predictions - and --json both want stdout: write the predictions to a file, or the report with --report FILE',
    );
  }
}

/** --shard cuts a file by bytes and counts every row of its part: no stdin, no --limit, no csv-parse. */
function checkShardOptions(parsed: {
  input: string | null;
  inputs: string[];
  limit: number | null;
  parser: ParserChoice;
  columns: ColumnChoice | null;
}): void {
  if (parsed.columns !== null)
    throw new UsageError(
      "--shard does not take --label-column or --drop-columns yet: every shard reads the layout the file's first " +
        'record fixes',
    );
  if (parsed.input === '-') throw new UsageError('--shard needs a file: --input - (stdin) cannot be cut into shards');
  if (parsed.inputs.length > 1)
    throw new UsageError(
      `--shard cuts one file: it cannot be used with ${parsed.inputs.length} --input files (score them whole as one ` +
        'run, or shard each file in runs of its own)',
    );
  if (parsed.limit !== null)
    throw new UsageError(
      '--shard and --limit do not go together: --limit counts rows from the start of the whole input',
    );
  if (parsed.parser === 'csv-parse')
    throw new UsageError(
      '--shard reads with the fast parser: --parser csv-parse reads records across lines, which cannot be cut at ' +
        'line starts',
    );
}

/**
 * --batch-size against the model: one worker must be able to hold a whole batch (see
 * src/nn/kernels/batch-capacity.ts). Checked once the model is loaded, before any row is read.
 */
export function checkBatchSizeForModel(
  batchSize: number,
  layerSizes: readonly number[],
  option = '--batch-size',
): void {
  const { maxRows, bytesPerRow, budgetBytes } = batchCapacity(layerSizes);
  if (batchSize <= maxRows) return;
  throw new UsageError(
    `${option} ${batchSize} is more than one worker can hold for this model (${layerSizes.join('-')}` +
      `): at most ${maxRows} rows ` +
      `(${bytesPerRow} bytes of engine memory per row, ${budgetBytes / 2 ** 20} MiB per worker)`,
  );
}

/** Bytes per batch in flight, and how many batches fit the budget (at least 1). */
function inFlightCapacity(
  batchSize: number,
  layerSizes: readonly number[],
): { perBatch: number; most: number; budget: number } {
  const perBatch = 2 * batchSize * layerSizes[0] * 4 * 2;
  const budget = memoryBudgetBytes();
  return { perBatch, most: Math.max(1, Math.floor(budget / perBatch)), budget };
}

/**
 * The batches in flight for this model and thread count: a given --max-in-flight checked, the default shrunk to fit.
 */
export function fitInFlight(
  options: Pick<PipelineCliOptions, 'maxInFlight' | 'batchSize'>,
  threads: number,
  layerSizes: readonly number[],
): number {
  if (options.maxInFlight !== null) {
    checkInFlightForModel(options.maxInFlight, options.batchSize, layerSizes);
    return options.maxInFlight;
  }
  return Math.min(2 * Math.max(threads, 1), inFlightCapacity(options.batchSize, layerSizes).most);
}

/**
 * --max-in-flight against the memory it asks for: every batch in flight holds its rows as text in the
 * chunks it was read into and, decoded, 4 bytes per input value (under skip, a decoded block and its
 * batch); counted twice over as a margin. That must fit in half the machine's memory; checked with
 * --batch-size once the model is loaded.
 */
export function checkInFlightForModel(
  maxInFlight: number,
  batchSize: number,
  layerSizes: readonly number[],
  option = '--max-in-flight',
): void {
  const { perBatch, most, budget } = inFlightCapacity(batchSize, layerSizes);
  if (maxInFlight <= most) return;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  throw new UsageError(
    `${option} ${maxInFlight} would hold up to ${gib(maxInFlight * perBatch)} GiB of batches in memory (${perBatch}` +
      ` bytes per batch of ${batchSize}` +
      ` rows of ${layerSizes[0]} values); ` +
      `half of this machine's memory is ${gib(budget)} GiB: at most ${most} batches in flight at this batch size`,
  );
}
