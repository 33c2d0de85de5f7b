// The pipeline command: validate options, prepare the input and the model, run the pipeline with a
// progress bar, print the summary (or the JSON report), write files, and choose the exit code.
import type { Normalization } from '../data/normalize.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { checkOutputs, stdinFileId, type ProtectedFile } from '../output/check-outputs.js';
import { checkHistoryFile, NotAHistoryError } from '../jobs/history-file.js';
import { PredictionsWriter } from '../stats/predictions-writer.js';
import { loadModel } from '../nn/load-model.js';
import type { LoadedModel } from '../nn/types.js';
import { mnistCsvPath } from '../data/mnist.js';
import { defaultModelPath } from '../paths.js';
import { writeJsonAtomic } from '../output/write-file.js';
import { formatSummary } from '../stats/summary-text.js';
import type { PipelineReport } from '../stats/report.js';
import { runInference } from '../../pipelines/inference.js';
import { ForwardPool } from '../pool/forward-pool.js';
import type { RunPageCollector } from '../html/run-collector.js';
import { createLogger, type Logger } from './logger.js';
import { createProgress } from './progress.js';
import {
  checkBatchSizeForModel,
  fitInFlight,
  PIPELINE_OPTIONS,
  pipelineCommand,
  validatePipelineOptions,
  type PipelineCliOptions,
} from './pipeline-options.js';
import { recordedConfig } from './option-table.js';
import { checkDistinctInputs, resolveInputs } from './resolve-input.js';
import { handleStopSignals } from './stop-signals.js';
import { JobRun } from '../jobs/job-run.js';
import { RunSoFar } from '../jobs/run-so-far.js';
import { RunStats } from '../stats/run-stats.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';
import type { ProgressDisplay } from './progress.js';
import { forCli, usageExitCode } from './usage.js';
import { inputSizeBytes } from '../data/input-size.js';
import { isGzipFile } from '../data/input-bytes.js';
import { chooseThreads } from '../pool/threads.js';
import { shardSpan, type ShardSpec } from '../data/shards.js';
import { defaultMaxRecordBytes, readFailure } from '../data/source-options.js';
import { exitCodeForReport } from './report-exit.js';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
  /** Where the log lines go; default the process's stderr (the scheduler's runs share its log stream). */
  logs?: NodeJS.WriteStream;
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

/**
 * For tests only, and only reachable from code (no flag or environment variable turns it on): a
 * substitute worker module that injects faults, and the workerData it reads them from.
 */
export interface PipelineTestHooks {
  workerFile?: URL;
  workerData?: Record<string, unknown>;
}

/**
 * Runs the command and returns the exit code (0 ok, 1 failed, 2 usage, 3 below --min-accuracy, 75 another
 * run holds the lock on an output file, 130/143 interrupted). Safe to call repeatedly in one process (the
 * scheduler does): signal handlers, the worker pool, the lock and its timers are all gone when it returns.
 */
export async function runPipelineCli(
  argv: string[],
  io: CliIo = defaultIo(),
  hooks: PipelineTestHooks = {},
): Promise<number> {
  const command = forCli(pipelineCommand(), io, 'nnpipe');
  let options: PipelineCliOptions;
  try {
    command.parse(argv, { from: 'user' });
    options = validatePipelineOptions(command);
  } catch (error) {
    return usageExitCode(error, 'nnpipe', io.stderr);
  }

  const log = createLogger({ name: 'nnpipe', quiet: options.quiet, stream: io.logs, format: options.logFormat });
  // The job: the lock on every output file first (a second run on the same files exits 75 at once),
  // and one history line at the end, whatever the outcome. Outputs that would overwrite the input, the
  // model or each other, or that cannot be written at all, are refused before that (exit 2): nothing,
  // not even a lock or a history line, may touch them. From then on the outputs are named by their
  // real paths (symlinks followed): what was checked and locked is what is written.
  const { modelPath, inputPath } = runInputs(options);
  let job: JobRun;
  try {
    await checkDistinctInputs(options.inputs);
    options = await checkRunOutputs(options, io.stdin);
    job = await JobRun.begin({
      outputs: [options.report, options.predictions, options.html],
      history: options.history,
      lockStaleMs: options.lockStale,
      minAccuracy: options.minAccuracy,
      modelPath,
      inputPath,
      log,
      stderr: io.stderr,
    });
  } catch (error) {
    return exitCodeForError(error, io);
  }
  let code: number;
  try {
    code = await runWithOptions(options, io, log, job, hooks);
  } catch (error) {
    job.noteError(error);
    code = exitCodeForError(error, io);
  }
  const finished = await job.finish(code);
  if (job.historyAppended && !options.quiet) io.stderr.write(`nnpipe: wrote ${options.history} (one line appended)\n`);
  return finished;
}

