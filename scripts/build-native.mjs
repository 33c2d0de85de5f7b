#!/usr/bin/env node
// Builds the optional native forward kernel (src/nn/kernels/native/*.cc) into
//   OUT_DIR/src/nn/kernels/forward-kernel.node
// with the machine's C++ compiler and the Node-API headers of the Node that runs this script. Nothing is
// downloaded. It is part of `npm run build`, so `npm install` (prepare) builds it too.
//
//   node scripts/build-native.mjs [--out-dir dist] [--strict] [--force]
//
// Optional by design: without a compiler, without Node's headers, on an unsupported platform, or when
// the result does not load, it says why and exits 0, and the engines fall back to WebAssembly (`auto`).
// --strict makes any of these an error (exit 1). --force rebuilds even when nothing changed.
//
// On x86-64 the kernel is compiled three times, for AVX-512, AVX2 and SSE2, into one addon that picks
// the widest the CPU runs; elsewhere once, for the compiler's default target. The output stage
// (output.cc) and the Node-API glue (addon.cc) are compiled once, for the default target. Every variant is built
// with -ffp-contract=off (no fused multiply-add), so all of them round exactly as the WebAssembly kernel.
// Why not node-gyp: it needs Python and fetches headers unless told where they are; this is 6 compiler
// calls. CXX picks the compiler (default g++, then c++); NNPIPE_NODE_HEADERS the folder of node_api.h.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = resolve(root, 'src/nn/kernels/native');
const SOURCES = ['kernel.h', 'kernel.cc', 'output.cc', 'addon.cc'];
const COMMON = [
  '-std=c++17',
  '-O3',
  '-fPIC',
  '-fno-exceptions',
  '-fno-rtti',
  '-ffp-contract=off',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
];
/** Instruction-set variants of kernel.cc: name, flags. The addon checks the CPU for each at run time. */
const X64_VARIANTS = [
  ['avx512', ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx2', '-mpopcnt']],
  ['avx2', ['-mavx2', '-mpopcnt']],
  ['sse2', []],
];

function parseArgs(argv) {
  const options = { outDir: 'dist', strict: false, force: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir' && i + 1 < argv.length) options.outDir = argv[++i];
    else if (argv[i].startsWith('--out-dir=')) options.outDir = argv[i].slice('--out-dir='.length);
    else if (argv[i] === '--strict') options.strict = true;
    else if (argv[i] === '--force') options.force = true;
    else
      throw new Error(
        `build-native: unknown argument '${argv[i]}' (usage: build-native.mjs [--out-dir DIR] [--strict] [--force])`,
      );
  }
  return { ...options, outDir: resolve(root, options.outDir) };
}

const options = parseArgs(process.argv.slice(2));
const target = resolve(options.outDir, 'src/nn/kernels/forward-kernel.node');
const stampFile = `${target}.stamp`;

/** Why the addon is not built; caught at the end (so the work folder is always removed). */
class NotBuilt extends Error {}
const skip = (reason) => {
  throw new NotBuilt(reason);
};

function findCompiler() {
  const candidates = process.env.CXX ? [process.env.CXX] : ['g++', 'c++'];
  for (const cxx of candidates) {
    const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { cxx, version: probe.stdout.split('\n')[0] };
  }
  return null;
}

function findHeaders() {
  const candidates = [process.env.NNPIPE_NODE_HEADERS, resolve(dirname(process.execPath), '../include/node')].filter(
    Boolean,
  );
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h'))) ?? null;
}

function run(cxx, args) {
  return new Promise((resolvePromise) => {
    const child = spawn(cxx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolvePromise({ ok: false, stderr: error.message }));
    child.on('close', (code) => resolvePromise({ ok: code === 0, stderr }));
  });
}

/** Builds (or finds up to date) the addon; throws NotBuilt. */
async function build() {
  if (!['linux', 'darwin', 'freebsd'].includes(process.platform)) skip(`no build recipe for ${process.platform}`);
  const compiler = findCompiler();
  if (!compiler) skip(`no C++ compiler (tried ${process.env.CXX ?? 'g++, c++'}; set CXX)`);
  const headers = findHeaders();
  if (!headers)
    skip(
      `Node's headers (node_api.h) are not under ${resolve(dirname(process.execPath), '../include/node')} (set ` +
        `NNPIPE_NODE_HEADERS)`,
    );

  const variants = process.arch === 'x64' ? X64_VARIANTS : [['generic', []]];
  const linkFlags = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
  const hash = createHash('sha256');
  for (const name of SOURCES) hash.update(name).update(readFileSync(join(sourceDir, name)));
  hash.update(
    JSON.stringify({
      COMMON,
      variants,
      linkFlags,
      compiler,
      headers,
      abi: process.versions.modules,
      napi: process.versions.napi,
    }),
  );
  const stamp = hash.digest('hex');
  if (
    !options.force &&
    existsSync(target) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === stamp
  ) {
    console.log(`build-native: ${relative(root, target)} is up to date`);
    return;
  }

  const work = mkdtempSync(join(tmpdir(), 'nnpipe-native-'));
  try {
    const objects = variants.map(([name]) => join(work, `kernel-${name}.o`));
    const haves = variants.map(([name]) => `-DNNPIPE_HAVE_${name.toUpperCase()}`);
    const jobs = [
      ...variants.map(([name, flags], i) =>
        run(compiler.cxx, [
          ...COMMON,
          ...flags,
          `-DNNPIPE_ISA=${name}`,
          '-c',
          join(sourceDir, 'kernel.cc'),
          '-o',
          objects[i],
        ]),
      ),
      run(compiler.cxx, [...COMMON, '-c', join(sourceDir, 'output.cc'), '-o', join(work, 'output.o')]),
      run(compiler.cxx, [
        ...COMMON,
        `-I${headers}`,
        ...haves,
        '-c',
        join(sourceDir, 'addon.cc'),
        '-o',
        join(work, 'addon.o'),
      ]),
    ];
    const results = await Promise.all(jobs);
    const failed = results.find((r) => !r.ok);
    if (failed) skip(`${compiler.cxx} failed:\n${failed.stderr.trim()}`);
    const linked = join(work, 'forward-kernel.node');
    const link = await run(compiler.cxx, [
      ...linkFlags,
      '-o',
      linked,
      ...objects,
      join(work, 'output.o'),
      join(work, 'addon.o'),
    ]);
    if (!link.ok) skip(`linking failed:\n${link.stderr.trim()}`);
    // Load it in a fresh Node before installing it: a module that does not load is no better than none.
    const probe = spawnSync(
      process.execPath,
      ['-e', `const m = require(${JSON.stringify(linked)}); console.log(m.isas().map((i) => i.name).join(','))`],
      { encoding: 'utf8' },
    );
    if (probe.status !== 0) skip(`the built module does not load: ${probe.stderr.trim().split('\n')[0]}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.tmp`, readFileSync(linked));
    renameSync(`${target}.tmp`, target);
    writeFileSync(stampFile, `${stamp}\n`);
    console.log(
      `build-native: src/nn/kernels/native -> ${relative(root, target)} (${compiler.version}; runs here: ` +
        `${probe.stdout.trim()})`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await build();
} catch (error) {
  // Anything else that goes wrong here is also only a missing optional part, never a failed install.
  const reason = error instanceof NotBuilt ? error.message : `unexpected error: ${error.stack ?? error}`;
  rmSync(target, { force: true });
  rmSync(stampFile, { force: true });
  const message = `build-native: native forward kernel not built: ${reason}; the WebAssembly kernel will be used`;
  if (options.strict) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
}
