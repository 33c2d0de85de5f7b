// The experiment's grid: the comma-separated lists of the command line (as zod schemas, so that
// parse-options.ts turns a problem into a UsageError naming the flag) and their expansion into the
// configurations to measure, in measuring order.
import * as z from 'zod/mini';
import { UsageError } from '../errors.js';
import type { Configuration, PoolChoice } from './types.js';

/** A --max-in-flight item: a fixed number of batches, or a multiple of the thread count ("2x"). */
export type InFlightSpec =
  | { kind: 'fixed'; value: number; text: string }
  | { kind: 'perThread'; factor: number; text: string };

/** `--fresh-probe`: the batch size of the fresh-pool measurement added per thread count to a warm grid. */
export type FreshProbe = number | 'auto' | 'none';

export interface GridSpec {
  batchSizes: number[];
  threads: number[];
  maxInFlight: InFlightSpec[];
  pool: PoolChoice;
  freshProbe: FreshProbe;
}

/** The payload a zod/mini transform gets: its issues are the parse's (mini's transforms have no addIssue). */
type Ctx = z.core.ParsePayload;

function fail(ctx: Ctx, message: string): typeof z.NEVER {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
  return z.NEVER;
}

/** Splits "1, 10,100" into trimmed items; an empty list or item is an issue. */
function items(text: string, what: string, ctx: Ctx): string[] | null {
  if (text.trim() === '') {
    fail(ctx, `is empty: give one or more ${what} separated by commas`);
    return null;
  }
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    fail(ctx, `has an empty item: give ${what} separated by single commas`);
    return null;
  }
  return parts;
}

function firstDuplicate<T>(values: T[]): T | undefined {
  return values.find((value, i) => values.indexOf(value) !== i);
}

/**
 * A list of positive integers: "1,10,100". `noun` names one value in messages ("batch size"); `max`
 * rejects larger values with `maxMessage`.
 */
export function positiveIntList(noun: string, options: { max?: number; maxMessage?: (n: number) => string } = {}) {
  return z.pipe(
    z.string(),
    z.transform((text: string, ctx): number[] => {
      const parts = items(text, `${noun}s`, ctx);
      if (!parts) return z.NEVER;
      const values: number[] = [];
      for (const part of parts) {
        if (!/^[0-9]+$/.test(part)) return fail(ctx, `must list whole numbers: '${part}' is not a ${noun}`);
        const n = Number(part);
        if (!Number.isSafeInteger(n)) return fail(ctx, `must list whole numbers: '${part}' is too large`);
        if (n < 1) return fail(ctx, `must list values of at least 1: ${noun} ${part} is not allowed`);
        if (options.max !== undefined && n > options.max)
          return fail(
            ctx,
            options.maxMessage?.(n) ?? `must list values of at most ${options.max}: '${part}' is too large`,
          );
        values.push(n);
      }
      const duplicate = firstDuplicate(values);
      if (duplicate !== undefined) return fail(ctx, `lists ${noun} ${duplicate} twice`);
      return values;
    }),
  );
}

/** --max-in-flight: "2x" (2 x threads, the pipeline's default), "4", or a mix: "1,2x,8". */
export const inFlightList = z.pipe(
  z.string(),
  z.transform((text: string, ctx): InFlightSpec[] => {
    const parts = items(text, 'values such as 4 (batches) or 2x (2 x threads)', ctx);
    if (!parts) return z.NEVER;
    const specs: InFlightSpec[] = [];
    for (const part of parts) {
      const match = /^([0-9]+)(x?)$/i.exec(part);
      if (!match)
        return fail(
          ctx,
          `must list whole numbers of batches (4) or multiples of the thread count (2x): '${part}' is neither`,
        );
      const n = Number(match[1]);
      if (!Number.isSafeInteger(n)) return fail(ctx, `'${part}' is too large`);
      if (n < 1) return fail(ctx, `must list values of at least 1: '${part}' would allow no batch in flight`);
      specs.push(
        match[2] ? { kind: 'perThread', factor: n, text: `${n}x` } : { kind: 'fixed', value: n, text: String(n) },
      );
    }
    const duplicate = firstDuplicate(specs.map((s) => s.text));
    if (duplicate !== undefined) return fail(ctx, `lists ${duplicate} twice`);
    return specs;
  }),
);

