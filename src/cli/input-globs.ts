// --input patterns. A shell expands `--input data/part-*.csv` before nnpipe runs; a quoted pattern, or
// one in a systemd unit, a crontab run without a shell or `nnpipe schedule`'s arguments, reaches nnpipe
// as written. nnpipe then expands it as a shell would: the files it matches, in name order (fast-glob,
// loaded only when a pattern is given). A path that exists as written is taken as it is, whatever its
// characters, and a pattern that matches nothing is left as it is, to fail as a missing file would (so a
// schedule may start before its first file arrives).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type FastGlob from 'fast-glob';

/** Whether `input` is a pattern to expand: not a path that exists, and with `*`, `?`, `[...]` or `{a,b}` in it. */
export function isInputPattern(input: string): boolean {
  return MAGIC.test(input) && !existsSync(input) && fastGlob().isDynamicPattern(input);
}

/** The inputs with every pattern replaced by the files it matches (in name order); the rest as given. */
export function expandInputPatterns(inputs: readonly string[]): string[] {
  if (!inputs.some((input) => MAGIC.test(input))) return [...inputs];
  return inputs.flatMap((input) => {
    if (!isInputPattern(input)) return [input];
    const matches = fastGlob().sync(input, { onlyFiles: true, unique: true, suppressErrors: true });
    return matches.length === 0 ? [input] : matches.sort();
  });
}

/** A character without which nothing is a pattern (checked before fast-glob is loaded). */
const MAGIC = /[*?[{]/;
let loaded: typeof FastGlob | null = null;
const fastGlob = (): typeof FastGlob => (loaded ??= createRequire(import.meta.url)('fast-glob') as typeof FastGlob);
