// Read a model file of any supported format and build the network it holds.
import { readModelFile } from './model-files/index.js';
import { networkFromModelFile, type NetworkOverrides } from './network.js';
import type { LoadedModel } from './types.js';

export async function loadModel(path: string, overrides?: NetworkOverrides): Promise<LoadedModel> {
  return networkFromModelFile(await readModelFile(path), overrides);
}
