// Engine selection: the fast forward passes behind one interface. src/nn/forward.ts stays the reference
// (and the tests' oracle); these engines are what the workers run.
//
//   const engine = await createForwardEngine(network, { maxRows: batchSize });      // 'auto'
//   engine.predict(x, rows, predicted, confidence, probabilities?);
//
// `auto` takes the WebAssembly SIMD engine when forward-kernel.wasm is built and compiles here, and
// otherwise the JavaScript engine, with one warning saying why. `wasm` asked for explicitly and not
// available is an error (PIPE_ERR_KERNEL); `js` never touches WebAssembly.
import { PipelineError } from '../../errors.js';
import type { Network } from '../types.js';
import { KERNEL_ERROR_CODE, KERNEL_KINDS, type ForwardEngine, type ForwardEngineOptions, type KernelKind } from './engine-types.js';
import { JsForwardEngine } from './js-engine.js';
import { WasmForwardEngine } from './wasm-engine.js';
import { loadForwardKernel, type KernelLoad } from './wasm-loader.js';

export { KERNEL_ERROR_CODE, KERNEL_KINDS, type ForwardEngine, type ForwardEngineOptions, type KernelKind } from './engine-types.js';
export { JsForwardEngine } from './js-engine.js';
export { WasmForwardEngine } from './wasm-engine.js';
export { defaultWasmUrl, loadForwardKernel, type KernelLoad } from './wasm-loader.js';

/** Compiles the kernel if needed (once per thread), then builds the engine. */
export async function createForwardEngine(network: Network, options: ForwardEngineOptions): Promise<ForwardEngine> {
  const kind = checkKind(options.kind);
  const load = kind === 'js' ? null : await loadForwardKernel(options.wasmUrl);
  return createForwardEngineSync(network, options, load);
}

/**
 * The same, synchronously, from an already awaited loadForwardKernel() result (`null` when only `js`
 * is wanted): a worker can compile once at start-up and build engines without awaiting again.
 */
export function createForwardEngineSync(network: Network, options: ForwardEngineOptions, load: KernelLoad | null): ForwardEngine {
  const kind = checkKind(options.kind);
  if (kind === 'js') return new JsForwardEngine(network, options.maxRows);
  if (load?.ok) return new WasmForwardEngine(load.module, network, options.maxRows);
  const reason = load ? load.reason : 'no WebAssembly kernel was loaded';
  if (kind === 'wasm') throw new PipelineError(KERNEL_ERROR_CODE, `the WebAssembly forward kernel is not available: ${reason}`);
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, { code: 'NNPIPE_KERNEL_FALLBACK' }));
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
