// The pipeline command: validate options, prepare the input and the model, run the pipeline with a
// progress bar, print the summary (or the JSON report), write files, and choose the exit code.
import { CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { loadModel } from '../nn/load-model.js';
import type { LoadedModel } from '../nn/types.js';
import { mnistCsvPath, prepareMnistCsv } from '../data/mnist.js';
import { defaultModelPath } from '../paths.js';
import { writeJsonAtomic } from '../stats/atomic-write.js';
import { formatSummary } from '../stats/summary-text.js';
import type { PipelineReport } from '../stats/report.js';
import { runInference } from '../../pipelines/inference.js';
import { RunPageCollector, writeRunPage } from '../html/run-collector.js';
import { createLogger, type Logger } from './logger.js';
import { createProgress } from './progress.js';
import { pipelineCommand, validatePipelineOptions, type PipelineCliOptions } from './pipeline-options.js';
import { handleStopSignals } from './stop-signals.js';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

/** Runs the command and returns the exit code (0 ok, 1 failed, 2 usage, 3 below --min-accuracy, 130/143 interrupted). */
export async function runPipelineCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const command = pipelineCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  let options: PipelineCliOptions;
  try {
    command.parse(argv, { from: 'user' });
    options = validatePipelineOptions(command);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`nnpipe: ${error.message}\n(run with --help for usage)\n`);
      return ExitCode.usage;
    }
    throw error;
  }

  const log = createLogger({ name: 'nnpipe', quiet: options.quiet });
  try {
    return await runWithOptions(options, io, log);
  } catch (error) {
    if (error instanceof PipelineError) {
      io.stderr.write(`nnpipe: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`nnpipe: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.failed;
  }
}

async function resolveInput(options: PipelineCliOptions, log: Logger): Promise<string> {
  if (options.input === '-') return '-';
  if (options.input !== null) {
    const path = resolve(options.input);
    if (!existsSync(path)) throw new PipelineError('PIPE_ERR_INPUT', `${options.input}: no such file`);
    return path;
  }
  const path = mnistCsvPath('test');
  if (!existsSync(path)) {
    log.info({ path }, 'preparing the MNIST test set as CSV (first use)');
    await prepareMnistCsv('test');
  }
  return path;
}

async function resolveModel(options: PipelineCliOptions): Promise<LoadedModel> {
  const path = options.model === null ? defaultModelPath : resolve(options.model);
  if (!existsSync(path)) {
    const which = options.model === null ? 'the default model' : 'the model';
    throw new PipelineError('PIPE_ERR_MODEL_MISSING', `${path}: ${which} file does not exist (give one with --model <file>)`);
  }
  return loadModel(path, { activation: options.activation ?? undefined, output: options.output ?? undefined });
}

/** An output file must never overwrite the input or the model. */
function refuseOverwrites(options: PipelineCliOptions, input: string, model: LoadedModel): void {
  const protectedPaths = new Map([[resolve(model.path), 'the model']]);
  if (input !== '-') protectedPaths.set(resolve(input), 'the input');
  for (const [flag, value] of [['--report', options.report], ['--predictions', options.predictions], ['--html', options.html]] as const) {
    if (value === null) continue;
    const what = protectedPaths.get(resolve(value));
    if (what) throw new UsageError(`${flag} ${value} is ${what} file; refusing to overwrite it`);
  }
}

async function runWithOptions(options: PipelineCliOptions, io: CliIo, log: Logger): Promise<number> {
  const model = await resolveModel(options);
  const input = await resolveInput(options, log);
  refuseOverwrites(options, input, model);
  const metadataNormalize = model.normalize;
  const normalize = options.normalize ?? metadataNormalize ?? 'unit';
  if (options.normalize && metadataNormalize && options.normalize !== metadataNormalize) {
    log.warn({ model: model.path, recorded: metadataNormalize, used: options.normalize }, '--normalize overrides the normalisation recorded in the model');
  }
  for (const [flag, value, used] of [
    ['--activation', options.activation, model.network.activation],
    ['--output', options.output, model.network.output],
  ] as const) {
    const recorded = model.metadata[flag.slice(2)];
    if (value && recorded && recorded !== value) log.warn({ recorded, used }, `${flag} overrides the model's metadata`);
  }

  const config = {
    input,
    model: model.path,
    batchSize: options.batchSize,
    threads: options.threads,
    maxInFlight: options.maxInFlight,
    normalize,
    activation: model.network.activation,
    output: model.network.output,
    limit: options.limit,
    onError: options.onError,
    report: options.report,
    predictions: options.predictions,
    html: options.html,
    minAccuracy: options.minAccuracy,
  };
  log.info({ input, model: model.path, layers: model.layerSizes.join('-'), batchSize: options.batchSize, threads: options.threads }, 'scoring');

  // --html: bounded collectors fed every scored batch (created here: the throughput timeline starts now).
  const htmlPage = options.html === null ? null : RunPageCollector.forModel(model, normalize);
  const progress = createProgress({ enabled: !options.quiet, label: 'scoring', stream: io.stderr });
  const stop = handleStopSignals({
    onFirst: (signal) => {
      progress.stop();
      log.warn({ signal }, 'stopping: finishing the batches in flight (send it again to exit at once)');
    },
  });
  let outcome;
  try {
    outcome = await runInference({
      input,
      stdin: io.stdin,
      model,
      batchSize: options.batchSize,
      threads: options.threads,
      maxInFlight: options.maxInFlight,
      normalize,
      limit: options.limit,
      onError: options.onError,
      predictionsPath: options.predictions,
      signal: stop.signal,
      config,
      onProgress: (p) => progress.update(p),
      onBatch: htmlPage?.onBatch,
    });
  } finally {
    progress.stop();
    stop.dispose();
  }
  const { report } = outcome;
  if (options.report) await writeJsonAtomic(options.report, report);
  if (htmlPage && options.html) await writeRunPage(options.html, report, htmlPage);

  if (options.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else if (!options.quiet) io.stdout.write(`${formatSummary(report, { color: Boolean(io.stdout.isTTY) && !process.env.NO_COLOR })}\n`);

  return exitCodeFor(report, options, io, stop.received);
}

function exitCodeFor(report: PipelineReport, options: PipelineCliOptions, io: CliIo, signal: NodeJS.Signals | null): number {
  if (report.status === 'failed') {
    io.stderr.write(`nnpipe: ${report.error?.message ?? 'the run failed'}\n`);
    return ExitCode.failed;
  }
  if (report.status === 'interrupted') return signal === 'SIGTERM' ? 143 : 130;
  if (options.minAccuracy !== null) {
    if (report.accuracy === null) {
      io.stderr.write('nnpipe: --min-accuracy was given but the input has no labels\n');
      return ExitCode.belowMinAccuracy;
    }
    if (report.accuracy < options.minAccuracy) {
      io.stderr.write(`nnpipe: accuracy ${report.accuracy} is below --min-accuracy ${options.minAccuracy}\n`);
      return ExitCode.belowMinAccuracy;
    }
  }
  return ExitCode.ok;
}