function exitCodeForError(error: unknown, io: CliIo): number {
  if (error instanceof PipelineError) {
    io.stderr.write(`nnpipe: ${error.message}\n`);
    return error.exitCode;
  }
  io.stderr.write(`nnpipe: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  return ExitCode.failed;
}

async function resolveModel(options: PipelineCliOptions): Promise<LoadedModel> {
  const path = options.model === null ? defaultModelPath : resolve(options.model);
  if (!existsSync(path)) {
    const which = options.model === null ? 'the default model' : 'the model';
    throw new PipelineError(
      'PIPE_ERR_MODEL_MISSING',
      `${path}: ${which} file does not exist (give one with --model <file>)`,
    );
  }
  return loadModel(path, { activation: options.activation ?? undefined, output: options.output ?? undefined });
}

/** The files a run reads: the model and the input ('-' for stdin), defaults filled in. */
function runInputs(options: PipelineCliOptions): { modelPath: string; inputPath: string } {
  return {
    modelPath: options.model === null ? defaultModelPath : resolve(options.model),
    inputPath: options.input === null ? mnistCsvPath('test') : options.input === '-' ? '-' : resolve(options.input),
  };
}

/**
 * The outputs, checked (src/output/check-outputs.ts: identity with the input, the model and each other;
 * directories, missing folders; a --history that is not a history) and replaced by their real paths.
 */
export async function checkRunOutputs(
  options: PipelineCliOptions,
  stdin: NodeJS.ReadableStream | null = null,
): Promise<PipelineCliOptions> {
  const { modelPath, inputPath: input } = runInputs(options);
  const named = (['report', 'predictions', 'html', 'history'] as const).filter((key) => options[key] !== null);
  const inputs: ProtectedFile[] = [
    { option: '--model', shown: options.model ?? modelPath, what: 'the model', path: modelPath },
  ];
  if (options.inputs.length > 1)
    for (const given of options.inputs)
      inputs.push({ option: '--input', shown: given, what: 'an input', path: resolve(given) });
  else if (input !== '-')
    inputs.push({ option: '--input', shown: options.input ?? input, what: 'the input', path: input });
  else if (stdin === process.stdin)
    inputs.push({ option: '--input -', shown: '(stdin)', what: 'the input', path: null, id: stdinFileId() });
  const targets = await checkOutputs(
    named.map((key) => ({ option: `--${key}`, path: options[key]! })),
    inputs,
  );
  const resolved = { ...options };
  named.forEach((key, i) => (resolved[key] = targets[i].path));
  if (resolved.history !== null) {
    try {
      checkHistoryFile(resolved.history);
    } catch (error) {
      if (error instanceof NotAHistoryError)
        throw new UsageError(
          `--history ${options.history} is not a run history (${error.problem}); refusing to append to it`,
        );
      throw error;
    }
  }
  return resolved;
}

async function runWithOptions(
  options: PipelineCliOptions,
  io: CliIo,
  log: Logger,
  job: JobRun,
  hooks: PipelineTestHooks,
): Promise<number> {
  // Stop signals are watched from the start, so a stop while the model loads also ends with an interrupted
  // report, the history line and 130 / 143. After the first signal the batches in flight have
  // --stop-timeout ms to finish; a second signal exits at once (after a last, synchronous history line).
  const current: RunInProgress = { progress: null, soFar: null };
  let stopTimedOut = () => {};
  const stopTimeout = new Promise<'stop-timeout'>((resolve) => (stopTimedOut = () => resolve('stop-timeout')));
  const stop = handleStopSignals({
    onFirst: (signal) => {
      job.signal = signal;
      current.progress?.stop();
      log.warn(
        { signal, stopTimeoutMs: options.stopTimeout },
        'stopping: finishing the batches in flight (send it again to exit at once)',
      );
    },
    timeoutMs: options.stopTimeout,
    onTimeout: () => stopTimedOut(),
    onSecond: (signal, code) => {
      const forced = {
        code: 'PIPE_ERR_FORCED_STOP',
        message: `a second ${signal} ended the run at once; no report was written`,
      };
      job.report ??= current.soFar?.report(forced) ?? null;
      // Also when the run had already built its report (it was being written): none was.
      job.error ??= forced;
      job.finishForcedSync(code);
    },
  });
  try {
    return await scoreAndReport(options, io, log, job, { stop, stopTimeout, current }, hooks);
  } finally {
    current.progress?.stop();
    stop.dispose();
  }
}

/** What the signal handlers need to reach while the run goes on. */
interface RunInProgress {
  progress: ProgressDisplay | null;
  /** The report of the rows scored so far (for the stop-timeout and forced-exit paths). */
  soFar: RunSoFar | null;
}

interface StopWiring {
  stop: ReturnType<typeof handleStopSignals>;
  /** Resolves when the batches in flight did not finish within --stop-timeout after a stop signal. */
  stopTimeout: Promise<'stop-timeout'>;
  current: RunInProgress;
}

async function scoreAndReport(
  options: PipelineCliOptions,
  io: CliIo,
  log: Logger,
  job: JobRun,
  wiring: StopWiring,
  hooks: PipelineTestHooks,
): Promise<number> {
  // The model first: how many workers to start (if any) depends on how much work it makes of the input.
  const model = await resolveModel(options);
  checkBatchSizeForModel(options.batchSize, model.layerSizes);
  const inputBytes = options.input === null ? DEFAULT_INPUT_BYTES : await textBytes(options.inputs);
  const flopsPerRow = model.layerSizes.slice(1).reduce((sum, outputs, k) => sum + 2 * model.layerSizes[k] * outputs, 0);
  const { threads, reason } = chooseThreads(options.threads, {
    inputBytes,
    limit: options.limit,
    features: model.layerSizes[0],
    flopsPerRow,
  });
  const maxInFlight = fitInFlight(options, threads, model.layerSizes);
  const resolved: ResolvedOptions = { ...options, threads, maxInFlight, threadsReason: reason };
  const pool = new ForwardPool({
    threads,
    batchSize: options.batchSize,
    maxInFlight,
    kernel: options.kernel,
    ...hooks,
  });
  try {
    return await scoreWithPool(resolved, model, io, log, job, wiring, pool);
  } finally {
    await pool.close();
  }
}

/** The inputs' size when they are plain files; a gzip file's size says little about its rows, a stream has none. */
async function textBytes(inputs: readonly string[]): Promise<number | null> {
  let total = 0;
  for (const input of inputs) {
    if (input === '-' || (await isGzipFile(resolve(input)))) return null;
    const bytes = await inputSizeBytes(resolve(input));
    if (bytes === null) return null;
    total += bytes;
  }
  return total;
}

/** The byte range of --shard's part of the file; a gzip file has no byte positions to start from (exit 2). */
async function shardOfFile(input: string, spec: ShardSpec, features: number) {
  if (await isGzipFile(input))
    throw new UsageError(
      `--shard cannot cut ${input}: it is gzip-compressed, and a gzip stream cannot be read from a byte position; ` +
        `decompress it, or score it whole`,
    );
  return shardSpan(input, spec, features, defaultMaxRecordBytes(features)).catch((error) =>
    Promise.reject(readFailure(error, input)),
  );
}

/** The options of a run whose threads and in-flight limit are settled. */
type ResolvedOptions = Omit<PipelineCliOptions, 'threads' | 'maxInFlight'> & {
  threads: number;
  maxInFlight: number;
  threadsReason: string;
};

/** The bundled test set's size, so that `auto` can choose before preparing it (data/mnist_test.csv). */
const DEFAULT_INPUT_BYTES = 18_289_443;

async function scoreWithPool(
  options: ResolvedOptions,
  model: LoadedModel,
  io: CliIo,
  log: Logger,
  job: JobRun,
  wiring: StopWiring,
  pool: ForwardPool,
): Promise<number> {
  const inputs = await resolveInputs(options.inputs, log);
  const input = inputs[0];
  const normalize = settledNormalize(options, model, log);
  const config = runConfig(options, inputs, model, normalize);
  log.info(
    {
      input: inputs.length === 1 ? input : inputs,
      model: model.path,
      layers: model.layerSizes.join('-'),
      batchSize: options.batchSize,
      threads: options.threads,
    },
    'scoring',
  );

  // --html: bounded collectors fed every scored batch (created here: the throughput timeline starts now).
  // The HTML report's code (and Chart.js) is loaded only when a page is asked for.
  const html = options.html === null ? null : await import('../html/run-collector.js');
  const htmlPage = html === null ? null : html.RunPageCollector.forModel(model, normalize);
  const shard = options.shard === null ? null : await shardOfFile(input, options.shard, model.layerSizes[0]);
  const { progress, stats, soFar } = trackRun(options, model, { input, config }, io, wiring);
  const { stop } = wiring;
  // Opened here rather than in runInference: a stop that times out commits it from here (see below).
  const predictions = await openPredictions(options, model);
  let outcome: Awaited<ReturnType<typeof runInference>> | 'stop-timeout';
  try {
    outcome = await Promise.race([
      runInference({
        input,
        inputs,
        stdin: io.stdin,
        model,
        batchSize: options.batchSize,
        threads: options.threads,
        maxInFlight: options.maxInFlight,
        normalize,
        limit: options.limit,
        onError: options.onError,
        parser: options.parser,
        columns: options.columns ?? undefined,
        onWarning: (message) => log.warn(message),
        kernel: options.kernel,
        decode: options.decode,
        predictionsPath: null,
        predictionsWriter: predictions,
        taskTimeoutMs: options.taskTimeout,
        shard,
        pool,
        stats,
        signal: stop.signal,
        config,
        onProgress: (p) => {
          soFar.onProgress(p);
          progress.update(p);
        },
        pixels: htmlPage !== null,
        onBatch: (batch, scored, lineMap) => {
          soFar.onBatch(batch, scored);
          htmlPage?.onBatch(batch, scored, lineMap);
        },
      }),
      wiring.stopTimeout,
    ]);
  } catch (error) {
    await predictions?.discard();
    throw error;
  } finally {
    progress.stop();
  }
  if (outcome === 'stop-timeout')
    return finishAfterStopTimeout(options, io, log, job, { soFar, predictions }, stop.received!, htmlPage);
  return finishRun(options, io, job, withPageState(job.finalReport(outcome.report), htmlPage), {
    predictions,
    htmlPage,
    signal: stop.received,
  });
}

/** The run's progress bar and statistics, shared with the stop handlers (RunSoFar reads them if the run cannot finish). */
function trackRun(
  options: ResolvedOptions,
  model: LoadedModel,
  { input, config }: { input: string; config: Record<string, unknown> },
  io: CliIo,
  wiring: StopWiring,
) {
  const progress = createProgress({
    enabled: !options.quiet,
    label: 'scoring',
    stream: io.stderr,
    limit: options.limit,
  });
  // One set of statistics: runInference records into it, and RunSoFar reads it if the run cannot finish.
  const stats = new RunStats({ classes: model.layerSizes[model.layerSizes.length - 1] });
  const soFar = new RunSoFar(model, input, config, stats);
  wiring.current.progress = progress;
  wiring.current.soFar = soFar;
  return { progress, stats, soFar };
}

/** The predictions writer of --predictions (null without it), in the format and with the columns asked for. */
async function openPredictions(options: ResolvedOptions, model: LoadedModel): Promise<PredictionsWriter | null> {
  const layout = {
    format: options.predictionsFormat,
    probabilities: options.probabilities ? model.layerSizes[model.layerSizes.length - 1] : 0,
    ...(options.inputs.length > 1 ? { files: true } : {}),
  };
  return options.predictions === null ? null : PredictionsWriter.open(options.predictions, layout);
}

/** The normalisation this run uses: the option, else the model's metadata, else unit; overrides are logged. */
function settledNormalize(options: ResolvedOptions, model: LoadedModel, log: Logger): Normalization {
  const metadataNormalize = model.normalize;
  const normalize: Normalization = options.normalize ?? metadataNormalize ?? 'unit';
  if (options.normalize && metadataNormalize && options.normalize !== metadataNormalize) {
    log.warn(
      { model: model.path, recorded: metadataNormalize, used: options.normalize },
      '--normalize overrides the normalisation recorded in the model',
    );
  }
  for (const [flag, value, used] of [
    ['--activation', options.activation, model.network.activation],
    ['--output', options.output, model.network.output],
  ] as const) {
    const recorded = model.metadata[flag.slice(2)];
    if (value && recorded && recorded !== value) log.warn({ recorded, used }, `${flag} overrides the model's metadata`);
  }

  return normalize;
}