/** --fresh-probe: a batch size, `auto` (the grid's batch size nearest 100) or `none`. */
export const freshProbeOption = z.pipe(
  z.string(),
  z.transform((text: string, ctx): FreshProbe => {
    const value = text.trim().toLowerCase();
    if (value === 'auto' || value === 'none') return value;
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      return fail(ctx, `must be a batch size (a whole number of at least 1), auto or none`);
    }
    return Number(value);
  }),
);

export const resolveInFlight = (spec: InFlightSpec, threads: number): number =>
  spec.kind === 'fixed' ? spec.value : spec.factor * threads;

/** The grid batch size nearest 100 (the pipeline's default) on a log scale; the larger one on a tie. */
export function autoProbeBatchSize(batchSizes: number[]): number {
  let best = batchSizes[0];
  for (const size of batchSizes) {
    const d = Math.abs(Math.log(size / 100));
    const bestD = Math.abs(Math.log(best / 100));
    if (d < bestD - 1e-12 || (Math.abs(d - bestD) <= 1e-12 && size > best)) best = size;
  }
  return best;
}

/**
 * The configurations in measuring order: for each pool mode (warm first), each thread count, each
 * max-in-flight and each batch size, ascending; then, for a warm-only grid, one fresh-pool probe per thread
 * count (so that start-up cost is visible next to the warm figures).
 */
export function expandGrid(spec: GridSpec): Configuration[] {
  const batchSizes = [...spec.batchSizes].sort((a, b) => a - b);
  const threadCounts = [...spec.threads].sort((a, b) => a - b);
  // Two items that mean the same number of batches for some thread count would measure one point twice.
  for (const threads of threadCounts) {
    const seen = new Map<number, string>();
    for (const item of spec.maxInFlight) {
      const value = resolveInFlight(item, threads);
      const other = seen.get(value);
      if (other !== undefined) {
        throw new UsageError(
          `--max-in-flight ${other} and ${item.text} both mean ${value} batches in flight with --threads ${threads}; ` +
            `list each value once`,
        );
      }
      seen.set(value, item.text);
    }
  }
  const modes = spec.pool === 'both' ? (['warm', 'fresh'] as const) : ([spec.pool] as const);
  const configurations: Configuration[] = [];
  const add = (c: Omit<Configuration, 'id'>) => configurations.push({ id: configurations.length + 1, ...c });
  for (const pool of modes) {
    for (const threads of threadCounts) {
      const inFlight = spec.maxInFlight
        .map((item) => ({ item, value: resolveInFlight(item, threads) }))
        .sort((a, b) => a.value - b.value);
      for (const { item, value } of inFlight) {
        for (const batchSize of batchSizes)
          add({ pool, batchSize, threads, maxInFlight: value, maxInFlightSpec: item.text, probe: false });
      }
    }
  }
  if (spec.pool === 'warm' && spec.freshProbe !== 'none') {
    const batchSize = spec.freshProbe === 'auto' ? autoProbeBatchSize(batchSizes) : spec.freshProbe;
    const item = spec.maxInFlight[0];
    for (const threads of threadCounts) {
      add({
        pool: 'fresh',
        batchSize,
        threads,
        maxInFlight: resolveInFlight(item, threads),
        maxInFlightSpec: item.text,
        probe: true,
      });
    }
  }
  return configurations;
}

/** "warm, batch 100, 2 threads, 4 in flight": how messages and the progress line name a configuration. */
export function describeConfiguration(
  c: Pick<Configuration, 'pool' | 'batchSize' | 'threads' | 'maxInFlight'>,
): string {
  return (
    `${c.pool} pool, batch ${c.batchSize}, ${c.threads} thread${c.threads === 1 ? '' : 's'}, ${c.maxInFlight} ` +
    `in flight`
  );
}
