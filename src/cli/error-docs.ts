// The README's "Exit codes" and "Error codes" tables, rendered from src/errors.ts (`npm run docs` writes
// them between their markers; test/errors/ fails when the README differs).
import { ERROR_CODES, EXIT_CODE_MEANINGS } from '../errors.js';

export function exitCodesMarkdown(): string {
  const rows = Object.entries(EXIT_CODE_MEANINGS).map(([code, meaning]) => `| ${code} | ${meaning} |`);
  return ['| exit | meaning |', '|---:|---|', ...rows].join('\n');
}

export function errorCodesMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, { exit, meaning }]) => `| \`${code}\` | ${exit} | ${meaning} |`);
  return ['| code | exit | meaning |', '|---|---:|---|', ...rows].join('\n');
}

/** `text` with the lines between `<!-- NAME:start -->` and `<!-- NAME:end -->` replaced by `body`. */
export function replaceMarkedBlock(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${start} ... ${end} block`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** The body of the marked block NAME in `text`, or null when there is none. */
export function markedBlock(text: string, name: string): string | null {
  const start = `<!-- ${name}:start -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(`<!-- ${name}:end -->`);
  return from < 0 || to < from ? null : text.slice(from + start.length, to).trim();
}

export const ERROR_DOC_BLOCKS: Record<string, () => string> = {
  'exit-codes': exitCodesMarkdown,
  'error-codes': errorCodesMarkdown,
};
