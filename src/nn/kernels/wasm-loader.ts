// Finds and compiles the WebAssembly kernel (built from forward-kernel.wat by scripts/build-wasm.mjs).
// Compiling is asynchronous and done once per thread and file; instantiating the compiled module is
// then synchronous and cheap, one instance (with its own memory) per engine.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { wasmApi, type WasmModule } from './wasm-api.js';

/** Where the build puts the kernel: beside this module's compiled .js. */
export const defaultWasmUrl = new URL('./forward-kernel.wasm', import.meta.url);

export type KernelLoad = { ok: true; module: WasmModule; url: URL } | { ok: false; reason: string; url: URL };

const loads = new Map<string, Promise<KernelLoad>>();

/** The compiled kernel, or why it cannot be had (file missing, or a WebAssembly without SIMD). Cached. */
export function loadForwardKernel(url: URL = defaultWasmUrl): Promise<KernelLoad> {
  let load = loads.get(url.href);
  if (!load) {
    load = compile(url);
    loads.set(url.href, load);
  }
  return load;
}

async function compile(url: URL): Promise<KernelLoad> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(fileURLToPath(url));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${(error as Error).message})`;
    return {
      ok: false,
      url,
      reason: `${fileURLToPath(url)} ${why}; build it with "node scripts/build-wasm.mjs" (part of npm run build)`,
    };
  }
  try {
    return { ok: true, url, module: await wasmApi.compile(bytes) };
  } catch (error) {
    return {
      ok: false,
      url,
      reason:
        `${fileURLToPath(url)} does not compile here (${(error as Error).message}); WebAssembly SIMD needs ` +
        `Node >= 16.4`,
    };
  }
}
