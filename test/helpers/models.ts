// Small synthetic models for tests that must not depend on ../shared or on the trained default.
import { writeModelFile } from '../../src/nn/model-files/index.js';
import type { Tensor } from '../../src/nn/types.js';

/** A deterministic pseudo-random float in [-scale, scale) (mulberry32). */
function generator(seed: number) {
  let a = seed >>> 0;
  return (scale: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return (u * 2 - 1) * scale;
  };
}

export function randomTensors(sizes: number[], seed = 1): Map<string, Tensor> {
  const next = generator(seed);
  const tensors = new Map<string, Tensor>();
  for (let k = 1; k < sizes.length; k++) {
    const [rows, cols] = [sizes[k - 1], sizes[k]];
    const scale = Math.sqrt(1 / rows) * 2;
    tensors.set(`W${k}`, { shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => next(scale)) });
    tensors.set(`b${k}`, { shape: [cols], data: Float32Array.from({ length: cols }, () => next(0.1)) });
  }
  return tensors;
}

/** Writes a random 784-…-10 model (sigmoid/softmax metadata) and returns its path. */
export async function writeRandomModel(
  path: string,
  sizes = [784, 16, 10],
  seed = 1,
  metadata: Record<string, string> = {},
): Promise<string> {
  await writeModelFile(path, randomTensors(sizes, seed), {
    activation: 'sigmoid',
    output: 'softmax',
    normalize: 'unit',
    layer_sizes: JSON.stringify(sizes),
    ...metadata,
  });
  return path;
}
