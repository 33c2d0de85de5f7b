// The `npm run experiment` command: the batch-size x threads x max-in-flight grid measured with
// benchmark.js on the real pipeline (pipelines/experiment.ts), a table on stdout, and experiment.json,
// experiment.csv and experiment.html in --out. Exit 0 complete, 1 failed (an accuracy difference between
// configurations included), 2 usage, 130 / 143 stopped by SIGINT / SIGTERM (what was measured is written).
import type { Measurement } from '../experiment/types.js';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { inputSizeBytes } from '../data/input-size.js';
import { loadModel } from '../nn/load-model.js';
import { defaultModelPath } from '../paths.js';
import { runExperiment, type ExperimentOutcome } from '../../pipelines/experiment.js';
import { summariseMeasurement } from '../experiment/aggregate.js';
import { buildExperimentDocument, type DocumentContext } from '../experiment/document.js';
import { describeConfiguration } from '../experiment/grid.js';
import { machineAtStart } from '../experiment/machine.js';
import { experimentCommand, validateExperimentOptions, type ExperimentCliOptions } from './experiment-options.js';
import { createExperimentProgress } from '../experiment/progress.js';
import { formatExperimentTable } from '../experiment/table.js';
import { outputPaths, writeExperimentOutputs } from '../experiment/write.js';
import { createLogger, type Logger } from './logger.js';
import { handleStopSignals } from './stop-signals.js';
import { resolveInput } from './resolve-input.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';
import { forCli, usageExitCode, usageLine } from './usage.js';
import { checkBatchSizeForModel, checkInFlightForModel } from './pipeline-options.js';
import { checkOutputs } from '../output/check-outputs.js';
import { checkOutputFolder, OutputPathError } from '../output/target.js';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const NAME = 'nnpipe experiment';

/** A folder name that sorts by time and is valid on every file system: reports/experiment-2025-11-28T02-56-33Z. */
export const defaultOutDir = (now = new Date()): string =>
  `reports/experiment-${now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-')}`;

