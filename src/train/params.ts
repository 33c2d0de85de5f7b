// The trainable parameters as one flat buffer, in the layout the inference workers already share
// (src/pool/shared-network.ts: W1, b1, W2, b2, ... float32, row-major): the main thread updates it in
// place between steps and every gradient worker reads the same memory. Gradients use the same offsets
// in a float64 buffer (see gradient.ts for why float64).
import { networkFromShared, type SharedNetwork } from '../pool/shared-network.js';
import type { Activation, Network, OutputFunction } from '../nn/types.js';
import { randomUUID } from 'node:crypto';

/** Where each layer's W and b start in the flat buffer (in floats). */
export interface ParamLayout {
  /** Input first: [784, 50, 100, 10]. */
  layerSizes: readonly number[];
  /** Per layer: offset of W (inputs x outputs) and of b (outputs). */
  offsets: ReadonlyArray<{ W: number; b: number; inputs: number; outputs: number }>;
  /** Total number of parameters. */
  size: number;
}

export function paramLayout(layerSizes: readonly number[]): ParamLayout {
  if (layerSizes.length < 2) throw new RangeError('a network needs at least an input and an output size');
  for (const n of layerSizes)
    if (!Number.isSafeInteger(n) || n < 1)
      throw new RangeError(`layer sizes must be positive integers, got ${layerSizes.join(',')}`);
  const offsets: Array<{ W: number; b: number; inputs: number; outputs: number }> = [];
  let offset = 0;
  for (let k = 0; k + 1 < layerSizes.length; k++) {
    const inputs = layerSizes[k];
    const outputs = layerSizes[k + 1];
    offsets.push({ W: offset, b: offset + inputs * outputs, inputs, outputs });
    offset += inputs * outputs + outputs;
  }
  return { layerSizes: [...layerSizes], offsets, size: offset };
}

/** A zeroed parameter buffer in shared memory, with the network views over it. */
export function allocateSharedParams(
  layerSizes: readonly number[],
  activation: Activation,
  output: OutputFunction,
): { shared: SharedNetwork; network: Network; flat: Float32Array; layout: ParamLayout } {
  const layout = paramLayout(layerSizes);
  const buffer = new SharedArrayBuffer(layout.size * Float32Array.BYTES_PER_ELEMENT);
  const shapes = layout.offsets.map(({ inputs, outputs }) => [inputs, outputs] as [number, number]);
  const shared: SharedNetwork = { id: randomUUID(), buffer, shapes, activation, output };
  return { shared, network: networkFromShared(shared), flat: new Float32Array(buffer), layout };
}
