#!/usr/bin/env node
// The `nnpipe` command. It runs the bundled CLI (dist/bundle/, built by `npm run build`, which
// `npm install` runs): one file starts much faster than the ~150 compiled modules it is made of.
import('../dist/bundle/nnpipe.mjs').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bundle/nnpipe')) {
    process.stderr.write('nnpipe: the compiled CLI is missing; run `npm install` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw error;
});
