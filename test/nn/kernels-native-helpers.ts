// Whether the native addon is built and loads here, and with which instruction sets: native tests run
// only then (the addon is optional: scripts/build-native.mjs skips it without a C++ compiler).
import { loadNativeKernel } from '../../src/nn/kernels/index.js';

const load = loadNativeKernel();

export const nativeBuilt = load.ok;
/** Why not, when it is not. */
export const nativeReason = load.ok ? '' : load.reason;
/** Every instruction set this CPU runs, widest first (each is tested: they must agree bit for bit). */
export const nativeIsas = load.ok ? load.isas.map((isa) => isa.name) : [];
export const nativeExactExp = load.ok && load.exactExp;
