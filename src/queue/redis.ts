// Reaching Redis for the queue commands: the URL checked, the connection options BullMQ's classes get, a
// probe that fails fast with a clear message when Redis cannot be reached, and a heartbeat that notices a
// Redis lost mid-run. ioredis on its own reconnects forever and queues commands meanwhile, so a lost Redis
// would hang a waiting `submit`; the heartbeat turns that into an error with its own exit code (69).
import type { RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { PipelineError } from '../errors.js';

/** Redis could not be reached, or was lost for longer than the grace period. Exit 69. */
export class RedisUnavailableError extends PipelineError {
  constructor(message: string) {
    super('PIPE_ERR_REDIS', message);
    this.name = 'RedisUnavailableError';
  }
}

/** A redis:// or rediss:// URL, or a problem with it (for --redis). */
export function checkRedisUrl(text: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'must be a URL like redis://127.0.0.1:6379' };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    return { problem: 'must be a redis:// or rediss:// URL' };
  return { url: text };
}

/** The URL as messages show it: without a password. */
export function shownUrl(text: string): string {
  const url = new URL(text);
  if (url.password) url.password = '***';
  return url.toString();
}

/** How long one connection attempt may take. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Options for BullMQ's connections. Workers and event listeners block on Redis, so BullMQ wants
 * maxRetriesPerRequest null for them; they reconnect every second at most, for ever (a worker outlives a
 * Redis restart). Producers fail a command at once while Redis is away (enableOfflineQueue off).
 */
export function connectionOptions(url: string, role: 'blocking' | 'producer'): RedisOptions {
  return {
    url,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
    maxRetriesPerRequest: role === 'blocking' ? null : 1,
    enableOfflineQueue: role === 'blocking',
  };
}

/** A connection for the probe and the heartbeat: one try, no queueing, no reconnecting on its own. */
function oneShot(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
}

/** Connects once and pings; throws RedisUnavailableError naming the URL and the reason. */
export async function probeRedis(url: string): Promise<void> {
  const client = oneShot(url);
  // The socket's own error (ECONNREFUSED) comes as an event; connect() then only says the connection closed.
  let socketError: unknown = null;
  client.on('error', (error) => (socketError ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new RedisUnavailableError(`cannot reach Redis at ${shownUrl(url)}: ${reason(socketError ?? error)}`);
  } finally {
    client.disconnect();
  }
}

const reason = (error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  return e.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ''}`
    : (e.message ?? String(error));
};

export interface Heartbeat {
  /** Whether the last ping (within the last interval) answered. */
  readonly healthy: boolean;
  stop(): void;
}

/**
 * Pings Redis every `intervalMs` on a connection of its own; after `graceMs` without an answer calls
 * `onLost` once with a RedisUnavailableError (a Redis restart within the grace period goes unnoticed).
 */
export function startHeartbeat(
  url: string,
  options: { intervalMs?: number; graceMs: number; onLost?: (error: RedisUnavailableError) => void },
): Heartbeat {
  const intervalMs = options.intervalMs ?? 1_000;
  let lastOk = Date.now();
  let lastError = 'no answer';
  let healthy = true;
  let lost = false;
  let client: Redis | null = null;
  let busy = false;
  const beat = async () => {
    if (busy) return;
    busy = true;
    try {
      if (client === null) {
        client = oneShot(url);
        client.on('error', () => undefined);
        await client.connect();
      }
      await withTimeout(client.ping(), intervalMs * 2);
      lastOk = Date.now();
      healthy = true;
    } catch (error) {
      lastError = reason(error);
      healthy = false;
      client?.disconnect();
      client = null;
    } finally {
      busy = false;
    }
    if (!healthy && !lost && Date.now() - lastOk >= options.graceMs) {
      lost = true;
      options.onLost?.(
        new RedisUnavailableError(
          `lost Redis at ${shownUrl(url)}: no answer for ${Math.round((Date.now() - lastOk) / 1000)} s (${lastError})`,
        ),
      );
    }
  };
  const timer = setInterval(() => void beat(), intervalMs);
  void beat();
  return {
    get healthy() {
      return healthy;
    },
    stop() {
      clearInterval(timer);
      client?.disconnect();
      client = null;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
