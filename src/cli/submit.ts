// `nnpipe submit --redis URL --input FILE --shards N [pipeline options]`: one run of the pipeline over N
// shards of FILE, scored by whichever `nnpipe worker` processes take them, merged by one of them. Waits and
// ends like the pipeline (summary or --json; exit 0, 1, 3), or with --detach prints the run id for
// `nnpipe result`. The input, the model and the outputs must be on storage every worker sees at the same
// path. Redis unreachable or lost while waiting: exit 69.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { inputFileStat } from '../data/input-size.js';
import { openForShards, quotedShardProblem, readHead, shardRange } from '../data/shards.js';
import { defaultMaxRecordBytes } from '../data/source-options.js';
import { loadModel } from '../nn/load-model.js';
import { defaultModelPath } from '../paths.js';
import { addRun } from '../queue/flow.js';
import {
  newRunId,
  shardPredictionsBase,
  type RunJobData,
  type RunOptions,
  type ShardJobData,
  type SubmittedInput,
} from '../queue/jobs.js';
import { probeRedis, shownUrl } from '../queue/redis.js';
import { MAX_SHARDS } from '../data/shards.js';
import { createLogger } from './logger.js';
import { milliseconds, positiveInt } from './option-schemas.js';
import { addOptions, flag, option, required, validateOptions, type OptionValues } from './option-table.js';
import {
  checkBatchSizeForModel,
  pipelineCommand,
  validatePipelineOptions,
  type PipelineCliOptions,
} from './pipeline-options.js';
import { checkRunOutputs } from './pipeline-main.js';
import { redisUrl } from './queue-options.js';
import { printRunEnd, waitForRun, watchRun } from './run-end.js';
import { exitCodeForError } from './report-exit.js';
import { forCli, usageExitCode } from './usage.js';

const NAME = 'nnpipe submit';

/** The pipeline's options that mean nothing for a run across machines (threads are each worker's). */
const NOT_FOR_SUBMIT = ['threads', 'maxInFlight', 'limit', 'shard', 'history', 'stopTimeout', 'lockStale'] as const;

export function submitCommand(): Command {
  const command = pipelineCommand()
    .name(NAME)
    .description(
      'Score a CSV file on the `nnpipe worker` processes of a BullMQ queue in N shards, merged into one report.',
    );
  for (const option of command.options)
    if ((NOT_FOR_SUBMIT as readonly string[]).includes(option.attributeName())) option.hideHelp();
  return addOptions(command, SUBMIT_OPTIONS);
}

/**
 * The options of `nnpipe submit` beyond the pipeline's (PIPELINE_OPTIONS, which it shares), once (see option-table.ts).
 */
export const SUBMIT_OPTIONS = {
  redis: required('--redis <url>', 'the Redis of the queue: redis://host:port[/db]', redisUrl),
  shards: required(
    '--shards <n>',
    `shard jobs to cut the input into (1..${MAX_SHARDS})`,
    positiveInt.check(z.refine((n) => n <= MAX_SHARDS, `must be at most ${MAX_SHARDS}`)),
  ),
  detach: flag('--detach', 'print the run id and exit; `nnpipe result --redis URL RUNID` fetches the report later'),
  redisTimeout: option(
    '--redis-timeout <ms>',
    'while waiting, give up (exit 69) when Redis has not answered for this long',
    milliseconds,
    { default: 10_000 },
  ),
};
type QueueOptions = OptionValues<typeof SUBMIT_OPTIONS>;

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; stdin: NodeJS.ReadableStream };

