// The largest batch one worker can hold for a network: the WebAssembly engine lays out, once per
// worker, the weights, the compaction lists, the batch's input rows and every layer's output rows in
// one memory of at most MAX_MEMORY_BYTES (wasm-engine.ts). The JavaScript engine needs less per row, but
// `auto` may pick either, so both are held to this one bound. The arithmetic below is the engine's
// layout, byte for byte (test/nn/batch-capacity.test.ts builds engines at the bound and one row past it).
import { kernelReservedBytes, MAX_MEMORY_BYTES } from './wasm-engine.js';

/** Sizes rounded up to whole cache lines, as the engine places every block. */
const line = (bytes: number) => Math.ceil(bytes / 64) * 64;
const padded = (n: number) => Math.ceil(n / 4) * 4;

/** Bytes of engine memory for `rows` rows of a network with these layer sizes (input first). */
export function engineMemoryBytes(layerSizes: readonly number[], rows: number): number {
  const inputs = layerSizes[0];
  const layers = layerSizes.slice(1).map((outputs, k) => ({ inputs: layerSizes[k], nPad: padded(outputs) }));
  const listEntries = Math.max(...layerSizes.slice(0, -1)) + 4;
  let bytes = kernelReservedBytes;
  for (const layer of layers) bytes += line(layer.inputs * layer.nPad * 4) + line(layer.nPad * 4);
  bytes += 2 * line(listEntries * 4);
  bytes += line(rows * inputs * 4);
  for (const layer of layers) bytes += line(rows * layer.nPad * 4);
  return bytes;
}

export interface BatchCapacity {
  /** The most rows per batch (0 when even the weights do not fit). */
  maxRows: number;
  /** Engine memory per row of a batch, bytes. */
  bytesPerRow: number;
  /** The budget, bytes. */
  budgetBytes: number;
}

/** The largest batch one worker can hold for a network with these layer sizes. */
export function batchCapacity(layerSizes: readonly number[]): BatchCapacity {
  const bytesPerRow = (layerSizes[0] + layerSizes.slice(1).reduce((sum, n) => sum + padded(n), 0)) * 4;
  const fixed = engineMemoryBytes(layerSizes, 0);
  let rows = Math.max(0, Math.floor((MAX_MEMORY_BYTES - fixed) / bytesPerRow));
  // Rounding each block up to 64 bytes can push the estimate over by a few rows.
  while (rows > 0 && engineMemoryBytes(layerSizes, rows) > MAX_MEMORY_BYTES) rows--;
  return { maxRows: rows, bytesPerRow, budgetBytes: MAX_MEMORY_BYTES };
}
