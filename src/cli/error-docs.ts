// The README's "Exit codes" and "Error codes" tables, rendered from src/errors.ts (`npm run docs` writes
// them between their markers, see marked-blocks.ts; test/errors/ fails when the README differs).
import { ERROR_CODES, EXIT_CODE_MEANINGS } from '../errors.js';

export function exitCodesMarkdown(): string {
  const rows = Object.entries(EXIT_CODE_MEANINGS).map(([code, meaning]) => `| ${code} | ${meaning} |`);
  return ['| exit | meaning |', '|---:|---|', ...rows].join('\n');
}

export function errorCodesMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, { exit, meaning }]) => `| \`${code}\` | ${exit} | ${meaning} |`);
  return ['| code | exit | meaning |', '|---|---:|---|', ...rows].join('\n');
}

export const ERROR_DOC_BLOCKS: Record<string, () => string> = {
  'exit-codes': exitCodesMarkdown,
  'error-codes': errorCodesMarkdown,
};
