// What names a loaded model wherever a run or an experiment is recorded (reports, experiment documents):
// its file, format and checksum, its layers and its functions.
import type { LoadedModel } from './types.js';

export interface ModelIdentity {
  path: string;
  format: string;
  sha256: string;
  layerSizes: number[];
  activation: string;
  output: string;
}

export function modelIdentity(model: LoadedModel): ModelIdentity {
  return {
    path: model.path,
    format: model.format,
    sha256: model.sha256,
    layerSizes: [...model.layerSizes],
    activation: model.network.activation,
    output: model.network.output,
  };
}
