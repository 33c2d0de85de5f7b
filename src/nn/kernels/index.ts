// Engine selection: the fast forward passes behind one interface. src/nn/forward.ts stays the reference
// (and the tests' oracle); these engines are what the workers run.
//
//   const engine = await createForwardEngine(network, { maxRows: batchSize });      // 'auto'
//   engine.predict(x, rows, predicted, confidence, probabilities?);
//
// `auto` takes the native addon (C++, AVX-512/AVX2/SSE2) when it is built and loads here, else the
// WebAssembly SIMD engine when forward-kernel.wasm is built and compiles here, else the JavaScript engine
// with one warning saying why. The native and WebAssembly engines give the same results bit for bit, so
// auto never changes an answer, only the speed; engine.kind and engine.detail say which one ran.
// `native` or `wasm` asked for explicitly and not available is an error (PIPE_ERR_KERNEL); `js` never
// touches WebAssembly or the addon.
import { PipelineError } from '../../errors.js';
import type { Network } from '../types.js';
import {
  KERNEL_ERROR_CODE,
  KERNEL_KINDS,
  type ForwardEngine,
  type ForwardEngineOptions,
  type KernelKind,
} from './engine-types.js';
import { JsForwardEngine } from './js-engine.js';
import { NativeForwardEngine } from './native-engine.js';
import { loadNativeKernel } from './native-loader.js';
import { WasmForwardEngine } from './wasm-engine.js';
import { loadForwardKernel, type KernelLoad } from './wasm-loader.js';

export {
  KERNEL_ERROR_CODE,
  KERNEL_KINDS,
  type EngineKind,
  type ForwardEngine,
  type ForwardEngineOptions,
  type KernelKind,
} from './engine-types.js';
export { JsForwardEngine } from './js-engine.js';
export { NativeForwardEngine, type NativeEngineOptions } from './native-engine.js';
export {
  defaultNativeUrl,
  expCheckArguments,
  expMatches,
  loadNativeKernel,
  type NativeAddon,
  type NativeIsa,
  type NativeLoad,
} from './native-loader.js';
export { WasmForwardEngine } from './wasm-engine.js';
export { defaultWasmUrl, loadForwardKernel, type KernelLoad } from './wasm-loader.js';

/**
 * Loads, once per thread, what `kind` may run: the native addon (auto, native) and the compiled
 * WebAssembly module (auto, wasm). A worker calls it at start-up, so that its first task does not pay
 * for loading, and hands the result to createForwardEngineSync():
 *
 *   const load = await prepareForwardKernels(kind);          // at worker start
 *   const engine = createForwardEngineSync(network, { maxRows, kind }, load);
 */
export async function prepareForwardKernels(
  kind: KernelKind = 'auto',
  urls: Pick<ForwardEngineOptions, 'wasmUrl' | 'nativeUrl'> = {},
): Promise<KernelLoad | null> {
  const checked = checkKind(kind);
  if (checked === 'auto' || checked === 'native') loadNativeKernel(urls.nativeUrl);
  return checked === 'auto' || checked === 'wasm' ? loadForwardKernel(urls.wasmUrl) : null;
}

/** Compiles the WebAssembly kernel if needed (once per thread), then builds the engine. */
export async function createForwardEngine(network: Network, options: ForwardEngineOptions): Promise<ForwardEngine> {
  const kind = checkKind(options.kind);
  const load = kind === 'js' || kind === 'native' ? null : await loadForwardKernel(options.wasmUrl);
  return createForwardEngineSync(network, options, load);
}

/**
 * The same, synchronously, from an already awaited loadForwardKernel() result (`null` when WebAssembly
 * is not wanted): a worker can compile once at start-up and build engines without awaiting again. The
 * native addon loads synchronously (once per thread), so `auto` prefers it here too.
 */
export function createForwardEngineSync(
  network: Network,
  options: ForwardEngineOptions,
  load: KernelLoad | null,
): ForwardEngine {
  const kind = checkKind(options.kind);
  if (kind === 'js') return new JsForwardEngine(network, options.maxRows);
  if (kind === 'native' || kind === 'auto') {
    const native = loadNativeKernel(options.nativeUrl);
    if (native.ok)
      return new NativeForwardEngine(native.addon, native.isas, network, options.maxRows, {
        isa: options.nativeIsa,
        nativeOutput: native.exactExp,
      });
    if (kind === 'native')
      throw new PipelineError(KERNEL_ERROR_CODE, `the native forward kernel is not available: ${native.reason}`);
  }
  if (load?.ok) return new WasmForwardEngine(load.module, network, options.maxRows);
  const reason = load ? load.reason : 'no WebAssembly kernel was loaded';
  if (kind === 'wasm')
    throw new PipelineError(KERNEL_ERROR_CODE, `the WebAssembly forward kernel is not available: ${reason}`);
  const warn =
    options.onWarning ?? ((message: string) => process.emitWarning(message, { code: 'NNPIPE_KERNEL_FALLBACK' }));
  warn(`using the JavaScript forward kernel (several times slower): ${reason}`);
  return new JsForwardEngine(network, options.maxRows);
}

function checkKind(kind: KernelKind | undefined): KernelKind {
  if (kind === undefined) return 'auto';
  if (!(KERNEL_KINDS as readonly string[]).includes(kind)) {
    throw new RangeError(`options.kind must be one of ${KERNEL_KINDS.join(', ')}, got '${String(kind)}'`);
  }
  return kind;
}
