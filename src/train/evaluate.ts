// Accuracy measured with the inference forward pass itself (src/nn/forward.ts on rows normalised with
// the inference table), so the accuracy training reports is the accuracy `npm run pipeline` measures.
import { argmaxRows, createForwardScratch, forward, type ForwardScratch } from '../nn/forward.js';
import type { Network } from '../nn/types.js';
import type { ImageSet } from './training-data.js';

export interface EvaluateScratch {
  maxRows: number;
  x: Float32Array;
  forward: ForwardScratch;
  predicted: Int32Array;
  confidence: Float32Array;
}

export function createEvaluateScratch(network: Network, features: number, maxRows: number): EvaluateScratch {
  return {
    maxRows,
    x: new Float32Array(maxRows * features),
    forward: createForwardScratch(network, maxRows),
    predicted: new Int32Array(maxRows),
    confidence: new Float32Array(maxRows),
  };
}

/** Number of images start .. start+rows-1 of `set` that the network classifies correctly. */
export function countCorrect(
  network: Network,
  set: ImageSet,
  start: number,
  rows: number,
  table: Float32Array,
  scratch: EvaluateScratch,
): number {
  if (rows > scratch.maxRows)
    throw new RangeError(`countCorrect: ${rows} rows exceed the scratch's ${scratch.maxRows}`);
  if (start < 0 || start + rows > set.count)
    throw new RangeError(`countCorrect: rows ${start}..${start + rows} are outside the set of ${set.count}`);
  const { features, pixels, labels } = set;
  const { x } = scratch;
  const base = start * features;
  for (let i = 0; i < rows * features; i++) x[i] = table[pixels[base + i]];
  const classes = network.layers[network.layers.length - 1].W.cols;
  const out = forward(network, x, rows, scratch.forward);
  argmaxRows(out, rows, classes, scratch.predicted, scratch.confidence);
  let correct = 0;
  for (let r = 0; r < rows; r++) if (scratch.predicted[r] === labels[start + r]) correct++;
  return correct;
}
