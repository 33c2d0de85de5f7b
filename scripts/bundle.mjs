#!/usr/bin/env node
// Bundles the pipeline CLI (the `nnpipe` bin) into dist/bundle/ with esbuild, after tsc, and prepares a
// V8 code cache for it.
//
// Why: start-up. Loading the CLI's ~150 compiled modules and their dependencies one file at a time
// costs ~0.3 s on this kind of machine (module resolution and evaluation; rxjs alone loads every
// operator); one bundled file starts in a fraction of that, which matters for a batch job whose work
// takes ~0.3 s. What is left is mostly V8 compiling the bundle, which the code cache removes:
//
//   dist/bundle/nnpipe.cjs             the CLI and its dependencies (piscina included, see below), one
//                                      CommonJS file, because Node 20 can hand V8 a code cache only for
//                                      a script (vm.Script cachedData), not for an ES module
//   dist/bundle/nnpipe.mjs             what bin/nnpipe.js (and the CLI tests) run: a small loader, below
//   dist/bundle/nnpipe.<id>.v8cache    V8's compiled code for the bundle, written by the loader after a run
//                                      on a test fixture at build time (so it holds the functions a real
//                                      run uses, not only the start-up code)
//
// Measured on a 2-core machine (medians of alternating runs): `--help` ~115 ms of CPU with the ES-module
// bundle, ~90 ms with the code cache, ~60 ms for `node -e 0`. The cache is never needed: the loader
// runs the bundle without it when it is missing, unreadable or rejected by V8 (another Node version or
// V8 flags), and then writes a new one at exit if it can. <id> is a hash of the bundle, so a cache can
// never be applied to another build (V8 itself checks only the source's length).
//
// Optional parts (HTML report, pickle/npz readers, csv-parse, locks) stay lazy: import() becomes a
// function that evaluates them on first use. pino-pretty and cli-progress are required on demand from
// node_modules. The worker modules are not bundled: Piscina starts them from dist/workers/ (see
// src/pool/worker-files.ts).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(root, 'dist/bundle');
const requireFromRoot = createRequire(resolve(root, 'package.json'));
rmSync(outdir, { recursive: true, force: true });

// Small source edits of two dependencies, each applied only where the text is exactly as expected (else
// the dependency is bundled unchanged, or for piscina left external, and the build says so).
const patches = [
  {
    // Piscina starts its worker bootstrap from `__dirname`, which in the bundle is dist/bundle/. Bundling
    // it saves loading its 14 CommonJS files at every start (~10 ms); its worker.js is found beside
    // its installed main file instead.
    name: 'piscina',
    file: resolve(dirname(requireFromRoot.resolve('piscina')), 'index.js'),
    from: "(0, node_path_1.resolve)(__dirname, 'worker.js')",
    to:
      '(0, node_path_1.resolve)((0, ' +
      "node_path_1.dirname)(require('node:module').createRequire(__filename).resolve('piscina')), " +
      "'worker.js')",
  },
  {
    // commander loads child_process (and with it net and dgram, ~3 ms) for git-style executable
    // subcommands, which nnpipe does not have: load it on first use instead.
    name: 'commander',
    file: resolve(dirname(requireFromRoot.resolve('commander')), 'lib/command.js'),
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
].filter((patch) => {
  const found = readFileSync(patch.file, 'utf8').includes(patch.from);
  if (!found)
    console.warn(
      `bundle: ${patch.name} has changed; not patched ` +
        `(${patch.name === 'piscina' ? 'left external' : 'bundled as it is'})`,
    );
  return found;
});

const bundleFile = resolve(outdir, 'nnpipe.cjs');
await build({
  entryPoints: [resolve(root, 'dist/src/cli/pipeline.js')],
  outfile: bundleFile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: patches.some((p) => p.name === 'piscina') ? [] : ['piscina'],
  // rxjs's "node" export is its CommonJS build, which loads every operator; its ES-module build lets
  // esbuild keep only what the pipeline uses.
  alias: { rxjs: resolve(root, 'node_modules/rxjs/dist/esm/index.js') },
  sourcemap: 'linked',
  logLevel: 'warning',
  // Non-ASCII characters escaped: the loader reads the bundle as latin1, ~15 ms faster than UTF-8 (checked below).
  charset: 'ascii',
  // A third smaller (names kept, so stack traces still read): read and matched to its code cache ~10 ms sooner.
  minifyWhitespace: true,
  // Our modules are ES modules: strict, and they find their files from import.meta.url.
  define: { 'import.meta.url': '__nnpipeImportMetaUrl' },
  banner: { js: `"use strict"; const __nnpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [
    {
      name: 'patch-dependencies',
      setup(b) {
        for (const patch of patches) {
          b.onLoad({ filter: new RegExp(`^${patch.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) }, () => ({
            contents: readFileSync(patch.file, 'utf8').replace(patch.from, patch.to),
            loader: 'js',
          }));
        }
      },
    },
  ],
});

