// Zod schemas for command-line values, shared by every command. Commander hands us strings; these
// turn them into typed values or fail with a message that names the option.
// (zod/mini's functional API: see src/zod-locale.ts.)
import { totalmem } from 'node:os';
import * as z from 'zod/mini';

/** A positive integer written in plain decimal ("100"; not "1e2", "0x10" or "10.0"). */
export const positiveInt = z
  .pipe(z.string().check(z.regex(/^[0-9]+$/, 'must be a positive integer')), z.transform(Number))
  .check(z.refine((n) => Number.isSafeInteger(n) && n >= 1, 'must be a positive integer'));

/** A non-negative integer written in plain decimal ("0", "12"). */
export const nonNegativeInt = z
  .pipe(z.string().check(z.regex(/^[0-9]+$/, 'must be a non-negative integer')), z.transform(Number))
  .check(z.refine((n) => Number.isSafeInteger(n), 'must be a non-negative integer'));

/** The longest delay Node.js timers take (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in milliseconds that a timer can wait: a positive integer up to MAX_TIMER_MS. */
export const milliseconds = positiveInt.check(
  z.refine(
    (n) => n <= MAX_TIMER_MS,
    `must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node.js can set)`,
  ),
);

/**
 * What options that size memory (batches in flight, a network to train) may ask for: half of what this
 * machine, or the cgroup the process runs in, has.
 */
export function memoryBudgetBytes(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const memory = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.floor(memory / 2);
}

/** A number between 0 and 1 inclusive. */
export const unitInterval = z.pipe(
  z.string().check(z.regex(/^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$/, 'must be a number between 0 and 1')),
  z.transform(Number),
);

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `must be one of ${values.join(', ')}` });
}

/** A comma-separated list of positive integers ("1,10,100"). */
export const positiveIntList = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text: string) => text.split(',').map((part) => part.trim())),
  ),
  z.array(positiveInt).check(z.minLength(1, 'must list at least one value')),
);
