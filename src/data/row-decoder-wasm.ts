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
/** int32 index of decodeRows' results (rows, next line) at byte 1024. */
const RESULTS = 256;
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
  /** Views of the module's memory. */
  x = new Float32Array(0);
  labels = new Int16Array(0);
  lines = new Uint32Array(0);

  private readonly kernel: RowDecoderExports;
  private memory = new Uint8Array(0);
  private words = new Int32Array(0);
  private floats = new Float32Array(0);
  private spec: DecodeSpec | null = null;
  private slots = 0;
  private outAt = 0;
  private labelsAt = 0;
  private linesAt = 0;
  private length = 0;
  private inputAt = RESERVED;

  /** `module`: the compiled row-decoder.wasm. Synchronous and cheap. */
  constructor(module: object) {
    if (!wasmApi) throw new Error('this Node has no WebAssembly');
    this.kernel = new wasmApi.Instance(module, {}).exports as unknown as RowDecoderExports;
    this.refreshViews();
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
    if (total > this.memory.length) {
      try {
        this.kernel.memory.grow(Math.ceil((total - this.memory.length) / PAGE));
      } catch {
        return false;
      }
      this.refreshViews();
      this.slots = -1; // the row views were views of the old memory
    }
    const memory = this.memory;
    let at = inputAt;
    for (const part of parts) {
      memory.set(part, at);
      at += part.length;
    }
    memory.fill(0, at, at + INPUT_PAD);
    this.length = length;
    this.inputAt = inputAt;
    this.floats.set(table, 0);
    if (outAt !== this.outAt || features !== this.spec?.features || maxRows !== this.slots) {
      this.outAt = outAt;
      this.labelsAt = labelsAt;
      this.linesAt = linesAt;
      this.slots = maxRows;
      this.x = new Float32Array(memory.buffer, outAt, maxRows * features);
      this.labels = new Int16Array(memory.buffer, labelsAt, maxRows);
      this.lines = new Uint32Array(memory.buffer, linesAt, maxRows);
    }
    this.spec = spec;
    return true;
  }

  /** RowDecoder.decode, for the spec loaded last. */
  decode(at: number, end: number, maxRows: number, slot: number, line: number): number {
    const { inputAt, words } = this;
    const { layout, features, classes } = this.spec!;
    const p = this.kernel.decodeRows(
      inputAt + at,
      inputAt + end,
      maxRows,
      this.outAt + slot * features * 4,
      this.labelsAt + slot * 2,
      this.linesAt + slot * 4,
      line,
      layout.fieldCount,
      layout.labelIndex,
      classes - 1,
    );
    this.rows = words[RESULTS];
    this.line = words[RESULTS + 1] >>> 0;
    return p - inputAt;
  }

  /** The input loaded last, as a Buffer view of the module's memory (valid until the next load). */
  get input(): Buffer {
    return Buffer.from(this.memory.buffer, this.memory.byteOffset + this.inputAt, this.length);
  }

  private refreshViews(): void {
    const buffer = this.kernel.memory.buffer;
    this.memory = new Uint8Array(buffer);
    this.words = new Int32Array(buffer, 0, RESERVED / 4);
    this.floats = new Float32Array(buffer, 0, 256);
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
): { ok: true; decoder: WasmRowDecoder; path: string } | { ok: false; reason: string } {
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
    return { ok: true, path, decoder: new WasmRowDecoder(new wasmApi.Module(bytes)) };
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
