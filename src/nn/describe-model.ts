// What `nnpipe inspect` reports about a model file: its format and checksum, its layers as the file names
// and stores them, the settings the pipeline will use and where each comes from, the parameter count and
// the FLOPs per image, the metadata, and what loading it renamed or transposed.
import { readModelFile } from './model-files/index.js';
import { networkFromModelFile, type NetworkOverrides } from './network.js';
import type { ModelFormat, SettingSource } from './types.js';

const FORMAT_NAMES: Record<ModelFormat, string> = {
  safetensors: 'safetensors',
  npz: 'numpy npz (zip of .npy arrays)',
  pkl: 'Python pickle of numpy arrays',
  pt: 'PyTorch state_dict (torch.save zip archive)',
  onnx: 'ONNX graph',
};

export interface ModelDescription {
  path: string;
  format: ModelFormat;
  formatName: string;
  sizeBytes: number;
  sha256: string;
  layerSizes: number[];
  layers: {
    weight: string;
    bias: string | null;
    /** The weight's shape in the file. */
    storedShape: number[];
    transposed: boolean;
    inputs: number;
    outputs: number;
    /** The function applied to the layer's output: the activation, or the output function for the last layer. */
    function: string;
  }[];
  /** Weights and biases: sum of in * out + out over the layers. */
  parameters: number;
  /** Multiplications and additions of the dense layers per image: sum of 2 * in * out + out (functions not counted). */
  flopsPerImage: number;
  activation: { value: string; from: SettingSource };
  output: { value: string; from: SettingSource };
  /** The normalisation recorded in the file, or null (the pipeline's --normalize then applies, default unit). */
  normalize: string | null;
  metadata: Record<string, string>;
  /** File names that differ from the canonical W1, b1, ... that `npm run convert` writes. */
  renamed: { from: string; to: string }[];
  /** File names of the weights stored (out, in) and transposed on load. */
  transposed: string[];
  notes: string[];
}

export async function describeModelFile(path: string, overrides: NetworkOverrides = {}): Promise<ModelDescription> {
  const file = await readModelFile(path);
  const model = networkFromModelFile(file, overrides);
  const { network, layerSources } = model;
  const last = network.layers.length - 1;
  const layers = network.layers.map((layer, k) => ({
    weight: layerSources[k].weight,
    bias: layerSources[k].bias,
    storedShape: layerSources[k].storedShape,
    transposed: layerSources[k].transposed,
    inputs: layer.W.rows,
    outputs: layer.W.cols,
    function: k === last ? network.output : network.activation,
  }));
  const renamed = layerSources.flatMap((source, k) => [
    ...(source.weight === `W${k + 1}` ? [] : [{ from: source.weight, to: `W${k + 1}` }]),
    ...(source.bias === null || source.bias === `b${k + 1}` ? [] : [{ from: source.bias, to: `b${k + 1}` }]),
  ]);
  return {
    path,
    format: file.format,
    formatName: FORMAT_NAMES[file.format],
    sizeBytes: file.sizeBytes,
    sha256: file.sha256,
    layerSizes: model.layerSizes,
    layers,
    parameters: layers.reduce((sum, layer) => sum + layer.inputs * layer.outputs + layer.outputs, 0),
    flopsPerImage: layers.reduce((sum, layer) => sum + 2 * layer.inputs * layer.outputs + layer.outputs, 0),
    activation: { value: network.activation, from: model.settingSources.activation },
    output: { value: network.output, from: model.settingSources.output },
    normalize: model.normalize,
    metadata: model.metadata,
    renamed,
    transposed: layerSources.filter((source) => source.transposed).map((source) => source.weight),
    notes: model.notes,
  };
}
