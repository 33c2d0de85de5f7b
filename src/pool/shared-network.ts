// The network's weights in one SharedArrayBuffer, so every worker reads the same memory: the model is
// loaded and validated once on the main thread and no worker copies or re-parses it.
import { randomUUID } from 'node:crypto';
import type { Activation, Network, OutputFunction } from '../nn/types.js';

/** What crosses to a worker in `workerData`: a shared buffer plus the shapes needed to view it. */
export interface SharedNetwork {
  /**
   * Which network this is. A SharedArrayBuffer arrives in a worker as a new object with every message
   * (the same memory, another wrapper), so workers recognise a network they already run by this id.
   */
  id: string;
  buffer: SharedArrayBuffer;
  /** Per layer: [inputs, outputs]. Weights then bias, layer after layer, float32. */
  shapes: Array<[number, number]>;
  activation: Activation;
  output: OutputFunction;
}

export function shareNetwork(network: Network): SharedNetwork {
  let floats = 0;
  for (const { W } of network.layers) floats += W.rows * W.cols + W.cols;
  const buffer = new SharedArrayBuffer(floats * Float32Array.BYTES_PER_ELEMENT);
  const all = new Float32Array(buffer);
  let offset = 0;
  const shapes: Array<[number, number]> = [];
  for (const { W, b } of network.layers) {
    all.set(W.data.subarray(0, W.rows * W.cols), offset);
    offset += W.rows * W.cols;
    all.set(b.subarray(0, W.cols), offset);
    offset += W.cols;
    shapes.push([W.rows, W.cols]);
  }
  return { id: randomUUID(), buffer, shapes, activation: network.activation, output: network.output };
}

/** Views over the shared buffer (no copy). */
export function networkFromShared(shared: SharedNetwork): Network {
  let offset = 0;
  const layers = shared.shapes.map(([rows, cols]) => {
    const W = { rows, cols, data: new Float32Array(shared.buffer, offset * 4, rows * cols) };
    offset += rows * cols;
    const b = new Float32Array(shared.buffer, offset * 4, cols);
    offset += cols;
    return { W, b };
  });
  return { layers, activation: shared.activation, output: shared.output };
}
