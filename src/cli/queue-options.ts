// Command-line values of the queue commands (worker, submit, result), as zod schemas like option-schemas.ts.
import * as z from 'zod/mini';
import { RUN_ID_PATTERN } from '../queue/jobs.js';
import { checkRedisUrl } from '../queue/redis.js';

/** --redis: a redis:// or rediss:// URL. */
export const redisUrl = z.string().check(
  z.refine((text) => !('problem' in checkRedisUrl(text)), {
    message: 'must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379',
  }),
);

/** --health: HOST:PORT to listen on (port 1..65535). */
export const hostPort = z
  .pipe(
    z.string().check(z.regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):[0-9]{1,5}$/, 'must be HOST:PORT, like 0.0.0.0:8080')),
    z.transform((text: string) => {
      const at = text.lastIndexOf(':');
      return { host: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
    }),
  )
  .check(z.refine((where) => where.port >= 1 && where.port <= 65535, 'port must be 1..65535'));

/** A run id as `submit --detach` prints it. */
export const runIdArgument = (text: string): string | null => (RUN_ID_PATTERN.test(text) ? text : null);
