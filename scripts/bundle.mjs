#!/usr/bin/env node
// Bundles the pipeline CLI (the `nnpipe` bin) into dist/bundle/ with esbuild, after tsc.
//
// Why: start-up. Loading the CLI's ~150 compiled modules and their dependencies one file at a time
// costs ~0.3 s on this kind of machine (module resolution and evaluation; rxjs alone loads every
// operator); one bundled file starts in a fraction of that, which matters for a batch job whose work
// takes ~0.3 s. Optional parts (HTML report, pickle/npz readers, csv-parse, locks, pretty logs) are
// loaded with import() and land in separate chunks that only load when used.
//
// The worker modules are not bundled: Piscina starts them from dist/workers/ (see src/pool/worker-files.ts),
// and piscina itself stays external (it starts its own worker bootstrap file).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { nnpipe: resolve(root, 'dist/src/cli/pipeline.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external: ['piscina'],
  // rxjs's "node" export is its CommonJS build, which loads every operator; its ES-module build lets
  // esbuild keep only what the pipeline uses.
  alias: { rxjs: resolve(root, 'node_modules/rxjs/dist/esm/index.js') },
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node built-ins and use __filename / __dirname; give
  // the ES-module chunks real ones.
  banner: {
    js: [
      "import { createRequire as __nnpipeCreateRequire } from 'node:module';",
      "import { fileURLToPath as __nnpipeFileURLToPath } from 'node:url';",
      "import { dirname as __nnpipeDirname } from 'node:path';",
      'const require = __nnpipeCreateRequire(import.meta.url);',
      'const __filename = __nnpipeFileURLToPath(import.meta.url);',
      'const __dirname = __nnpipeDirname(__filename);',
    ].join(' '),
  },
});
