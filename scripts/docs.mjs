// `npm run docs`: writes the tables generated from the code into README.md (between their markers).
// Run after `npm run build`; test/errors/ (and the options tests) fail when the README differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_DOC_BLOCKS, replaceMarkedBlock } from '../dist/src/cli/error-docs.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
let readme = readFileSync(readmePath, 'utf8');
for (const [name, render] of Object.entries(ERROR_DOC_BLOCKS)) readme = replaceMarkedBlock(readme, name, render());
writeFileSync(readmePath, readme);
console.log('docs: README.md tables written');