export async function runSubmitCli(argv: string[], io: Io = process): Promise<number> {
  const command = forCli(submitCommand(), io, NAME);
  let options: PipelineCliOptions;
  let queue: QueueOptions;
  try {
    command.parse(argv, { from: 'user' });
    queue = validateOptions(command, SUBMIT_OPTIONS);
    options = validatePipelineOptions(command);
    for (const key of NOT_FOR_SUBMIT) {
      if (command.getOptionValueSource(key) !== 'default' && command.getOptionValue(key) !== undefined) {
        throw new UsageError(
          `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to a run across ` +
            `machines${key === 'threads' || key === 'maxInFlight' ? ' (each `nnpipe worker` has its own)' : ''}`,
        );
      }
    }
    if (options.input === null || options.input === '-')
      throw new UsageError('--input FILE is required: a file on storage every worker reads at the same path');
    if (options.inputs.length > 1)
      throw new UsageError(
        `submit cuts one --input file into shards: ${options.inputs.length} files were given (submit each file, or ` +
          'score them as one run with nnpipe --input)',
      );
    if (options.predictionsToStdout)
      throw new UsageError(
        '--predictions - does not apply to a run across machines: the workers write the predictions, to a FILE on ' +
          'shared storage',
      );
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  const log = createLogger({
    name: NAME,
    quiet: options.quiet || options.json,
    stream: io.stderr,
    format: options.logFormat,
  });
  try {
    const prepared = await prepareRun(options, queue, io.stdin);
    await probeRedis(queue.redis);
    // Subscribed before the run is added, so that no shard's progress is missed.
    const watcher = queue.detach ? null : await watchRun(queue.redis, prepared.run.runId);
    try {
      await addRun(queue.redis, prepared.run, prepared.shards);
      log.info(
        { run: prepared.run.runId, shards: queue.shards, input: prepared.run.input.path, redis: shownUrl(queue.redis) },
        'run submitted',
      );
      if (watcher === null) {
        io.stdout.write(`${prepared.run.runId}\n`);
        return ExitCode.ok;
      }
      const end = await waitForRun(watcher, {
        graceMs: queue.redisTimeout,
        progress: !options.quiet && !options.json,
        io,
        log,
        runId: prepared.run.runId,
        redis: queue.redis,
      });
      return printRunEnd(
        end,
        prepared.run.runId,
        { json: options.json, quiet: options.quiet, minAccuracy: options.minAccuracy },
        io,
        NAME,
      );
    } finally {
      await watcher?.close();
    }
  } catch (error) {
    return exitCodeForError(error, io.stderr, NAME);
  }
}

/** Everything the run's jobs carry: the input as seen here, the model's sha256, the shards' byte ranges. */
async function prepareRun(
  given: PipelineCliOptions,
  queue: QueueOptions,
  stdin: NodeJS.ReadableStream,
): Promise<{ run: RunJobData; shards: ShardJobData[] }> {
  const options = await checkRunOutputs(given, stdin);
  const inputPath = resolve(options.input!);
  const found = await inputFileStat(inputPath);
  if (found === null)
    throw new PipelineError('PIPE_ERR_INPUT', `${options.input}: no such file (--input must be a regular file)`);
  const input: SubmittedInput = { path: inputPath, bytes: found.bytes, mtimeMs: found.mtimeMs };
  const model = await loadModel(options.model === null ? defaultModelPath : resolve(options.model), {
    activation: options.activation ?? undefined,
    output: options.output ?? undefined,
  });
  checkBatchSizeForModel(options.batchSize, model.layerSizes);
  const features = model.layerSizes[0];
  const file = await openForShards(inputPath);
  const head = await readHead(file, inputPath, input.bytes, features, defaultMaxRecordBytes(features)).finally(() =>
    file.close(),
  );
  if (options.parser === 'csv-parse' || (options.parser === 'auto' && head.quoted))
    throw new PipelineError('PIPE_ERR_DATA', `${inputPath}: ${quotedShardProblem}`);
  const runId = newRunId();
  const runOptions: RunOptions = {
    batchSize: options.batchSize,
    normalize: options.normalize,
    activation: options.activation,
    output: options.output,
    onError: options.onError,
    parser: options.parser,
    kernel: options.kernel,
    decode: options.decode,
    taskTimeoutMs: options.taskTimeout,
    ...(options.predictions === null
      ? {}
      : { predictionsFormat: options.predictionsFormat, probabilities: options.probabilities }),
  };
  const modelRef = { path: model.path, sha256: model.sha256 };
  const shards = Array.from({ length: queue.shards }, (_, i): ShardJobData => {
    const { start, end } = shardRange(input.bytes, head.dataStart, { index: i + 1, count: queue.shards });
    return {
      runId,
      shard: { index: i + 1, count: queue.shards, byteStart: start, byteEnd: end },
      input,
      model: modelRef,
      options: runOptions,
      predictions: options.predictions === null ? null : shardPredictionsBase(options.predictions, runId, i + 1),
      // --html: each shard returns its page data, the run's merge writes the page.
      ...(options.html === null ? {} : { page: true }),
    };
  });
  const config = {
    ...runOptions,
    input: inputPath,
    model: model.path,
    shards: queue.shards,
    runId,
    redis: shownUrl(queue.redis),
    report: options.report,
    predictions: options.predictions,
    html: options.html,
    minAccuracy: options.minAccuracy,
  };
  const run: RunJobData = {
    runId,
    shards: queue.shards,
    input,
    dataStart: head.dataStart,
    model: modelRef,
    options: runOptions,
    outputs: { report: options.report, predictions: options.predictions, html: options.html },
    config,
    submittedAtMs: Date.now(),
  };
  return { run, shards };
}
