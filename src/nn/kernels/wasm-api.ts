// The few WebAssembly JS API members the engine uses, typed locally: the project compiles against
// lib ES2023 without DOM, where the global `WebAssembly` namespace has no declarations, and a global
// declaration file would leak into everyone's compile.

/** A compiled module (opaque here). */
export type WasmModule = object;

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
