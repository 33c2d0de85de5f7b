// Watching a distributed run from the outside (`submit` waiting, `result`): the parent job's state polled,
// the shards' progress from BullMQ's event streams, and Redis's health from a heartbeat, so that a run
// ends in its report, its failure, or a RedisUnavailableError: never a hang.
import { Job, Queue, QueueEvents } from 'bullmq';
import type { PipelineReport } from '../stats/report.js';
import { QUEUE_PREFIX, RUN_QUEUE, SHARD_QUEUE, shardIndexOfKey } from './jobs.js';
import { connectionOptions, startHeartbeat, type RedisUnavailableError } from './redis.js';

export interface RunProgress {
  shards: number;
  done: number;
  running: number;
  failed: number;
  /** Rows scored so far across the shards (their latest progress). */
  rows: number;
  /** All shards are done: the parent is merging. */
  merging: boolean;
}

export type RunEnd =
  | { state: 'completed'; report: PipelineReport }
  | { state: 'failed'; reason: string }
  | { state: 'missing' };

/** How often the parent's state is read. */
const POLL_MS = 500;

/** What a run watcher holds open; close() always returns (within a second when Redis is gone). */
export class RunWatcher {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  /** The parent's events: its end wakes the wait at once (the poll is the fallback). */
  private readonly runEvents: QueueEvents;
  private wake: () => void = () => undefined;
  private readonly rows = new Map<number, number>();
  private readonly active = new Set<number>();

  constructor(
    private readonly url: string,
    private readonly runId: string,
  ) {
    this.queue = new Queue(RUN_QUEUE, { connection: connectionOptions(url, 'producer'), prefix: QUEUE_PREFIX });
    this.events = new QueueEvents(SHARD_QUEUE, {
      connection: connectionOptions(url, 'blocking'),
      prefix: QUEUE_PREFIX,
    });
    this.runEvents = new QueueEvents(RUN_QUEUE, {
      connection: connectionOptions(url, 'blocking'),
      prefix: QUEUE_PREFIX,
    });
    this.queue.on('error', () => undefined); // the heartbeat reports a lost Redis
    this.events.on('error', () => undefined);
    this.runEvents.on('error', () => undefined);
    for (const name of ['completed', 'failed'] as const) {
      this.runEvents.on(name, ({ jobId }: { jobId: string }) => {
        if (jobId === runId) this.wake();
      });
    }
    const mine = (jobId: string): number | null => (jobId.startsWith(`${runId}-s`) ? shardIndexOfKey(jobId) : null);
    this.events.on('active', ({ jobId }) => {
      const index = mine(jobId);
      if (index !== null) this.active.add(index);
    });
    this.events.on('progress', ({ jobId, data }) => {
      const index = mine(jobId);
      if (
        index !== null &&
        typeof data === 'object' &&
        data !== null &&
        typeof (data as { rows?: unknown }).rows === 'number'
      )
        this.rows.set(index, (data as { rows: number }).rows);
    });
    for (const name of ['completed', 'failed', 'stalled', 'delayed', 'waiting'] as const) {
      this.events.on(name, (args: { jobId: string }) => {
        const index = mine(args.jobId);
        if (index !== null) this.active.delete(index);
      });
    }
  }

  /** Subscribes to the shards' events (before the run is added, so that no event is missed). */
  async ready(): Promise<void> {
    await Promise.all([this.events.waitUntilReady(), this.runEvents.waitUntilReady()]);
  }

  /**
   * Waits for the run's end, calling onProgress every poll. Rejects with a RedisUnavailableError when
   * Redis does not answer for graceMs.
   */
  async wait(options: { graceMs: number; onProgress?: (progress: RunProgress) => void }): Promise<RunEnd> {
    let lost: RedisUnavailableError | null = null;
    const heartbeat = startHeartbeat(this.url, { graceMs: options.graceMs, onLost: (error) => (lost = error) });
    try {
      for (;;) {
        if (lost) throw lost;
        const end = await this.poll(options.onProgress).catch(() => null); // Redis away: the heartbeat decides
        if (end !== null && end !== 'running') return end;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      heartbeat.stop();
    }
  }

  /** The run's end if it has one, or 'running' (after reporting progress). */
  async poll(onProgress?: (progress: RunProgress) => void): Promise<RunEnd | 'running'> {
    const job = await Job.fromId<unknown, PipelineReport>(this.queue, this.runId);
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    if (state === 'completed') return { state: 'completed', report: job.returnvalue };
    if (state === 'failed') return { state: 'failed', reason: job.failedReason };
    if (onProgress) {
      const counts = await job.getDependenciesCount();
      const shards = (counts.processed ?? 0) + (counts.unprocessed ?? 0) + (counts.ignored ?? 0) + (counts.failed ?? 0);
      let rows = 0;
      for (const value of this.rows.values()) rows += value;
      onProgress({
        shards,
        done: counts.processed ?? 0,
        running: this.active.size,
        failed: (counts.ignored ?? 0) + (counts.failed ?? 0),
        rows,
        merging: counts.unprocessed === 0,
      });
    }
    return 'running';
  }

  async close(): Promise<void> {
    const closing = Promise.allSettled([this.events.close(), this.runEvents.close(), this.queue.close()]);
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    for (const connection of [this.events, this.runEvents, this.queue])
      void connection.disconnect().catch(() => undefined);
  }
}