/** The options as given, with what this run settled in their place (paths, threads, the model's defaults). */
function runConfig(
  options: ResolvedOptions,
  inputs: string[],
  model: LoadedModel,
  normalize: Normalization,
): Record<string, unknown> {
  return recordedConfig(
    PIPELINE_OPTIONS,
    { ...options, input: options.inputs },
    {
      input: inputs.length === 1 ? inputs[0] : inputs,
      model: model.path,
      threads: options.threads,
      maxInFlight: options.maxInFlight,
      normalize,
      activation: model.network.activation,
      output: model.network.output,
      shard: options.shard === null ? null : `${options.shard.index}/${options.shard.count}`,
      labelColumn: options.columns?.label ?? null,
      dropColumns: options.columns?.drop ?? null,
      predictions: options.predictionsToStdout ? '-' : options.predictions,
      predictionsFormat: options.predictions === null ? null : options.predictionsFormat,
      threadsReason: options.threadsReason,
    },
  );
}

/** The run's outputs written, the summary or the JSON printed: its exit code. */
async function finishRun(
  options: ResolvedOptions,
  io: CliIo,
  job: JobRun,
  report: PipelineReport,
  {
    predictions,
    htmlPage,
    signal,
  }: { predictions: PredictionsWriter | null; htmlPage: RunPageCollector | null; signal: NodeJS.Signals | null },
): Promise<number> {
  job.report = report;
  if (options.report) {
    await writeJsonAtomic(options.report, report);
    job.writtenReport = resolve(options.report);
  }
  if (htmlPage && options.html)
    await (await import('../html/run-collector.js')).writeRunPage(options.html, report, htmlPage);
  // A failed run's predictions may have been discarded (a write failed): only the files surely written are told.
  noteWritten(options, io, [
    predictions === null || report.status === 'failed' || options.predictionsToStdout ? null : options.predictions,
    options.report,
    options.html,
  ]);

  // With --predictions - stdout carries the predictions and nothing else: the summary goes to stderr.
  const summaryOut = options.predictionsToStdout ? io.stderr : io.stdout;
  // The reader of the predictions went away (`| head`): it wants no more, nor a summary of the rest.
  const readerGone = report.error?.code === 'PIPE_ERR_OUTPUT_CLOSED';
  if (options.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else if (!options.quiet && !readerGone)
    summaryOut.write(`${formatSummary(report, { color: Boolean(summaryOut.isTTY) && !process.env.NO_COLOR })}\n`);

  return exitCodeFor(report, options, io, signal);
}

/**
 * With --html the report keeps the page's state, so that the pages of shard runs can be merged (nnpipe merge --html).
 */
function withPageState(report: PipelineReport, htmlPage: RunPageCollector | null): PipelineReport {
  if (htmlPage && report.partial) report.partial.page = htmlPage.pageState();
  return report;
}

/**
 * The batches in flight did not finish within --stop-timeout: write the interrupted report of the rows
 * scored so far, commit the predictions file with exactly those rows, record the run, and exit. The
 * report and the predictions are fixed in the same synchronous step (no batch can land between them),
 * so the report's `rows` is always the predictions file's data lines. The process must exit here: the
 * pool is still busy with the batches that did not come back.
 */
async function finishAfterStopTimeout(
  options: ResolvedOptions,
  io: CliIo,
  log: Logger,
  job: JobRun,
  partial: { soFar: RunSoFar; predictions: PredictionsWriter | null },
  signal: NodeJS.Signals,
  htmlPage: RunPageCollector | null,
): Promise<never> {
  const message =
    `the batches in flight did not finish within --stop-timeout ${options.stopTimeout} ms; the report ` +
    `counts the rows scored before that`;
  const report = job.finalReport(partial.soFar.report({ code: 'PIPE_ERR_STOP_TIMEOUT', message }));
  const committed = partial.predictions?.commit() ?? Promise.resolve();
  log.warn({ signal, stopTimeoutMs: options.stopTimeout }, message);
  job.report = report;
  let predictionsWritten = partial.predictions !== null;
  try {
    await committed;
  } catch (error) {
    predictionsWritten = false;
    job.noteError(error);
    log.error({ err: (error as Error).message }, 'could not write the predictions of the rows scored so far');
  }
  try {
    if (options.report) {
      await writeJsonAtomic(options.report, report);
      job.writtenReport = resolve(options.report);
    }
    if (htmlPage && options.html)
      await (await import('../html/run-collector.js')).writeRunPage(options.html, report, htmlPage);
    noteWritten(options, io, [predictionsWritten ? options.predictions : null, options.report, options.html]);
  } catch (error) {
    job.noteError(error);
    log.error({ err: (error as Error).message }, 'could not write the interrupted report');
  }
  process.exit(await job.finish(exitCodeForSignal(signal)));
}

/** "wrote FILE" on stderr for every output file written, unless --quiet (stdout stays the summary's or the JSON's). */
function noteWritten(options: { quiet: boolean }, io: CliIo, files: (string | null)[]): void {
  if (options.quiet) return;
  for (const file of files) if (file !== null) io.stderr.write(`nnpipe: wrote ${file}\n`);
}

function exitCodeFor(
  report: PipelineReport,
  options: ResolvedOptions,
  io: CliIo,
  signal: NodeJS.Signals | null,
): number {
  return exitCodeForReport(report, { minAccuracy: options.minAccuracy, signal }, io.stderr);
}
