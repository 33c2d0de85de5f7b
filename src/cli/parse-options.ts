// Validates commander's raw option values against a zod schema, turning the first problem into a
// UsageError that names the option as the user typed it (`--batch-size must be a positive integer`).
import * as z from 'zod/mini';
import '../zod-locale.js';
import { UsageError } from '../errors.js';

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function parseOptions<S extends z.ZodMiniType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const result = z.safeParse(schema, raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue.path.length > 0 ? String(issue.path[0]) : '';
  const value = key && raw[key] !== undefined ? ` (got '${String(raw[key])}')` : '';
  throw new UsageError(key ? `${flagName(key)} ${issue.message}${value}` : issue.message);
}
