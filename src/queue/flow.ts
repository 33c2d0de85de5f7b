// Adding a distributed run to the queue: one BullMQ flow, the parent (merge) job in `runs` with one child
// per shard in `shards`, added atomically (a run is in Redis whole or not at all).
import { FlowProducer } from 'bullmq';
import {
  QUEUE_PREFIX,
  RUN_QUEUE,
  runJobOptions,
  SHARD_QUEUE,
  shardJobOptions,
  type RunJobData,
  type ShardJobData,
} from './jobs.js';
import { connectionOptions, RedisUnavailableError, shownUrl } from './redis.js';

export async function addRun(url: string, run: RunJobData, shards: ShardJobData[]): Promise<void> {
  const producer = new FlowProducer({ connection: connectionOptions(url, 'producer'), prefix: QUEUE_PREFIX });
  producer.on('error', () => undefined); // the add below rejects
  try {
    await producer.add({
      name: 'merge',
      queueName: RUN_QUEUE,
      data: run,
      opts: runJobOptions(run.runId),
      children: shards.map((data) => ({
        name: 'shard',
        queueName: SHARD_QUEUE,
        data,
        opts: shardJobOptions(run.runId, data.shard.index),
      })),
    });
  } catch (error) {
    throw new RedisUnavailableError(`cannot add the run to Redis at ${shownUrl(url)}: ${(error as Error).message}`);
  } finally {
    await Promise.race([producer.close(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
}
