// The error-code table is complete and true: every code the source throws or reports is in it, every
// entry is used, each error class gets its exit code from it, and the README shows the same tables.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ERROR_DOC_BLOCKS } from '../../src/cli/error-docs.js';
import { markedBlock } from '../../src/cli/marked-blocks.js';
import {
  DataError,
  ERROR_CODES,
  EXIT_CODE_MEANINGS,
  ExitCode,
  PipelineError,
  UsageError,
  errorCodeOf,
} from '../../src/errors.js';
import { projectRoot } from '../../src/paths.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(c?ts|cc)$/.test(name) ? [path] : [];
  });
}

const sources = ['src', 'pipelines', 'workers']
  .flatMap((d) => files(resolve(projectRoot, d)))
  .filter((f) => !f.endsWith('/src/errors.ts'));
const used = new Map<string, string>();
const errorsFile = resolve(projectRoot, 'src/errors.ts');
// errors.ts itself counts after its table (the error classes' own codes).
const texts = [
  ...sources.map((f) => [f, readFileSync(f, 'utf8')]),
  [errorsFile, readFileSync(errorsFile, 'utf8').split('export type ErrorCode')[1]],
];
for (const [file, text] of texts) for (const [code] of text.matchAll(/PIPE_ERR_[A-Z0-9_]+/g)) used.set(code, file);

test('every code in the source is in the table', (t) => {
  const missing = [...used]
    .filter(([code]) => !Object.hasOwn(ERROR_CODES, code))
    .map(([code, file]) => `${code} (${file})`);
  t.deepEqual(missing, []);
});

test('every code in the table is used by the source', (t) => {
  t.deepEqual(
    Object.keys(ERROR_CODES).filter((code) => !used.has(code)),
    [],
  );
});

test("every entry's exit code is a documented exit code", (t) => {
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) t.true(Object.hasOwn(EXIT_CODE_MEANINGS, exit), code);
  t.deepEqual(
    Object.keys(EXIT_CODE_MEANINGS)
      .map(Number)
      .sort((a, b) => a - b),
    Object.values(ExitCode)
      .slice()
      .sort((a, b) => a - b),
  );
});

test('errors take their exit code from the table', (t) => {
  t.is(new UsageError('x').exitCode, 2);
  t.is(new DataError('f.csv', 3, 'bad').exitCode, 1);
  t.is(new PipelineError('PIPE_ERR_LOCKED', 'held').exitCode, 75);
  t.is(new PipelineError('PIPE_ERR_REDIS', 'gone').exitCode, 69);
  t.is(new PipelineError('PIPE_ERR_MERGE', 'mixed').exitCode, 2);
});

test('a code read back from elsewhere is kept when known, else unexpected', (t) => {
  t.is(errorCodeOf('PIPE_ERR_DATA'), 'PIPE_ERR_DATA');
  t.is(errorCodeOf('PIPE_ERR_NOPE'), 'PIPE_ERR_UNEXPECTED');
  t.is(errorCodeOf('toString'), 'PIPE_ERR_UNEXPECTED');
});

test('the README shows the exit-code and error-code tables as generated (npm run docs)', (t) => {
  const readme = readFileSync(resolve(projectRoot, 'README.md'), 'utf8');
  for (const [name, render] of Object.entries(ERROR_DOC_BLOCKS)) t.is(markedBlock(readme, name), render(), name);
});
