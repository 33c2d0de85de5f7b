#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm install`).
import('../dist/src/cli/pipeline.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
    process.stderr.write('nnpipe: the compiled CLI is missing; run `npm install` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw error;
});
