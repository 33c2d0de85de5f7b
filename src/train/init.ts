// Weight initialisation suited to the activation that follows each layer, drawn from the seeded
// generator so that a seed fixes the starting point bit for bit:
//  - Xavier / Glorot (Glorot & Bengio 2010, "normalized initialization"): U(-a, a), a = sqrt(6 / (in + out)),
//    for sigmoid layers and for the softmax output layer;
//  - He (He et al. 2015) in its uniform form: U(-a, a), a = sqrt(6 / in), for relu layers.
// Uniform rather than normal draws: they need only a multiply and a correctly rounded sqrt, so the
// weights do not depend on the platform's log/cos. Biases start at zero.
import type { Activation, Network } from '../nn/types.js';
import type { Xoshiro128StarStar } from './prng.js';

export type InitScheme = 'xavier' | 'he';

export function initSchemeFor(activation: Activation): InitScheme {
  return activation === 'relu' ? 'he' : 'xavier';
}

export function initLimit(scheme: InitScheme, inputs: number, outputs: number): number {
  return scheme === 'he' ? Math.sqrt(6 / inputs) : Math.sqrt(6 / (inputs + outputs));
}

/**
 * Fills every W with uniform draws (layer by layer, row-major) and every b with zeros. Hidden layers use
 * the scheme of the network's activation; the output layer (softmax) uses Xavier.
 * Returns the scheme used per layer (recorded in the model's metadata).
 */
export function initializeNetwork(network: Network, rng: Xoshiro128StarStar): InitScheme[] {
  const last = network.layers.length - 1;
  return network.layers.map(({ W, b }, k) => {
    const scheme: InitScheme = k === last ? 'xavier' : initSchemeFor(network.activation);
    const limit = initLimit(scheme, W.rows, W.cols);
    const n = W.rows * W.cols;
    // 2u - 1 with a 24-bit u is exact, so the only rounding is the final float32 store.
    for (let i = 0; i < n; i++) W.data[i] = limit * (2 * rng.nextFloat24() - 1);
    b.fill(0, 0, W.cols);
    return scheme;
  });
}
