// `nnpipe worker --redis URL`: a long-running process that takes the shard jobs of distributed runs from
// Redis and scores them with its own pool of worker threads, and merges runs whose shards are all done.
// Logs one JSON object per line (pino). SIGTERM / SIGINT: the shard in progress may finish within
// --stop-timeout, else it is handed back to the queue (another worker takes it); then exit 0.
// --health HOST:PORT serves GET /health: 200 while Redis answers, 503 when it does not or when stopping.
import { Command } from 'commander';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { Worker, WaitingError, UnrecoverableError, type Job } from 'bullmq';
import { ExitCode, PipelineError } from '../errors.js';
import { ForwardPool } from '../pool/forward-pool.js';
import {
  QUEUE_PREFIX,
  readJobData,
  RUN_QUEUE,
  SHARD_QUEUE,
  shardIndexOfKey,
  type RunJobData,
  type ShardJobData,
} from '../queue/jobs.js';
import { connectionOptions, probeRedis, shownUrl, startHeartbeat } from '../queue/redis.js';
import type { PipelineReport } from '../stats/report.js';
import { ChangedFileError, scoreShard } from '../../pipelines/shard-job.js';
import { mergeRunJob } from '../../pipelines/run-job.js';
import { createLogger, type Logger, logFormatOption } from './logger.js';
import { addOptions, flag, option, required, validateOptions, type OptionValues } from './option-table.js';
import { milliseconds, nonNegativeInt, positiveInt } from './option-schemas.js';
import { redisUrl, hostPort } from './queue-options.js';
import { forCli, usageExitCode } from './usage.js';
import { availableParallelism } from 'node:os';
import type { KernelKind } from '../nn/kernels/index.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';

const NAME = 'nnpipe worker';

/** Every option of `nnpipe worker`, once (see option-table.ts). */
export const WORKER_OPTIONS = {
  redis: required('--redis <url>', 'the Redis of the queue: redis://host:port[/db]', redisUrl),
  threads: option('--threads <n>', 'worker threads of each shard in progress (0: the main thread)', nonNegativeInt, {
    defaultText: 'one per core',
  }),
  concurrency: option(
    '--concurrency <n>',
    'shards scored at once by this process, each with its own --threads',
    positiveInt,
    { default: 1 },
  ),
  lockDuration: option(
    '--lock-duration <ms>',
    'a job whose worker has not renewed its lock for this long is taken over by another (its worker died)',
    milliseconds,
    { default: 30_000 },
  ),
  stopTimeout: option(
    '--stop-timeout <ms>',
    'after SIGTERM/SIGINT, let the shard in progress finish for this long, then hand it back to the queue',
    milliseconds,
    { default: 30_000 },
  ),
  health: option('--health <host:port>', 'serve GET /health there (200 healthy, 503 Redis lost or stopping)', hostPort),
  logFormat: logFormatOption(),
  quiet: flag('--quiet', 'log warnings and errors only'),
};

export function workerCommand(): Command {
  const command = new Command(NAME)
    .description(
      'Take shard jobs of distributed runs (`nnpipe submit`) from Redis and score them on this machine; merge ' +
        'finished runs.',
    )
    .allowExcessArguments(false);
  return addOptions(command, WORKER_OPTIONS);
}

type WorkerOptions = Omit<OptionValues<typeof WORKER_OPTIONS>, 'threads'> & { threads: number };

