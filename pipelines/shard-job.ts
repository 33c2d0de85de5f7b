// One shard job of a distributed run, on a worker: check that the input and the model are the files the
// run was submitted for, score the shard with the worker's pool, and return its report (with the
// `partial` block the parent merges). A different file fails the shard instead of scoring other bytes.
import { randomBytes } from 'node:crypto';
import { inputFileStat } from '../src/data/input-size.js';
import { PipelineError } from '../src/errors.js';
import { loadModel } from '../src/nn/load-model.js';
import type { ForwardPool } from '../src/pool/forward-pool.js';
import type { ShardJobData, SubmittedInput } from '../src/queue/jobs.js';
import type { PipelineReport } from '../src/stats/report.js';
import { runInference, type InferenceProgress } from './inference.js';

/** The input or the model is not the file the run was submitted for: scoring it again cannot help. */
export class ChangedFileError extends PipelineError {
  constructor(message: string) {
    super('PIPE_ERR_CHANGED', message);
    this.name = 'ChangedFileError';
  }
}

export interface ShardJobContext {
  pool: ForwardPool;
  maxInFlight: number;
  /** Stops the read; the batches in flight finish and the report says `interrupted`. */
  signal: AbortSignal;
  onProgress?: (progress: InferenceProgress) => void;
}

/** Scores the shard; throws ChangedFileError for another input or model. */
export async function scoreShard(data: ShardJobData, context: ShardJobContext): Promise<PipelineReport> {
  await checkInput(data.input, 'before scoring');
  const { options } = data;
  const model = await loadModel(data.model.path, {
    activation: options.activation ?? undefined,
    output: options.output ?? undefined,
  });
  if (model.sha256 !== data.model.sha256) {
    throw new ChangedFileError(
      `${data.model.path}: the model is not the one the run was submitted with (sha256 ${model.sha256.slice(0, 12)}` +
        `…, expected ${data.model.sha256.slice(0, 12)}…)`,
    );
  }
  const normalize = options.normalize ?? model.normalize ?? 'unit';
  // Each attempt writes its own predictions file: a stalled attempt that wakes up late cannot overwrite
  // the file of the attempt whose result counts (its report names its file).
  const predictionsPath =
    data.predictions === null
      ? null
      : `${data.predictions}-${randomBytes(4).toString('hex')}.${options.predictionsFormat ?? 'csv'}`;
  // --html: the page's collectors, created right before the run (the throughput timeline starts now).
  const page = data.page
    ? (await import('../src/html/run-collector.js')).RunPageCollector.forModel(model, normalize)
    : null;
  const { report } = await runInference({
    input: data.input.path,
    model,
    batchSize: options.batchSize,
    threads: context.pool.threads,
    maxInFlight: context.maxInFlight,
    normalize,
    limit: null,
    onError: options.onError,
    parser: options.parser,
    kernel: options.kernel,
    decode: options.decode,
    predictionsPath,
    predictionsFormat: options.predictionsFormat,
    probabilities: options.probabilities,
    taskTimeoutMs: options.taskTimeoutMs,
    pool: context.pool,
    signal: context.signal,
    shard: data.shard,
    onProgress: context.onProgress,
    ...(page === null ? {} : { pixels: true, onBatch: page.onBatch }),
    config: {
      ...options,
      runId: data.runId,
      shard: `${data.shard.index}/${data.shard.count}`,
      threads: context.pool.threads,
      normalize,
    },
  });
  // A file changed while it was read may have given this shard bytes of two versions.
  await checkInput(data.input, 'while it was scored');
  if (page !== null && report.partial) report.partial.page = page.pageState();
  return report;
}

async function checkInput(input: SubmittedInput, when: string): Promise<void> {
  const found = await inputFileStat(input.path);
  if (found === null)
    throw new ChangedFileError(
      `${input.path}: the input is not a readable file on this worker (workers need the same path on shared storage)`,
    );
  if (found.bytes !== input.bytes || found.mtimeMs !== input.mtimeMs) {
    const describe = (f: { bytes: number; mtimeMs: number }) =>
      `${f.bytes} bytes modified ${new Date(f.mtimeMs).toISOString()}`;
    throw new ChangedFileError(
      `${input.path}: the input changed ${when}: it is ${describe(found)}, the run was submitted for ` +
        `${describe(input)}`,
    );
  }
}
