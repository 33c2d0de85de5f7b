#!/usr/bin/env node
// The `nnpipe` command. It runs the bundled CLI (dist/bundle/, built by `npm run build`, which
// `npm install` runs): one file starts much faster than the ~150 compiled modules it is made of, and
// dist/bundle/nnpipe.mjs runs it with a V8 code cache (see scripts/bundle.mjs).
import('../dist/bundle/nnpipe.mjs').catch((error) => {
  // The loader missing (ERR_MODULE_NOT_FOUND) or the bundle it runs (MODULE_NOT_FOUND); only the first
  // line names the missing file (a CommonJS error's require stack names the bundle too).
  const missing = error && (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND');
  if (missing && String(error.message).split('\n')[0].includes('dist/bundle/nnpipe')) {
    process.stderr.write('nnpipe: the compiled CLI is missing; run `npm install` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw error;
});