export async function runWorkerCli(
  argv: string[],
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Promise<number> {
  const command = forCli(workerCommand(), io, NAME);
  let options: WorkerOptions;
  try {
    command.parse(argv, { from: 'user' });
    const given = validateOptions(command, WORKER_OPTIONS);
    options = { ...given, threads: given.threads ?? availableParallelism() };
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  const log = createLogger({ name: NAME, quiet: options.quiet, stream: io.stderr, format: options.logFormat });
  try {
    await probeRedis(options.redis);
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    log.error({ code: error.code }, error.message);
    io.stderr.write(`${NAME}: ${error.message}\n`);
    return error.exitCode;
  }
  return serve(options, log);
}

/** Runs until SIGTERM / SIGINT; returns the exit code. */
async function serve(options: WorkerOptions, log: Logger): Promise<number> {
  const state = { stopping: false, busy: 0, shardsDone: 0, runsMerged: 0 };
  const heartbeat = startHeartbeat(options.redis, {
    graceMs: 5_000,
    onLost: (error) => log.warn({ code: error.code }, `${error.message}; reconnecting`),
  });
  const pools = new PoolKeeper(options.threads);
  const common = {
    connection: connectionOptions(options.redis, 'blocking'),
    prefix: QUEUE_PREFIX,
    lockDuration: options.lockDuration,
    stalledInterval: options.lockDuration,
    maxStalledCount: 1,
  };
  const shards = new Worker(
    SHARD_QUEUE,
    (job: Job, token?: string, signal?: AbortSignal) => processShard(job, token, signal, { pools, log, state }),
    { ...common, concurrency: options.concurrency },
  );
  const runs = new Worker(RUN_QUEUE, (job: Job) => processRun(job, log, state), { ...common, concurrency: 1 });
  for (const worker of [shards, runs])
    worker.on('error', (error) => log.warn({ err: error.message }, 'queue connection error'));
  const health = options.health
    ? await serveHealth(
        options.health,
        () => ({ healthy: heartbeat.healthy && !state.stopping, ...state, redis: heartbeat.healthy }),
        log,
      )
    : null;
  log.info(
    {
      redis: shownUrl(options.redis),
      threads: options.threads,
      concurrency: options.concurrency,
      host: hostname(),
      pid: process.pid,
      health: options.health ?? null,
    },
    'worker started',
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  state.stopping = true;
  log.info(
    { signal, busy: state.busy, stopTimeoutMs: options.stopTimeout },
    'stopping: the shard in progress may finish, else it goes back to the queue',
  );
  // A second signal exits at once: the shard in progress is taken over when its lock expires.
  const forced = () => process.exit(exitCodeForSignal(signal));
  process.once('SIGTERM', forced);
  process.once('SIGINT', forced);
  const handBack = setTimeout(() => shards.cancelAllJobs('the worker is stopping'), options.stopTimeout);
  await Promise.all([shards.close(), runs.close()]);
  clearTimeout(handBack);
  await pools.close();
  heartbeat.stop();
  health?.close();
  log.info({ shardsDone: state.shardsDone, runsMerged: state.runsMerged }, 'worker stopped');
  return ExitCode.ok;
}

interface ShardContext {
  pools: PoolKeeper;
  log: Logger;
  state: { stopping: boolean; busy: number; shardsDone: number };
}

async function processShard(
  job: Job,
  token: string | undefined,
  signal: AbortSignal | undefined,
  { pools, log, state }: ShardContext,
): Promise<PipelineReport> {
  const data = readJobData<ShardJobData>('shard', job.data);
  const where = { run: data.runId, shard: `${data.shard.index}/${data.shard.count}`, attempt: job.attemptsStarted };
  const started = Date.now();
  log.info(where, 'scoring shard');
  const pool = pools.acquire(data.options.batchSize, data.options.kernel);
  state.busy += 1;
  let lastProgress = 0;
  try {
    const report = await scoreShard(data, {
      pool,
      maxInFlight: 2 * Math.max(1, pool.threads),
      signal: signal ?? new AbortController().signal,
      onProgress: (progress) => {
        if (Date.now() - lastProgress < 500 && !progress.done) return;
        lastProgress = Date.now();
        job.updateProgress({ rows: progress.rows, bytesRead: progress.bytesRead }).catch(() => undefined);
      },
    });
    if (report.status === 'interrupted') {
      // Stopped by SIGTERM: the shard goes back to the queue whole, for another worker.
      await job.moveToWait(token);
      log.warn({ ...where, rows: report.rows }, 'shard handed back to the queue (the worker is stopping)');
      throw new WaitingError();
    }
    state.shardsDone += 1;
    log.info({ ...where, status: report.status, rows: report.rows, ms: Date.now() - started }, 'shard done');
    return report;
  } catch (error) {
    if (error instanceof WaitingError) throw error;
    log.error({ ...where, err: (error as Error).message }, 'shard failed');
    // Another file will not become the right one on a retry.
    if (error instanceof ChangedFileError) throw new UnrecoverableError(error.message);
    throw error;
  } finally {
    state.busy -= 1;
    pools.release(pool);
  }
}

async function processRun(job: Job, log: Logger, state: { runsMerged: number }): Promise<PipelineReport> {
  const data = readJobData<RunJobData>('run', job.data);
  const reports = new Map<number, PipelineReport>();
  for (const [key, value] of Object.entries(await job.getChildrenValues<PipelineReport>())) {
    const index = shardIndexOfKey(key);
    if (index !== null) reports.set(index, value);
  }
  const failures = new Map<number, string>();
  for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
    const index = shardIndexOfKey(key);
    if (index !== null) failures.set(index, reason);
  }
  log.info({ run: data.runId, shards: data.shards, returned: reports.size, failed: failures.size }, 'merging run');
  const report = await mergeRunJob(data, { reports, failures });
  state.runsMerged += 1;
  log.info({ run: data.runId, status: report.status, rows: report.rows, accuracy: report.accuracy }, 'run merged');
  return report;
}

/**
 * One ForwardPool per shard in progress, kept warm between shards; a pool made for another batch size
 * or engine is replaced (both are fixed when its workers start).
 */
class PoolKeeper {
  private readonly idle: ForwardPool[] = [];
  private readonly made = new Map<ForwardPool, string>();

  constructor(private readonly threads: number) {}

  acquire(batchSize: number, kernel: KernelKind): ForwardPool {
    const key = `${batchSize}/${kernel}`;
    const at = this.idle.findIndex((pool) => this.made.get(pool) === key);
    if (at !== -1) return this.idle.splice(at, 1)[0];
    const stale = this.idle.shift();
    if (stale) void this.retire(stale);
    const pool = new ForwardPool({
      threads: this.threads,
      batchSize,
      maxInFlight: 2 * Math.max(1, this.threads),
      kernel,
    });
    this.made.set(pool, key);
    return pool;
  }

  release(pool: ForwardPool): void {
    this.idle.push(pool);
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((pool) => this.retire(pool)));
  }

  private async retire(pool: ForwardPool): Promise<void> {
    this.made.delete(pool);
    await pool.close();
  }
}

async function serveHealth(
  where: { host: string; port: number },
  status: () => Record<string, unknown> & { healthy: boolean },
  log: Logger,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/health') {
      response.writeHead(404).end();
      return;
    }
    const body = status();
    response
      .writeHead(body.healthy ? 200 : 503, { 'content-type': 'application/json' })
      .end(`${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => resolve());
  });
  server.on('error', (error) => log.warn({ err: error.message }, 'health server error'));
  return server;
}
