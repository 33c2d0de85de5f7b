// Finds and loads the optional native kernel (forward-kernel.node, built from native/*.cc by
// scripts/build-native.mjs when the machine has a C++ compiler and Node's headers). Loading is
// synchronous and cached per thread, so createForwardEngineSync() can prefer it without awaiting.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where the build puts the addon: beside this module's compiled .js (and beside the bundled worker). */
export const defaultNativeUrl = new URL('./forward-kernel.node', import.meta.url);

/** An instruction set the addon was built for and this CPU runs; `lanes` floats per vector. */
export interface NativeIsa {
  name: string;
  lanes: number;
}

/** The addon's exports (src/nn/kernels/native/addon.cc documents them). */
export interface NativeAddon {
  isas(): NativeIsa[];
  alignment(memory: ArrayBuffer): number;
  create(layout: Int32Array, weights: Float32Array[], memory: ArrayBuffer, isa: string): object;
  forward(
    handle: object,
    memory: ArrayBuffer,
    x: Float32Array | Uint8Array | null,
    rows: number,
    divisor: number,
    predicted: Int32Array | null,
    confidence: Float32Array | null,
    probabilities: Float32Array | null,
    first: number,
  ): void;
  exp(input: Float64Array, output: Float64Array): void;
}

export type NativeLoad =
  | {
      ok: true;
      addon: NativeAddon;
      isas: NativeIsa[];
      /**
       * Whether the addon's exp returned Math.exp's value for every argument of expCheckArguments():
       * then the addon runs the output stage too, else the engine runs it here (output-stage.ts).
       */
      exactExp: boolean;
      url: URL;
    }
  | { ok: false; reason: string; url: URL };

const loads = new Map<string, NativeLoad>();

/** The addon, or why it cannot be had (not built, built for another Node, no usable instruction set). Cached. */
export function loadNativeKernel(url: URL = defaultNativeUrl): NativeLoad {
  let load = loads.get(url.href);
  if (!load) {
    load = open(url);
    loads.set(url.href, load);
  }
  return load;
}

function open(url: URL): NativeLoad {
  const path = fileURLToPath(url);
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'MODULE_NOT_FOUND' ? 'is not built' : `does not load here (${(error as Error).message.split('\n')[0]})`;
    return {
      ok: false,
      url,
      reason: `${path} ${why}; "node scripts/build-native.mjs" builds it (part of npm run build; needs a C++ compiler)`,
    };
  }
  const isas = addon.isas();
  if (isas.length === 0) return { ok: false, url, reason: `${path} has no instruction set this CPU runs` };
  return { ok: true, addon, isas, exactExp: expMatches(addon, expCheckArguments()), url };
}

/** True when the addon's exp equals Math.exp, bit for bit, on every argument. */
export function expMatches(addon: NativeAddon, args: Float64Array): boolean {
  const got = new Float64Array(args.length);
  addon.exp(args, got);
  for (let i = 0; i < args.length; i++) if (!Object.is(got[i], Math.exp(args[i]))) return false;
  return true;
}

/**
 * Arguments that exercise every branch of fdlibm's exp (the softmax only ever passes x <= 0, the
 * sigmoid output -|x|): special values, the branch thresholds and their neighbours, and a spread of
 * differences of float32 values. ~1,100 values: building and checking them costs well under a
 * millisecond of start-up (kernels-native.test.ts checks millions more).
 */
export function expCheckArguments(): Float64Array {
  const specials = [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    Number.NaN,
    Infinity,
    -Infinity,
    709.78,
    709.79,
    -745.13,
    -745.14,
    -708.4,
    -1e-300,
    1e-300,
    2 ** -28,
    -(2 ** -29),
  ];
  const edges = [0.5 * Math.LN2, 1.5 * Math.LN2, 709.782712893384, -745.1332191019411, -708.3964185322641];
  const random = 1024;
  const values = new Float64Array(specials.length + edges.length * 14 + random);
  values.set(specials);
  let at = specials.length;
  for (const edge of edges)
    for (const sign of [1, -1]) for (let d = -3; d <= 3; d++) values[at++] = sign * edge * (1 + d * Number.EPSILON);
  let state = 0x2545f491;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
  for (let i = 0; i < random; i++) values[at++] = Math.fround((next() - 0.9) * 200) - Math.fround(next() * 40);
  return values;
}
