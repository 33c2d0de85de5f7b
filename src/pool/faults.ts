// What happens when a task fails. A fault — the task throws, its worker dies (process.exit, an uncaught
// error), or no result comes within the task timeout (the task is then aborted, so Piscina terminates
// that worker and starts another) — is retried once, on whichever worker is free. A second fault fails
// the task, naming what it held. A task that ran and said it cannot be completed (a failure result) is
// not a fault: it would fail the same way anywhere, so it is returned, not retried.
import { delay, from, lastValueFrom, mergeMap, Observable, race, retry, throwError } from 'rxjs';
import { WorkerTaskError } from '../errors.js';
import type { ForwardPool } from './forward-pool.js';
import type { ForwardResult, ForwardTask } from './task-types.js';

export interface FaultPolicy {
  /** A task with no result after this long has failed. */
  taskTimeoutMs: number;
  /** What the task holds, for messages ("batch 3 (lines 31-40)"); called only when one is needed. */
  describe: () => string;
}

/** Runs `task` on `pool`, retrying a fault once; rejects with a WorkerTaskError after a second one. */
export function runTask(pool: ForwardPool, task: ForwardTask, policy: FaultPolicy): Promise<ForwardResult> {
  let first: Error | null = null;
  // The clock starts once the workers are up: booting them is not the task's time.
  const timedOut$ = from(pool.ready).pipe(
    delay(policy.taskTimeoutMs),
    mergeMap(() => throwError(() => new Error(`no result after --task-timeout ${policy.taskTimeoutMs} ms`))),
  );
  const result$ = race(attempt(pool, task), timedOut$).pipe(
    retry({
      count: 1,
      delay: (error: Error) => {
        first = error;
        return [0];
      },
    }),
  );
  return lastValueFrom(result$).catch((second: Error) => {
    const what = policy.describe();
    if (first === null) throw new WorkerTaskError(`${what}: ${second.message}`, { cause: second });
    throw new WorkerTaskError(`${what} failed twice in a worker: ${first.message}; then: ${second.message}`, {
      cause: second,
    });
  });
}

/** One try; unsubscribing before it settles (a timeout) aborts it, which ends its worker. */
function attempt(pool: ForwardPool, task: ForwardTask): Observable<ForwardResult> {
  return new Observable<ForwardResult>((subscriber) => {
    const abort = new AbortController();
    let settled = false;
    pool.run(task, abort.signal).then(
      (result) => {
        settled = true;
        subscriber.next(result);
        subscriber.complete();
      },
      (error: unknown) => {
        settled = true;
        subscriber.error(error);
      },
    );
    return () => {
      if (!settled) abort.abort();
    };
  });
}
