// The `nnpipe` / `npm run pipeline` command line: its options, defaults and validation.
import { Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import * as z from 'zod/mini';
import { ACTIVATIONS, OUTPUT_FUNCTIONS } from '../nn/types.js';
import { NORMALIZATIONS } from '../data/normalize.js';
import { MAX_TIMER_MS, memoryBudgetBytes, milliseconds, nonNegativeInt, oneOf, positiveInt, unitInterval } from './option-schemas.js';
import { parseOptions } from './parse-options.js';
import { UsageError } from '../errors.js';
import { PARSER_CHOICES, type ParserChoice } from '../data/source.js';
import { parseShardSpec, type ShardSpec } from '../data/shards.js';
import type { DecodePlacement } from '../../pipelines/inference.js';
import type { ColumnChoice } from '../data/columns.js';
import { DROP_COLUMNS_HELP, LABEL_COLUMN_HELP, parseColumnOptions } from './column-options.js';

const DECODE_CHOICES = ['auto', 'main', 'workers'] as const;
import { KERNEL_KINDS, type KernelKind } from '../nn/kernels/index.js';
import { batchCapacity } from '../nn/kernels/batch-capacity.js';
import { DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS } from '../jobs/run-lock.js';

/** How long the batches in flight may take to finish after the first SIGINT / SIGTERM. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** Generous: a batch of 100 rows takes about a millisecond; even 100,000 rows take well under a minute. */
export const DEFAULT_TASK_TIMEOUT_MS = 60_000;

/** More threads than this is a mistake, not a configuration (4 per core, at least 16). */
export const maxThreads = Math.max(16, 4 * availableParallelism());

export function pipelineCommand(): Command {
  const cores = availableParallelism();
  return new Command('nnpipe')
    .description('Score a CSV of images with a neural network on a pool of worker threads and report accuracy and speed.')
    .option('--input <file|->', 'CSV of images, label first (or a `label` column), or - for stdin', onceOnly('--input'), 'the MNIST test set (data/mnist_test.csv, prepared on first use)')
    .option('--model <file>', 'model file: .safetensors, .npz or the book\'s .pkl', 'data/models/default.safetensors')
    .option('--batch-size <n>', `rows per batch (at most what one worker can hold for the model: ${batchCapacity([784, 50, 100, 10]).maxRows} for 784-50-100-10)`, '100')
    .option('--threads <n>', `worker threads, 0..${maxThreads} (0: score on the main thread); auto = 0 for small inputs, else one per core (${cores})`, 'auto')
    .option('--max-in-flight <n>', 'batches queued or running at once (bounds memory)', '2 x threads')
    .addOption(new Option('--normalize <mode>', 'pixel scaling: unit = x/255, none = raw 0..255').choices(NORMALIZATIONS).default(undefined, "the model's, else unit"))
    .addOption(new Option('--activation <fn>', 'hidden-layer activation for models without metadata').choices(ACTIVATIONS).default(undefined, "the model's, else sigmoid"))
    .addOption(new Option('--output <fn>', 'output function for models without metadata').choices(OUTPUT_FUNCTIONS).default(undefined, "the model's, else softmax"))
    .addOption(new Option('--parser <name>', 'CSV decoder: fast = bytes straight into the batch, csv-parse = the general path (quoted fields), auto = fast unless the input needs csv-parse').choices(PARSER_CHOICES).default('auto'))
    .option('--label-column <name|index|none>', LABEL_COLUMN_HELP)
    .option('--drop-columns <list>', DROP_COLUMNS_HELP)
    .addOption(new Option('--decode <where>', 'where the fast parser decodes: workers (every core), main (the main thread), auto = workers when there are 2+ threads').choices(DECODE_CHOICES).default('auto'))
    .addOption(new Option('--kernel <engine>', 'forward-pass engine: native = the C++ addon built at install (AVX-512/AVX2/SSE2), wasm = WebAssembly SIMD, js = JavaScript, auto = native, else wasm, else js').choices(KERNEL_KINDS).default('auto'))
    .option('--limit <n>', 'score only the first n rows')
    .option('--shard <i/n>', 'score only shard i of n (1-based) of the input file: the lines that start in its i-th n-th by bytes; merge the reports with `nnpipe merge`')
    .addOption(new Option('--on-error <policy>', 'bad rows: fail = stop with exit 1, skip = leave them out and list them').choices(['fail', 'skip']).default('fail'))
    .option('--report <file>', 'write the JSON report here (atomically)')
    .option('--predictions <file>', 'write row,label,predicted,confidence per row, in input order')
    .option('--html <file>', 'write a self-contained HTML report here (charts, confusion heat map, mistakes as images; atomically)')
    .option('--min-accuracy <0..1>', 'exit 3 when accuracy is below this')
    .option('--history <file>', 'append one JSON line per run to this file (JSON Lines; see `npm run history`)')
    .option('--task-timeout <ms>', `a batch still running after this long counts as failed (its worker is replaced; the batch is retried once; at most ${MAX_TIMER_MS})`, String(DEFAULT_TASK_TIMEOUT_MS))
    .option('--stop-timeout <ms>', `after SIGINT/SIGTERM, wait this long for the batches in flight, then write the interrupted report (at most ${MAX_TIMER_MS})`, String(DEFAULT_STOP_TIMEOUT_MS))
    .option('--lock-stale <ms>', `a lock on an output file not refreshed for this long is taken over (its holder died; ${MIN_LOCK_STALE_MS}..${MAX_TIMER_MS})`, String(DEFAULT_LOCK_STALE_MS))
    .option('--json', 'print the report as one JSON document on stdout and nothing else', false)
    .option('--quiet', 'no progress bar, no summary, only warnings and errors', false)
    .allowExcessArguments(false);
}

/** An option's parser that refuses a second value (commander keeps only the last, silently). */
function onceOnly(flag: string): (value: string) => string {
  let given = false;
  return (value) => {
    if (given) throw new InvalidArgumentError(`${flag} is given more than once; one input per run`);
    given = true;
    return value;
  };
}

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

const rawSchema = z.object({
  input: z.string().check(z.minLength(1)),
  model: z.string().check(z.minLength(1)),
  batchSize: positiveInt,
  threads: z.union([z.literal('auto'), nonNegativeInt.check(z.refine((n) => n <= maxThreads, `must be at most ${maxThreads}`))]),
  maxInFlight: z.optional(positiveInt),
  normalize: z.optional(oneOf(NORMALIZATIONS)),
  activation: z.optional(oneOf(ACTIVATIONS)),
  output: z.optional(oneOf(OUTPUT_FUNCTIONS)),
  limit: z.optional(positiveInt),
  shard: z.optional(shardSpec),
  parser: oneOf(PARSER_CHOICES),
  labelColumn: z.optional(z.string()),
  dropColumns: z.optional(z.string()),
  kernel: oneOf(KERNEL_KINDS),
  decode: oneOf(DECODE_CHOICES),
  onError: oneOf(['fail', 'skip'] as const),
  report: z.optional(z.string().check(z.minLength(1))),
  predictions: z.optional(z.string().check(z.minLength(1))),
  html: z.optional(z.string().check(z.minLength(1))),
  minAccuracy: z.optional(unitInterval),
  history: z.optional(z.string().check(z.minLength(1))),
  stopTimeout: milliseconds,
  taskTimeout: milliseconds,
  lockStale: milliseconds.check(z.refine((n) => n >= MIN_LOCK_STALE_MS, `must be at least ${MIN_LOCK_STALE_MS}`)),
  json: z.boolean(),
  quiet: z.boolean(),
});

export interface PipelineCliOptions {
  /** null means the bundled MNIST test set. */
  input: string | null;
  /** null means the committed default model. */
  model: string | null;
  batchSize: number;
  /** 'auto': chosen per input (src/pool/threads.ts). */
  threads: number | 'auto';
  /** null: the default, 2 x the threads (at least 2), shrunk to fit memory (fitInFlight). */
  maxInFlight: number | null;
  normalize: 'unit' | 'none' | null;
  activation: (typeof ACTIVATIONS)[number] | null;
  output: (typeof OUTPUT_FUNCTIONS)[number] | null;
  limit: number | null;
  /** Score only this shard of the input (src/data/shards.ts), or null for the whole input. */
  shard: ShardSpec | null;
  parser: ParserChoice;
  /** --label-column / --drop-columns (src/data/columns.ts), or null: the layout is detected. */
  columns: ColumnChoice | null;
  kernel: KernelKind;
  /** null: choose by the thread count (see pipelines/inference.ts). */
  decode: DecodePlacement | null;
  onError: 'fail' | 'skip';
  report: string | null;
  predictions: string | null;
  /** The self-contained HTML report (src/html/run-page.ts), or null. */
  html: string | null;
  minAccuracy: number | null;
  /** The run history (src/jobs/history-file.ts), or null. */
  history: string | null;
  stopTimeoutMs: number;
  /** A batch running longer than this has failed (see ForwardPool). */
  taskTimeoutMs: number;
  lockStaleMs: number;
  json: boolean;
  quiet: boolean;
}

/** Turns commander's parsed (string) options into validated, typed options. */
export function validatePipelineOptions(command: Command): PipelineCliOptions {
  const raw = { ...command.opts() } as Record<string, unknown>;
  const isDefault = (name: string) => command.getOptionValueSource(name) === 'default';
  if (isDefault('maxInFlight')) delete raw.maxInFlight;
  const parsed = parseOptions(rawSchema, raw);
  const columns = parseColumnOptions(parsed.labelColumn, parsed.dropColumns);
  if (parsed.shard) checkShardOptions(parsed, isDefault('input'));
  if (parsed.shard && columns) throw new UsageError('--shard does not take --label-column or --drop-columns yet: every shard reads the layout the file\'s first record fixes');
  // Outputs that are the same file (also through links) are refused by checkOutputs, which looks at the
  // file system (src/output/check-outputs.ts); this is only the syntax.
  return {
    input: isDefault('input') ? null : parsed.input,
    model: isDefault('model') ? null : parsed.model,
    batchSize: parsed.batchSize,
    threads: parsed.threads,
    maxInFlight: parsed.maxInFlight ?? null,
    normalize: parsed.normalize ?? null,
    activation: parsed.activation ?? null,
    output: parsed.output ?? null,
    limit: parsed.limit ?? null,
    shard: parsed.shard ?? null,
    parser: parsed.parser,
    columns,
    kernel: parsed.kernel,
    decode: parsed.decode === 'auto' ? null : parsed.decode,
    onError: parsed.onError,
    report: parsed.report ?? null,
    predictions: parsed.predictions ?? null,
    html: parsed.html ?? null,
    minAccuracy: parsed.minAccuracy ?? null,
    history: parsed.history ?? null,
    stopTimeoutMs: parsed.stopTimeout,
    taskTimeoutMs: parsed.taskTimeout,
    lockStaleMs: parsed.lockStale,
    json: parsed.json,
    quiet: parsed.quiet,
  };
}

/** --shard cuts a file by bytes and counts every row of its part: no stdin, no --limit, no csv-parse. */
function checkShardOptions(parsed: { input: string; limit?: number; parser: ParserChoice }, defaultInput: boolean): void {
  if (!defaultInput && parsed.input === '-') throw new UsageError('--shard needs a file: --input - (stdin) cannot be cut into shards');
  if (parsed.limit !== undefined) throw new UsageError('--shard and --limit do not go together: --limit counts rows from the start of the whole input');
  if (parsed.parser === 'csv-parse') throw new UsageError('--shard reads with the fast parser: --parser csv-parse reads records across lines, which cannot be cut at line starts');
}

/**
 * --batch-size against the model: one worker must be able to hold a whole batch (see
 * src/nn/kernels/batch-capacity.ts). Checked once the model is loaded, before any row is read.
 */
export function checkBatchSizeForModel(batchSize: number, layerSizes: readonly number[], option = '--batch-size'): void {
  const { maxRows, bytesPerRow, budgetBytes } = batchCapacity(layerSizes);
  if (batchSize <= maxRows) return;
  throw new UsageError(
    `${option} ${batchSize} is more than one worker can hold for this model (${layerSizes.join('-')}): at most ${maxRows} rows ` +
      `(${bytesPerRow} bytes of engine memory per row, ${budgetBytes / 2 ** 20} MiB per worker)`,
  );
}

/** Bytes per batch in flight, and how many batches fit the budget (at least 1). */
function inFlightCapacity(batchSize: number, layerSizes: readonly number[]): { perBatch: number; most: number; budget: number } {
  const perBatch = 2 * batchSize * layerSizes[0] * 4 * 2;
  const budget = memoryBudgetBytes();
  return { perBatch, most: Math.max(1, Math.floor(budget / perBatch)), budget };
}

/** The batches in flight for this model and thread count: a given --max-in-flight checked, the default shrunk to fit. */
export function fitInFlight(options: Pick<PipelineCliOptions, 'maxInFlight' | 'batchSize'>, threads: number, layerSizes: readonly number[]): number {
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
export function checkInFlightForModel(maxInFlight: number, batchSize: number, layerSizes: readonly number[], option = '--max-in-flight'): void {
  const { perBatch, most, budget } = inFlightCapacity(batchSize, layerSizes);
  if (maxInFlight <= most) return;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  throw new UsageError(
    `${option} ${maxInFlight} would hold up to ${gib(maxInFlight * perBatch)} GiB of batches in memory (${perBatch} bytes per batch of ${batchSize} rows of ${layerSizes[0]} values); ` +
      `half of this machine's memory is ${gib(budget)} GiB: at most ${most} batches in flight at this batch size`,
  );
}
