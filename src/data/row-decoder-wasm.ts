// The WebAssembly row decoder (row-decoder.wat -> row-decoder.wasm beside the compiled .js): a RowDecoder
// (row-kernel.ts) on bytes copied into its memory. Why: decoding is most of a run's CPU time, and a short run would
// spend much of it before the JIT optimised the JavaScript decoder, in every worker; the ~1.3 KB module runs at full
// speed from its first row (SIMD skips MNIST's "0," runs). One decoder per thread, used only synchronously (load,
// decode calls, copy out), so callers can share it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowDecoder } from './row-kernel.js';
import type { DecodeSpec } from './types.js';

const WASM_FILE = 'row-decoder.wasm';
/** Where the build puts it, relative to a build folder (dist/): found from the bundle (dist/bundle/) too. */
const WASM_PATH_IN_BUILD = join('src', 'data', WASM_FILE);
/** The module's own data (table, results) lives below this address; inputs and outputs above it. */
const RESERVED = 2048;
/** Where decodeRows leaves its results besides its return value: rows decoded, next line number. */
const RESULTS_AT = 1024;
/** Zero bytes after the input: the decoder's 16-byte and 4-byte reads past a row stay in them. */
const INPUT_PAD = 32;
/** Floats of room after the last row slot: the zero-run stores may write 7 past a row. */
const OUTPUT_PAD = 8;
const PAGE = 65536;
/** Keep every layout well inside 32-bit addressing; bigger blocks are decoded in JavaScript. */
const MAX_MEMORY_BYTES = 1 << 30;

// The WebAssembly JS API members used here, typed locally (the project compiles without DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface SyncWasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: SyncWasmApi }).WebAssembly;

interface RowDecoderExports {
  memory: WasmMemory;
  decodeRows(
    p: number,
    end: number,
    maxRows: number,
    out: number,
    labels: number,
    lines: number,
    line: number,
    fieldCount: number,
    labelIndex: number,
    labelMax: number,
  ): number;
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

export class WasmRowDecoder implements RowDecoder {
  rows = 0;
  line = 0;
  /** Views of the module's memory, valid until the next load. */
  input = Buffer.alloc(0);
  x = new Float32Array(0);
  labels = new Int16Array(0);
  lines = new Uint32Array(0);

  private readonly kernel: RowDecoderExports;
  private spec: DecodeSpec | null = null;
  private results = new Int32Array(0);

  /** `module`: the compiled row-decoder.wasm (loadRowDecoder). Synchronous and cheap. */
  constructor(module: object) {
    this.kernel = new wasmApi!.Instance(module, {}).exports as unknown as RowDecoderExports;
  }

  /**
   * Copies `parts`, one after the other, in as the input (followed by zero bytes) and the spec's table in, with room
   * for `maxRows` rows. False when that needs more memory than the decoder will take (then decode in JavaScript).
   */
  load(parts: readonly Uint8Array[], spec: DecodeSpec, maxRows: number): boolean {
    const { table, features } = spec;
    if (table.length !== 256)
      throw new RangeError(`the normalisation table must have 256 entries, got ${table.length}`);
    let length = 0;
    for (const part of parts) length += part.length;
    // The input starts where its first byte has the alignment (mod 8) it has in its source: a copy
    // between shared memory and another buffer is a fast memcpy only when both agree (measured: 8x).
    const inputAt = RESERVED + (parts.length > 0 ? parts[0].byteOffset % 8 : 0);
    const outAt = align64(inputAt + length + INPUT_PAD);
    const labelsAt = align64(outAt + (maxRows * features + OUTPUT_PAD) * 4);
    const linesAt = align64(labelsAt + maxRows * 2);
    const total = linesAt + maxRows * 4;
    if (total > MAX_MEMORY_BYTES) return false;
    const { memory } = this.kernel;
    if (total > memory.buffer.byteLength) {
      try {
        memory.grow(Math.ceil((total - memory.buffer.byteLength) / PAGE));
      } catch {
        return false;
      }
    }
    const buffer = memory.buffer; // a new one after grow()
    const bytes = new Uint8Array(buffer);
    let at = inputAt;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    bytes.fill(0, at, at + INPUT_PAD);
    new Float32Array(buffer, 0, 256).set(table);
    this.input = Buffer.from(buffer, inputAt, length);
    this.x = new Float32Array(buffer, outAt, maxRows * features);
    this.labels = new Int16Array(buffer, labelsAt, maxRows);
    this.lines = new Uint32Array(buffer, linesAt, maxRows);
    this.results = new Int32Array(buffer, RESULTS_AT, 2);
    this.spec = spec;
    return true;
  }

  /** RowDecoder.decode, for the spec loaded last. */
  decode(at: number, end: number, maxRows: number, slot: number, line: number): number {
    const inputAt = this.input.byteOffset;
    const { layout, features, classes } = this.spec!;
    const p = this.kernel.decodeRows(
      inputAt + at,
      inputAt + end,
      maxRows,
      this.x.byteOffset + slot * features * 4,
      this.labels.byteOffset + slot * 2,
      this.lines.byteOffset + slot * 4,
      line,
      layout.fieldCount,
      layout.labelIndex,
      classes - 1,
    );
    this.rows = this.results[0];
    this.line = this.results[1] >>> 0;
    return p - inputAt;
  }
}

/** The compiled module beside this one, or (from the bundled CLI) in the build folder above it. */
export function findRowDecoderWasm(start: string = dirname(fileURLToPath(import.meta.url))): string | null {
  const beside = join(start, WASM_FILE);
  if (existsSync(beside)) return beside;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, WASM_PATH_IN_BUILD);
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return null;
  }
}

/** A new decoder from the .wasm at `path` (default: findRowDecoderWasm()), or why there is none. */
export function loadRowDecoder(
  path: string | null = findRowDecoderWasm(),
): { ok: true; decoder: WasmRowDecoder } | { ok: false; reason: string } {
  if (path === null) {
    return {
      ok: false,
      reason: `${WASM_FILE} is missing; build it with "node scripts/build-wasm.mjs" (part of npm run build)`,
    };
  }
  if (!wasmApi) return { ok: false, reason: 'this Node has no WebAssembly' };
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason:
        `${path} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${(error as Error).message})`}; build ` +
        `it with "node scripts/build-wasm.mjs"`,
    };
  }
  try {
    return { ok: true, decoder: new WasmRowDecoder(new wasmApi.Module(bytes)) };
  } catch (error) {
    return {
      ok: false,
      reason: `${path} does not compile here (${(error as Error).message}); WebAssembly SIMD needs Node >= 16.4`,
    };
  }
}

let threadDecoder: WasmRowDecoder | null | undefined;

/**
 * This thread's decoder, loaded on first use; null (decode in JavaScript) without the .wasm or SIMD, or with
 * NNPIPE_CSV_WASM=0.
 */
export function rowDecoder(): WasmRowDecoder | null {
  if (threadDecoder === undefined) {
    const load = process.env.NNPIPE_CSV_WASM === '0' ? null : loadRowDecoder();
    threadDecoder = load?.ok ? load.decoder : null;
  }
  return threadDecoder;
}
