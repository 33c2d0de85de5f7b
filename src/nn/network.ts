// Turning the named tensors of a model file into a Network: W1, b1, ..., Wn, bn, each Wk (in_k, out_k),
// each bk (out_k) or (1, out_k), in_{k+1} == out_k, every value finite. Anything else is a ModelError
// naming the file and the tensor.
import { ModelError } from '../errors.js';
import {
  ACTIVATIONS,
  NORMALIZATIONS,
  OUTPUT_FUNCTIONS,
  type Activation,
  type DenseLayer,
  type LoadedModel,
  type ModelFile,
  type Network,
  type Normalization,
  type OutputFunction,
  type Tensor,
} from './types.js';

export const DEFAULT_ACTIVATION: Activation = 'sigmoid';
export const DEFAULT_OUTPUT: OutputFunction = 'softmax';

export interface NetworkOverrides {
  activation?: Activation;
  output?: OutputFunction;
}

export function networkFromModelFile(file: ModelFile, overrides: NetworkOverrides = {}): LoadedModel {
  const fail: (problem: string) => never = (problem) => {
    throw new ModelError(file.path, problem);
  };
  const layers = layersFromTensors(file.tensors, fail);
  const layerSizes = [layers[0].W.rows, ...layers.map((layer) => layer.W.cols)];

  const { metadata } = file;
  const fromMetadata = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    if (!Object.hasOwn(metadata, key)) return undefined;
    const value = metadata[key];
    if (!(allowed as readonly string[]).includes(value)) fail(`metadata ${key} '${value}' is not one of ${allowed.join(', ')}`);
    return value as T;
  };
  // Values in the file are checked even when an override replaces them: a bad value means a file we do
  // not understand.
  const activation = overrides.activation ?? fromMetadata('activation', ACTIVATIONS) ?? DEFAULT_ACTIVATION;
  const output = overrides.output ?? fromMetadata('output', OUTPUT_FUNCTIONS) ?? DEFAULT_OUTPUT;
  if (overrides.activation) fromMetadata('activation', ACTIVATIONS);
  if (overrides.output) fromMetadata('output', OUTPUT_FUNCTIONS);
  const normalize: Normalization | null = fromMetadata('normalize', NORMALIZATIONS) ?? null;
  checkRecordedLayerSizes(metadata, layerSizes, fail);

  const network: Network = { layers, activation, output };
  return { path: file.path, format: file.format, sha256: file.sha256, network, layerSizes, normalize, metadata: { ...metadata } };
}

/** The tensors to store for a network: Wk (in, out) and bk (out), sharing the network's data. */
export function tensorsFromNetwork(network: Network): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  network.layers.forEach((layer, index) => {
    tensors.set(`W${index + 1}`, { shape: [layer.W.rows, layer.W.cols], data: layer.W.data });
    tensors.set(`b${index + 1}`, { shape: [layer.b.length], data: layer.b });
  });
  return tensors;
}

function layersFromTensors(tensors: Map<string, Tensor>, fail: (problem: string) => never): DenseLayer[] {
  const names = [...tensors.keys()];
  for (const name of names) {
    if (!/^[Wb][1-9][0-9]*$/.test(name)) {
      fail(`unexpected tensor ${name} (a network holds only W1, b1, ..., Wn, bn)`);
    }
  }
  const count = Math.max(0, ...names.map((name) => Number(name.slice(1))));
  if (count === 0) fail('no tensors W1, b1, ... found');
  const layers: DenseLayer[] = [];
  for (let k = 1; k <= count; k++) {
    const wName = `W${k}`;
    const bName = `b${k}`;
    const W = tensors.get(wName);
    const b = tensors.get(bName);
    if (!W) fail(`tensor ${wName} is missing (found ${names.join(', ')})`);
    if (!b) fail(`tensor ${bName} is missing (found ${names.join(', ')})`);
    if (W.shape.length !== 2) fail(`tensor ${wName} has shape (${W.shape.join(', ')}); expected 2-D (inputs, outputs)`);
    const [inputs, outputs] = W.shape;
    if (inputs < 1 || outputs < 1) fail(`tensor ${wName} has shape (${W.shape.join(', ')}); a layer needs at least one input and one output`);
    const biasShapeOk = (b.shape.length === 1 && b.shape[0] === outputs) || (b.shape.length === 2 && b.shape[0] === 1 && b.shape[1] === outputs);
    if (!biasShapeOk) fail(`tensor ${bName} has shape (${b.shape.join(', ')}); expected (${outputs}) or (1, ${outputs}) to match ${wName}`);
    if (k > 1) {
      const previousOutputs = layers[k - 2].W.cols;
      if (inputs !== previousOutputs) {
        fail(`tensor ${wName} has ${inputs} rows, but the previous layer (W${k - 1}) has ${previousOutputs} outputs`);
      }
    }
    if (W.data.length !== inputs * outputs) fail(`tensor ${wName} holds ${W.data.length} values, shape needs ${inputs * outputs}`);
    if (b.data.length !== outputs) fail(`tensor ${bName} holds ${b.data.length} values, shape needs ${outputs}`);
    checkFinite(wName, W, fail);
    checkFinite(bName, b, fail);
    layers.push({ W: { rows: inputs, cols: outputs, data: W.data }, b: b.data });
  }
  return layers;
}

function checkFinite(name: string, tensor: Tensor, fail: (problem: string) => never): void {
  const { data, shape } = tensor;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const where = shape.length === 2 ? `index ${i} (row ${Math.floor(i / shape[1])}, column ${i % shape[1]})` : `index ${i}`;
      fail(`tensor ${name} has a non-finite value (${data[i]}) at ${where}`);
    }
  }
}

function checkRecordedLayerSizes(metadata: Record<string, string>, actual: number[], fail: (problem: string) => never): void {
  if (!Object.hasOwn(metadata, 'layer_sizes')) return;
  let recorded: unknown;
  try {
    recorded = JSON.parse(metadata.layer_sizes);
  } catch {
    fail(`metadata layer_sizes '${metadata.layer_sizes}' is not a JSON array`);
  }
  if (!Array.isArray(recorded) || !recorded.every((n) => typeof n === 'number') || recorded.join(',') !== actual.join(',')) {
    fail(`metadata layer_sizes ${metadata.layer_sizes} does not match the tensors' layer sizes [${actual.join(',')}]`);
  }
}
