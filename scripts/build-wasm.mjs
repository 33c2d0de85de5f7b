#!/usr/bin/env node
// Compiles the WebAssembly kernel from its source (src/nn/kernels/forward-kernel.wat) with wabt, the
// WebAssembly Binary Toolkit compiled to JavaScript (an npm devDependency: no downloaded binaries), and
// writes it next to the compiled loader: OUT_DIR/src/nn/kernels/forward-kernel.wasm.
//
//   node scripts/build-wasm.mjs [--out-dir dist]
//
// Run after tsc (the loader looks for the .wasm beside its own compiled .js). Without the .wasm the
// engine falls back to the JavaScript kernel with a warning, so a failed build here is loud, not fatal
// to the rest of the project.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, 'src/nn/kernels/forward-kernel.wat');

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
const target = resolve(outDir, 'src/nn/kernels/forward-kernel.wasm');

let wabtInit;
try {
  ({ default: wabtInit } = await import('wabt'));
} catch (error) {
  console.error(`build-wasm: cannot load the 'wabt' package (${error.message}); install the devDependencies (npm install).`);
  process.exit(1);
}
const wabt = await wabtInit();
const text = readFileSync(source, 'utf8');
// Only the features the kernel uses: SIMD (v128), on by default in Node >= 16.4; everything else is MVP.
let module;
try {
  module = wabt.parseWat(relative(root, source), text, { simd: true });
} catch (error) {
  console.error(`build-wasm: ${error.message}`); // wabt's message points at the line; its stack is minified noise
  process.exit(1);
}
try {
  module.resolveNames();
  module.validate();
  const { buffer } = module.toBinary({ log: false, write_debug_names: true });
  // Validate again with the engine that will run it.
  if (!WebAssembly.validate(buffer)) throw new Error('the compiled module does not validate in this Node');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, buffer);
  console.log(`build-wasm: ${relative(root, source)} -> ${relative(root, target)} (${buffer.length} bytes)`);
} finally {
  module.destroy();
}