export async function runExperimentCli(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const command = forCli(experimentCommand(), io, NAME);
  let options: ExperimentCliOptions;
  try {
    command.parse(argv, { from: 'user' });
    options = validateExperimentOptions(command);
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  const log = createLogger({
    name: 'nnpipe-experiment',
    quiet: options.quiet,
    stream: io.stderr,
    format: options.logFormat,
  });
  try {
    return await run(options, io, log);
  } catch (error) {
    if (error instanceof PipelineError) {
      io.stderr.write(error instanceof UsageError ? usageLine(NAME, error.message) : `${NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${NAME}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.failed;
  }
}

/** The --out folder (created when the first file is written); its files are checked like any output. */
async function resolveOut(options: ExperimentCliOptions, input: string, model: string): Promise<string> {
  const out = resolve(options.out ?? defaultOutDir());
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new UsageError(`--out ${options.out ?? out} is a file; give a folder`);
  try {
    await checkOutputFolder(out);
  } catch (error) {
    if (error instanceof OutputPathError) throw new UsageError(`--out ${options.out ?? out}: ${error.problem}`);
    throw error;
  }
  if (!existsSync(out)) return out; // a new folder holds nothing to overwrite
  await checkOutputs(
    Object.values(outputPaths(out)).map((path) => ({ option: '--out', path })),
    [
      { option: '--input', shown: input, what: 'the input', path: input },
      { option: '--model', shown: model, what: 'the model', path: model },
    ],
  );
  return out;
}

/** The model, input and output folder checked, and the document's context, before anything is measured. */
async function prepareExperiment(options: ExperimentCliOptions, log: Logger) {
  const modelPath = options.model === null ? defaultModelPath : resolve(options.model);
  if (!existsSync(modelPath)) {
    throw new PipelineError(
      'PIPE_ERR_MODEL_MISSING',
      `${modelPath}: ${options.model === null ? 'the default model' : 'the model'} file does not exist (give one ` +
        `with --model <file>)`,
    );
  }
  const input = await resolveInput(options.input, log);
  const out = await resolveOut(options, input, modelPath);
  // Loaded here too (every child loads its own copy): a bad model fails before anything is measured.
  const model = await loadModel(modelPath);
  for (const { batchSize, maxInFlight } of options.configurations) {
    checkBatchSizeForModel(batchSize, model.layerSizes, '--batch-sizes');
    checkInFlightForModel(maxInFlight, batchSize, model.layerSizes);
  }
  const context: DocumentContext = {
    grid: options.grid,
    input: { path: input, bytes: await inputSizeBytes(input) },
    model,
    normalize: model.normalize ?? 'unit',
    out,
    minSamples: options.minSamples,
    maxTimeS: options.maxTimeS,
    configurations: options.configurations.length,
  };
  return { modelPath, input, out, model, context };
}

/** One log line per measured configuration, for logs that are not a terminal (which has the progress table). */
function logMeasured(
  log: Logger,
  latest: Measurement,
  row: ReturnType<typeof summariseMeasurement>,
  left: number,
): void {
  const configuration = describeConfiguration(latest.config);
  const { mean, rme } = row.imagesPerSecond;
  log.info(
    { id: latest.config.id, configuration, imagesPerSecond: Math.round(mean), rme, samples: row.samples, left },
    'measured',
  );
}

/** The outputs of what is measured so far, marked running. */
async function writeCheckpoint(
  options: ExperimentCliOptions,
  run: {
    measurements: Measurement[];
    startedAt: Date;
    machine: ReturnType<typeof machineAtStart>;
    context: DocumentContext;
    out: string;
  },
): Promise<void> {
  const { measurements, startedAt, machine, context, out } = run;
  const measured = new Set(measurements.map((m) => m.config.id));
  const notMeasured = options.configurations.filter((c) => !measured.has(c.id));
  const now = new Date();
  const outcome = {
    status: 'running' as const,
    error: null,
    measurements,
    notMeasured,
    startedAt,
    finishedAt: now,
    wallTimeMs: now.getTime() - startedAt.getTime(),
    machine,
  };
  await writeExperimentOutputs(out, buildExperimentDocument(outcome, context));
}

async function run(options: ExperimentCliOptions, io: CliIo, log: Logger): Promise<number> {
  const progress = createExperimentProgress({ enabled: !options.quiet, stream: io.stderr });
  // Watched from the start: a stop while the model loads is an interrupted experiment too. The first signal
  // ends the configuration being measured at once (it is dropped) and writes the rest; a second exits at once.
  const stop = handleStopSignals({
    onFirst: (signal) => {
      progress.stop();
      log.warn({ signal }, 'stopping: writing what has been measured (send it again to exit at once)');
    },
  });
  try {
    const { modelPath, input, out, model, context } = await prepareExperiment(options, log);
    log.info(
      {
        configurations: options.configurations.length,
        input,
        model: model.path,
        out,
        minSamples: options.minSamples,
        maxTimeS: options.maxTimeS,
      },
      'measuring',
    );

    const startedAt = new Date();
    const machine = machineAtStart();
    const outcome: ExperimentOutcome = await runExperiment(
      {
        configurations: options.configurations,
        input,
        model: modelPath,
        minSamples: options.minSamples,
        maxTimeS: options.maxTimeS,
      },
      {
        signal: stop.signal,
        onProgress: (p) => progress.configuration(p.config, p.index, p.total, p.passes),
        onMeasured: async (measurements, latest) => {
          const row = summariseMeasurement(latest);
          const index = measurements.length - 1;
          progress.measured(row, index, options.configurations.length);
          if (!io.stderr.isTTY) logMeasured(log, latest, row, options.configurations.length - measurements.length);
          // A checkpoint after every configuration: even a second Ctrl-C or a kill leaves what was measured.
          await writeCheckpoint(options, { measurements, startedAt, machine, context, out });
        },
      },
    );
    progress.stop();
    const doc = buildExperimentDocument(outcome, context);
    const written = await writeExperimentOutputs(out, doc);

    if (options.json) io.stdout.write(`${JSON.stringify(doc)}\n`);
    else if (!options.quiet) {
      const color = Boolean(io.stdout.isTTY) && !process.env.NO_COLOR;
      io.stdout.write(
        `${formatExperimentTable(doc, { color })}\n\nwrote ${written.json}\n      ${written.csv}\n      ` +
          `${written.html}\n`,
      );
    }
    if (outcome.status === 'failed') {
      const error = outcome.error!;
      const loud = error.code === 'PIPE_ERR_ACCURACY_MISMATCH' ? 'ACCURACY MISMATCH: ' : '';
      io.stderr.write(`${NAME}: ${loud}${error.message}\n${NAME}: what was measured is in ${out}\n`);
      return error.exitCode;
    }
    if (outcome.status === 'interrupted') {
      log.warn(
        { measured: doc.summary.measured, configurations: doc.summary.configurations, out },
        'interrupted: wrote the configurations measured so far (partial)',
      );
      return exitCodeForSignal(stop.received ?? 'SIGINT');
    }
    return ExitCode.ok;
  } finally {
    progress.stop();
    stop.dispose();
  }
}
