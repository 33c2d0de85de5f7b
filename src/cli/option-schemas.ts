// Zod schemas for command-line values, shared by every command. Commander hands us strings; these
// turn them into typed values or fail with a message that names the option.
import { z } from 'zod';

/** A positive integer written in plain decimal ("100"; not "1e2", "0x10" or "10.0"). */
export const positiveInt = z
  .string()
  .regex(/^[0-9]+$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n) && n >= 1, 'must be a positive integer');

/** A number between 0 and 1 inclusive. */
export const unitInterval = z
  .string()
  .regex(/^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$/, 'must be a number between 0 and 1')
  .transform(Number);

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `must be one of ${values.join(', ')}` });
}

/** A comma-separated list of positive integers ("1,10,100"). */
export const positiveIntList = z
  .string()
  .transform((text) => text.split(',').map((part) => part.trim()))
  .pipe(z.array(positiveInt).min(1, 'must list at least one value'));
