#!/usr/bin/env node
// Compiles the project's WebAssembly modules from their sources with wabt, the WebAssembly Binary Toolkit
// compiled to JavaScript (an npm devDependency: no downloaded binaries), and writes each next to the
// compiled module that loads it:
//   src/nn/kernels/forward-kernel.wat  -> OUT_DIR/src/nn/kernels/forward-kernel.wasm  (the forward pass)
//   src/data/row-decoder.wat  -> OUT_DIR/src/data/row-decoder.wasm  (the CSV row decoder)
//
//   node scripts/build-wasm.mjs [--out-dir dist]
//
// Run after tsc (the loaders look for the .wasm beside their own compiled .js). Without a .wasm its user
// falls back to JavaScript (the forward engine with a warning, the row decoder silently: same results,
// slower), so a failed build here is loud, not fatal to the rest of the project.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Sources, relative to the repository; each .wasm goes to the same relative path under OUT_DIR. */
const SOURCES = ['src/nn/kernels/forward-kernel.wat', 'src/data/row-decoder.wat'];

function parseArgs(argv) {
  let outDir = 'dist';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir' && i + 1 < argv.length) outDir = argv[++i];
    else if (argv[i].startsWith('--out-dir=')) outDir = argv[i].slice('--out-dir='.length);
    else throw new Error(`build-wasm: unknown argument '${argv[i]}' (usage: build-wasm.mjs [--out-dir DIR])`);
  }
  return { outDir: resolve(root, outDir) };
}

const { outDir } = parseArgs(process.argv.slice(2));

let wabtInit;
try {
  ({ default: wabtInit } = await import('wabt'));
} catch (error) {
  console.error(
    `build-wasm: cannot load the 'wabt' package (${error.message}); install the devDependencies (npm install).`,
  );
  process.exit(1);
}
const wabt = await wabtInit();

let failed = false;
for (const path of SOURCES) {
  const source = resolve(root, path);
  const target = resolve(outDir, path.replace(/\.wat$/, '.wasm'));
  const text = readFileSync(source, 'utf8');
  // Only the features the modules use: SIMD (v128), on by default in Node >= 16.4; everything else is MVP.
  let module;
  try {
    module = wabt.parseWat(relative(root, source), text, { simd: true });
  } catch (error) {
    console.error(`build-wasm: ${error.message}`); // wabt's message points at the line; its stack is minified noise
    failed = true;
    continue;
  }
  try {
    module.resolveNames();
    module.validate();
    const { buffer } = module.toBinary({ log: false, write_debug_names: true });
    // Validate again with the engine that will run it.
    if (!WebAssembly.validate(buffer)) throw new Error(`${path}: the compiled module does not validate in this Node`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, buffer);
    console.log(`build-wasm: ${relative(root, source)} -> ${relative(root, target)} (${buffer.length} bytes)`);
  } catch (error) {
    console.error(`build-wasm: ${error.message}`);
    failed = true;
  } finally {
    module.destroy();
  }
}
if (failed) process.exit(1);
