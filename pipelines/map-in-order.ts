// The bounded, ordered fan-out: the one place where the pipeline's pulled stages meet the pool.
//
// RxJS has no lossless backpressure (`from(asyncIterable)` drains its source, `mergeMap(fn, n)` parks
// whatever is above n in an unbounded array; ../shared/notes/library-notes.md §3), so this is a pull-based
// async generator: it takes the next item from its source only while fewer than `limit` are outstanding
// (being projected, settled and waiting for an earlier one, or with the consumer), and yields results in
// source order. A
// slow item at the head holds the others back, so memory is bounded by `limit` items, whatever the input.
//
// Errors keep their place in the order: the results before a failed item, or before a source error, are
// yielded first; then it is thrown. When `signal` aborts, nothing more is pulled and the items already
// taken still finish and are yielded.

export interface MapInOrderOptions<T> {
  /** Items outstanding at most (projected and not yet yielded). */
  limit: number;
  signal?: AbortSignal;
  /** Awaited after each result is taken, before the next one is yielded (e.g. a file writer's drain). */
  ready?: () => Promise<void> | void;
  /** Gets an item that arrived after the consumer had stopped (to free what it holds). */
  drop?: (item: T) => void;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function* mapInOrder<T, R>(
  source: AsyncIterable<T>,
  project: (item: T) => Promise<R>,
  options: MapInOrderOptions<T>,
): AsyncGenerator<R, void, undefined> {
  const { limit, signal } = options;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`mapInOrder: limit must be a positive integer, got ${limit}`);
  const iterator = source[Symbol.asyncIterator]();
  const queue: Array<Promise<Settled<R>>> = [];
  let sourceDone = false;
  let closed = false;
  let sourceError: { error: unknown } | null = null;
  let pulling = null as Promise<void> | null;
  let wake: (() => void) | null = null;
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    wake?.();
    wake = null;
  };

  const pull = async (): Promise<void> => {
    while (!sourceDone && queue.length < limit && !signal?.aborted) {
      let step: IteratorResult<T>;
      try {
        step = await iterator.next();
      } catch (error) {
        sourceError = { error };
        sourceDone = true;
        break;
      }
      if (closed) {
        if (!step.done) options.drop?.(step.value);
        break;
      }
      if (step.done) sourceDone = true;
      else
        queue.push(
          project(step.value).then(
            (value): Settled<R> => ({ ok: true, value }),
            (error: unknown): Settled<R> => ({ ok: false, error }),
          ),
        );
      notify();
    }
    pulling = null;
    notify();
  };
  const startPulling = () => {
    if (pulling === null && !sourceDone && queue.length < limit && !signal?.aborted) pulling = pull();
  };

  try {
    for (;;) {
      startPulling();
      if (queue.length > 0) {
        const settled = await queue[0];
        if (!settled.ok) throw settled.error;
        // Its slot frees once the consumer is done with it (and downstream is ready for more).
        yield settled.value;
        queue.shift();
        await options.ready?.();
        continue;
      }
      if (sourceError !== null) throw (sourceError as { error: unknown }).error;
      if (sourceDone || (signal?.aborted && pulling === null)) return;
      await changed();
    }
  } finally {
    // Not waiting for a pull under way: a source that is slow to give its next item (stdin) must not
    // hold up a run that is over. What it gives after this is dropped.
    closed = true;
    sourceDone = true;
    if (pulling === null) await iterator.return?.();
    else void pulling.then(() => iterator.return?.()).catch(() => undefined);
  }
}
