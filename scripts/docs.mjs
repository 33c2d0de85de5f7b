// `npm run docs` (after `npm run build`): writes what is generated from the code into the docs: docs/cli.md
// (every command's options, from the option tables in src/cli/), and in README.md the pipeline's option
// table and the exit-code and error-code tables (src/errors.ts), between their markers. Nothing else in
// README.md is touched. test/cli/options-doc.test.ts and test/errors/codes.test.ts fail while they are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const load = (module) => import(pathToFileURL(resolve(root, 'dist/src/cli', module)).href);
const { cliDoc, replaceBlock } = await load('options-doc.js');
const { ERROR_DOC_BLOCKS } = await load('error-docs.js');
const { replaceMarkedBlock } = await load('marked-blocks.js');

function write(file, text) {
  const path = resolve(root, file);
  let before = null;
  try {
    before = readFileSync(path, 'utf8');
  } catch {
    // a new file
  }
  if (before === text) return console.log(`${file} is up to date`);
  writeFileSync(path, text);
  console.log(`wrote ${file}`);
}

write('docs/cli.md', cliDoc());
let readme = replaceBlock(readFileSync(resolve(root, 'README.md'), 'utf8'), 'pipeline');
for (const [name, render] of Object.entries(ERROR_DOC_BLOCKS))
  readme = readme && replaceMarkedBlock(readme, name, render());
if (readme === null) {
  console.error(
    'README.md lacks a <!-- NAME:start --> ... <!-- NAME:end --> block (options:pipeline, exit-codes, error-codes)',
  );
  process.exitCode = 1;
} else {
  write('README.md', readme);
}
