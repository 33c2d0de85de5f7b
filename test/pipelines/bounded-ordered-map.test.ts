import test from 'ava';
import { lastValueFrom, toArray } from 'rxjs';
import { boundedOrderedMap } from '../../pipelines/bounded-ordered-map.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A source of 0..n-1 that records how far ahead of the consumer it has been pulled. */
function countingSource(n: number, probe: { pulled: number; throwAt?: number }) {
  return (async function* () {
    for (let i = 0; i < n; i++) {
      if (probe.throwAt === i) throw new Error(`bad item ${i}`);
      probe.pulled++;
      yield i;
    }
  })();
}

test('emits every result in source order although tasks finish out of order', async (t) => {
  const probe = { pulled: 0 };
  const out = await lastValueFrom(
    boundedOrderedMap(countingSource(50, probe), async (i) => {
      await sleep((i * 7) % 5);
      return i * 10;
    }, { limit: 4 }).pipe(toArray()),
  );
  t.deepEqual(out, Array.from({ length: 50 }, (_, i) => i * 10));
});

for (const limit of [1, 2, 5]) {
  test(`limit ${limit}: at most ${limit} items in flight, and at most ${limit} more waiting to be emitted in order`, async (t) => {
    const probe = { pulled: 0 };
    let emitted = 0;
    let worst = 0;
    let active = 0;
    let worstActive = 0;
    await new Promise<void>((resolve, reject) => {
      boundedOrderedMap(countingSource(40, probe), async (i) => {
        active++;
        worstActive = Math.max(worstActive, active);
        worst = Math.max(worst, probe.pulled - emitted);
        await sleep(i % 3 === 0 ? 6 : 1); // a slow head-of-line item every third
        active--;
        return i;
      }, { limit, reorderLimit: limit }).subscribe({
        next: () => {
          emitted++;
        },
        error: reject,
        complete: resolve,
      });
    });
    t.is(emitted, 40);
    t.true(worst <= 2 * limit, `pulled ahead by ${worst}`);
    t.true(worstActive <= limit, `${worstActive} in flight`);
  });
}

test('waits for downstreamReady before reusing a slot', async (t) => {
  const probe = { pulled: 0 };
  let ready = Promise.resolve();
  let emitted = 0;
  let worst = 0;
  await new Promise<void>((resolve, reject) => {
    boundedOrderedMap(countingSource(20, probe), async (i) => i, {
      limit: 2,
      downstreamReady: () => ready,
    }).subscribe({
      next: () => {
        emitted++;
        worst = Math.max(worst, probe.pulled - emitted);
        ready = sleep(3).then(() => undefined); // a slow writer
      },
      error: reject,
      complete: resolve,
    });
  });
  t.is(emitted, 20);
  t.true(worst <= 4, `pulled ahead by ${worst}`);
});

test('reorderLimit 0: nothing is pulled while a settled result waits for the head of the line', async (t) => {
  const probe = { pulled: 0 };
  let emitted = 0;
  let worst = 0;
  await new Promise<void>((resolve, reject) => {
    boundedOrderedMap(countingSource(30, probe), async (i) => {
      worst = Math.max(worst, probe.pulled - emitted);
      await sleep(i % 4 === 0 ? 5 : 1);
      return i;
    }, { limit: 3, reorderLimit: 0 }).subscribe({ next: () => emitted++, error: reject, complete: resolve });
  });
  t.is(emitted, 30);
  t.true(worst <= 3, `pulled ahead by ${worst}`);
});

test('a source error lets the items in flight finish, then errors', async (t) => {
  const probe = { pulled: 0, throwAt: 7 };
  const seen: number[] = [];
  const error = await t.throwsAsync(
    lastValueFrom(
      boundedOrderedMap(countingSource(20, probe), async (i) => {
        await sleep(2);
        seen.push(i);
        return i;
      }, { limit: 3 }),
    ),
  );
  t.is(error?.message, 'bad item 7');
  t.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
});

test('a failed item errors after the items before it were emitted', async (t) => {
  const emitted: number[] = [];
  const error = await t.throwsAsync(
    new Promise((resolve, reject) => {
      boundedOrderedMap(countingSource(20, { pulled: 0 }), async (i) => {
        await sleep(i === 5 ? 5 : 1);
        if (i === 5) throw new Error('task 5 failed');
        return i;
      }, { limit: 4 }).subscribe({ next: (v) => emitted.push(v), error: reject, complete: () => resolve(undefined) });
    }),
  );
  t.is(error?.message, 'task 5 failed');
  t.deepEqual(emitted, [0, 1, 2, 3, 4]);
});

test('abort stops pulling, finishes what is in flight and completes', async (t) => {
  const controller = new AbortController();
  const probe = { pulled: 0 };
  const emitted: number[] = [];
  await new Promise<void>((resolve, reject) => {
    boundedOrderedMap(countingSource(1000, probe), async (i) => {
      if (i === 10) controller.abort();
      await sleep(1);
      return i;
    }, { limit: 3, signal: controller.signal }).subscribe({ next: (v) => emitted.push(v), error: reject, complete: resolve });
  });
  t.true(emitted.length >= 11 && emitted.length <= 13, `emitted ${emitted.length}`);
  t.deepEqual(emitted, Array.from({ length: emitted.length }, (_, i) => i));
  t.is(probe.pulled, emitted.length);
});

test('an empty source completes without emitting', async (t) => {
  const out = await lastValueFrom(boundedOrderedMap(countingSource(0, { pulled: 0 }), async (i) => i, { limit: 2 }).pipe(toArray()));
  t.deepEqual(out, []);
});
