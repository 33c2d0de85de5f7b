// RxJS has no lossless backpressure: `from(asyncIterable)` drains its source eagerly and
// `mergeMap(fn, n)` parks everything above `n` in an unbounded array. So the one place where the
// pipeline meets the pool is this pull-based operator: it pulls the next item from the source only
// while fewer than `limit` items are in flight (projected and not yet settled), and emits results in
// source order.
//
// Results that settle out of order wait for the head of the line. So that they cannot pile up behind a
// slow head-of-line item, no item is pulled while `limit + reorderLimit` items are pulled and not yet
// emitted (and the subscriber's `downstreamReady` has resolved after each emission). Memory is
// therefore bounded by that many items, whatever the input size.
import { Observable } from 'rxjs';

export interface BoundedOrderedMapOptions {
  /** Maximum number of items being projected at once (e.g. batches queued or running in the pool). */
  limit: number;
  /** Maximum number of settled results waiting for an earlier one to be emitted. @default limit */
  reorderLimit?: number;
  /** Stop pulling when aborted; items already in flight still finish and are emitted. */
  signal?: AbortSignal;
  /** Awaited after each emission before its slot is reused (e.g. a file writer's drain). */
  downstreamReady?: () => Promise<void> | void;
}

export function boundedOrderedMap<T, R>(
  source: AsyncIterable<T>,
  project: (item: T, index: number) => Promise<R>,
  options: BoundedOrderedMapOptions,
): Observable<R> {
  const { limit, signal, downstreamReady } = options;
  const reorderLimit = options.reorderLimit ?? limit;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  if (!Number.isInteger(reorderLimit) || reorderLimit < 0) throw new RangeError('reorderLimit must be a non-negative integer');

  return new Observable<R>((subscriber) => {
    const iterator = source[Symbol.asyncIterator]();
    // Results by index, kept only until they can be emitted in order (at most `reorderLimit` entries).
    const pending = new Map<number, { ok: true; value: R } | { ok: false; error: unknown }>();
    let active = 0; // items projected and not yet settled
    let nextIndex = 0; // index of the next item to pull
    let emitIndex = 0; // index of the next item to emit
    let sourceDone = false;
    let pulling = false;
    let closed = false;
    let sourceError: { error: unknown } | null = null;

    const fail = (error: unknown) => {
      if (closed) return;
      closed = true;
      subscriber.error(error);
    };

    const pump = async (): Promise<void> => {
      if (pulling || closed) return;
      pulling = true;
      try {
        while (!closed && !sourceDone && !signal?.aborted && active < limit && nextIndex - emitIndex < limit + reorderLimit) {
          const step = await iterator.next();
          if (closed) return;
          if (step.done) {
            sourceDone = true;
            break;
          }
          const index = nextIndex++;
          active++;
          project(step.value, index).then(
            (value) => settle(index, { ok: true, value }),
            (error: unknown) => settle(index, { ok: false, error }),
          );
        }
      } catch (error) {
        // A source error (e.g. a bad row) ends the input, but the items already in flight still
        // finish and are emitted first, so the report counts everything that was scored.
        sourceError = { error };
        sourceDone = true;
      } finally {
        pulling = false;
      }
      if (signal?.aborted) sourceDone = true;
      maybeComplete();
    };

    const maybeComplete = () => {
      if (!closed && sourceDone && emitIndex === nextIndex && !draining) {
        closed = true;
        if (sourceError) subscriber.error(sourceError.error);
        else subscriber.complete();
      }
    };

    let draining = false;
    const settle = (index: number, outcome: { ok: true; value: R } | { ok: false; error: unknown }) => {
      active--;
      if (closed) return;
      pending.set(index, outcome);
      void drain();
    };

    // Emit every contiguous finished result at the head, in order.
    const drain = async (): Promise<void> => {
      if (draining) return;
      draining = true;
      try {
        while (!closed && pending.has(emitIndex)) {
          const outcome = pending.get(emitIndex)!;
          pending.delete(emitIndex);
          if (!outcome.ok) {
            fail(outcome.error);
            return;
          }
          subscriber.next(outcome.value);
          if (downstreamReady) await downstreamReady();
          emitIndex++;
        }
      } catch (error) {
        fail(error);
        return;
      } finally {
        draining = false;
      }
      maybeComplete();
      void pump();
    };

    const onAbort = () => {
      // Wake the pump so it notices the abort and completes once in-flight items are emitted.
      void pump();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void pump();

    return () => {
      closed = true;
      signal?.removeEventListener('abort', onAbort);
      pending.clear();
      void iterator.return?.();
    };
  });
}