// The forward worker, bundled too: each worker thread then loads one file instead of ~20 modules
// (measured: a 2-thread pool answers its first tasks ~14 ms sooner, median of 11). An ES module, as
// Piscina's workers load it with import() (workers/esm-entry.cts); piscina stays external (the worker
// must share the instance that Piscina's worker bootstrap loaded). Its WebAssembly kernel is looked up
// beside it, so it is copied here; the row decoder is found in the build folder above.
// src/pool/worker-files.ts uses dist/workers/forward.js when this file is missing.
await build({
  entryPoints: [resolve(root, 'dist/workers/forward.js')],
  outfile: resolve(outdir, 'forward-worker.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['piscina'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
const kernelWasm = resolve(root, 'dist/src/nn/kernels/forward-kernel.wasm');
// Missing when build-wasm failed: the bundled worker then falls back to the JavaScript kernel (with a
// warning), as the compiled one does.
if (existsSync(kernelWasm)) copyFileSync(kernelWasm, resolve(outdir, 'forward-kernel.wasm'));
// The native kernel likewise (scripts/build-native.mjs); missing when it was not built: WebAssembly then.
const kernelNative = resolve(root, 'dist/src/nn/kernels/forward-kernel.node');
if (existsSync(kernelNative)) copyFileSync(kernelNative, resolve(outdir, 'forward-kernel.node'));

const { PROGRAMS } = await import(pathToFileURL(resolve(root, 'dist/src/cli/programs.js')).href);
const bundleBytes = readFileSync(bundleFile);
if (bundleBytes.some((byte) => byte > 0x7f))
  throw new Error(`bundle: ${bundleFile} is not ASCII; its loader reads latin1`);
const bundleId = createHash('sha256').update(bundleBytes).digest('hex').slice(0, 16);
writeFileSync(resolve(outdir, 'nnpipe.mjs'), loaderSource(bundleId));

// Fill the code cache with a real run (a cache written after `--help` would hold only start-up code).
const fixture = resolve(root, 'test/fixtures/mnist-test-100.csv');
if (existsSync(fixture)) {
  const run = spawnSync(
    process.execPath,
    [resolve(outdir, 'nnpipe.mjs'), '--quiet', '--input', fixture, '--batch-size', '10'],
    { cwd: root, encoding: 'utf8' },
  );
  if (run.status !== 0)
    console.warn(
      `bundle: the run that fills the code cache failed (exit ${run.status}` +
        `); nnpipe will write the cache on its first run\n${run.stderr}`,
    );
}
if (!readdirSync(outdir).some((name) => name.endsWith('.v8cache')))
  console.warn('bundle: no code cache written; nnpipe will write it on its first run');

/** dist/bundle/nnpipe.mjs: runs nnpipe.cjs through vm.Script with the code cache, or plainly. */
function loaderSource(id) {
  return `#!/usr/bin/env node
// Generated by scripts/bundle.mjs. Runs the bundled CLI (nnpipe.cjs) with V8's compiled code from the
// cache beside it, so that start-up skips compiling it. The cache is never needed: without it (missing,
// unreadable, or rejected by V8 after a Node upgrade) the bundle is compiled as usual and, where the
// folder is writable, a new cache is written at exit. Only loading is guarded: an error of the CLI
// itself is not retried.
import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./nnpipe.cjs', import.meta.url));
const dir = dirname(file);
// The bundle's hash: a cache written for another build is never read.
const cacheFile = join(dir, 'nnpipe.${id}.v8cache');
const require = createRequire(file);

function saveCache(script) {
  const tmp = \`\${cacheFile}.\${process.pid}.tmp\`;
  try {
    accessSync(dir, constants.W_OK);
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing to clean up, or not ours to remove
    }
  }
}

/** The bundle as a CommonJS module function, or null if it cannot be compiled this way. */
function compile() {
  try {
    // ASCII (the build checks), so latin1 reads the same text without UTF-8 decoding.
    let source = readFileSync(file, 'latin1');
    if (source.startsWith('#!')) source = \`//\${source.slice(2)}\`;
    let cachedData;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
    const script = new vm.Script(\`(function (exports, require, module, __filename, __dirname) {\${source}\\n})\`, {
      filename: file,
      cachedData,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => saveCache(script));
    return script.runInThisContext();
  } catch {
    return null;
  }
}

// \`nnpipe train\` and the other programs of their own (src/cli/programs.ts) are not in the bundle: started
// as they are, before it is loaded (a dynamic import() from a script compiled with a code cache fails).
const programs = ${JSON.stringify(PROGRAMS)};
if (programs.includes(process.argv[2])) {
  const { runProgram } = await import(new URL('../src/cli/programs.js', import.meta.url).href);
  process.exitCode = await runProgram(process.argv[2], process.argv.slice(3));
} else {
  const moduleFunction = compile();
  if (moduleFunction) {
    const module = { id: file, filename: file, exports: {}, loaded: false };
    moduleFunction.call(module.exports, module.exports, require, module, file, dir);
  } else {
    require(file);
  }
}
`;
}
