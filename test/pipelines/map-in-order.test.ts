// The bounded, ordered fan-out: results in source order whatever order they settle in; never more than
// `limit` items outstanding; errors in their place (the results before them first); a stop signal ends
// pulling and lets what was taken finish; a consumer that stops early closes the source.
import test from 'ava';
import fc from 'fast-check';
import { mapInOrder } from '../../pipelines/map-in-order.js';

async function* numbers(n: number, onPull?: (i: number) => void): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    onPull?.(i);
    yield i;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('results come in source order, and at most `limit` items are outstanding', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat(5), { minLength: 0, maxLength: 30 }),
      fc.integer({ min: 1, max: 6 }),
      async (delays, limit) => {
        let pulled = 0;
        let taken = 0;
        let worst = 0;
        const out: number[] = [];
        const source = numbers(delays.length, () => {
          pulled++;
          worst = Math.max(worst, pulled - taken);
        });
        for await (const value of mapInOrder(source, async (i) => (await delay(delays[i]), i * 10), { limit })) {
          taken++;
          out.push(value);
        }
        t.deepEqual(
          out,
          delays.map((_, i) => i * 10),
        );
        t.true(worst <= limit, `${worst} outstanding with limit ${limit}`);
      },
    ),
    { numRuns: 60 },
  );
});

test('a failed item: the results before it, then its error; a source error likewise', async (t) => {
  const out: number[] = [];
  const failing = mapInOrder(
    numbers(10),
    async (i) => {
      await delay(i === 3 ? 5 : 0);
      if (i === 3) throw new Error('item 3');
      return i;
    },
    { limit: 4 },
  );
  await t.throwsAsync(
    (async () => {
      for await (const value of failing) out.push(value);
    })(),
    { message: 'item 3' },
  );
  t.deepEqual(out, [0, 1, 2]);

  const broken = (async function* () {
    yield 1;
    yield 2;
    throw new Error('source');
  })();
  const got: number[] = [];
  await t.throwsAsync(
    (async () => {
      for await (const value of mapInOrder(broken, async (i) => (await delay(3), i), { limit: 4 })) got.push(value);
    })(),
    { message: 'source' },
  );
  t.deepEqual(got, [1, 2]);
});

test('abort: nothing more is pulled; what was taken finishes and comes out', async (t) => {
  const controller = new AbortController();
  let pulled = 0;
  const out: number[] = [];
  for await (const value of mapInOrder(
    numbers(1000, () => pulled++),
    async (i) => (await delay(1), i),
    { limit: 3, signal: controller.signal },
  )) {
    out.push(value);
    if (value === 5) controller.abort();
  }
  t.deepEqual(out.slice(0, 6), [0, 1, 2, 3, 4, 5]);
  t.true(out.length <= 9, `${out.length} results`);
  t.is(out.length, pulled);
});

test('a consumer that stops early closes the source; items pulled later are dropped', async (t) => {
  let closed = false;
  const source = (async function* () {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      closed = true;
    }
  })();
  for await (const value of mapInOrder(source, async (i) => i, { limit: 2 })) if (value === 4) break;
  await delay(5);
  t.true(closed);
});

test('ready(): the next result waits for it', async (t) => {
  let writing = Promise.resolve();
  const order: string[] = [];
  for await (const value of mapInOrder(numbers(3), async (i) => i, {
    limit: 2,
    ready: () => writing,
  })) {
    order.push(`got ${value}`);
    writing = delay(2).then(() => void order.push(`wrote ${value}`));
  }
  t.deepEqual(order, ['got 0', 'wrote 0', 'got 1', 'wrote 1', 'got 2', 'wrote 2']);
});

test('a limit that is not a positive integer is a programming error', async (t) => {
  await t.throwsAsync(mapInOrder(numbers(1), async (i) => i, { limit: 0 }).next(), { instanceOf: RangeError });
});
