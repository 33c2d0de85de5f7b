#!/usr/bin/env node
// `npm run docs:options`: writes every command's option table, generated from the option tables in
// src/cli/ (src/cli/options-doc.ts, from the build in dist/), into docs/cli.md (the whole file) and the
// pipeline's into README.md between <!-- options:pipeline:start --> and <!-- options:pipeline:end -->
// (nothing else in README.md is touched). test/cli/options-doc.test.ts fails when either is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { cliDoc, replaceBlock } = await import(pathToFileURL(resolve(root, 'dist/src/cli/options-doc.js')).href);

const write = (file, text) => {
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
};

write('docs/cli.md', cliDoc());
const readme = replaceBlock(readFileSync(resolve(root, 'README.md'), 'utf8'), 'pipeline');
if (readme === null) {
  console.error('README.md has no <!-- options:pipeline:start --> ... <!-- options:pipeline:end --> block; add the markers where the table goes');
  process.exitCode = 1;
} else {
  write('README.md', readme);
}
