// Turning the tensors of a model file into a Network: the layers from the file's graph (ONNX) or from the
// tensors' names and shapes (layer-chain.ts), the activation and output function from the options, the
// graph, the metadata or the book's defaults, in that order. Anything wrong is a ModelError naming the
// file and the tensor.
import { ModelError } from '../errors.js';
import { NORMALIZATIONS, type Normalization } from '../data/normalize.js';
import { layersFromGraph, layersFromStateDict } from './layer-chain.js';
import {
  ACTIVATIONS,
  OUTPUT_FUNCTIONS,
  type Activation,
  type LoadedModel,
  type ModelFile,
  type Network,
  type OutputFunction,
  type SettingSource,
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
  const { graph, metadata } = file;
  const chain = graph ? layersFromGraph(file.tensors, graph, fail) : layersFromStateDict(file.tensors, fail);
  const { layers } = chain;
  const layerSizes = [layers[0].W.rows, ...layers.map((layer) => layer.W.cols)];

  const fromMetadata = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    if (!Object.hasOwn(metadata, key)) return undefined;
    const value = metadata[key];
    if (!(allowed as readonly string[]).includes(value))
      fail(`metadata ${key} '${value}' is not one of ${allowed.join(', ')}`);
    return value as T;
  };
  // Values in the file are checked even when an option replaces them: a bad value means a file we do not
  // understand.
  const setting = <T extends string>(
    key: 'activation' | 'output',
    allowed: readonly T[],
    option: T | undefined,
    fallback: T,
  ): [T, SettingSource] => {
    const recorded = fromMetadata(key, allowed);
    if (graph && recorded && recorded !== graph[key])
      fail(`metadata ${key} '${recorded}' contradicts the graph, whose ${key} is ${graph[key]}`);
    if (option) return [option, 'option'];
    if (graph) return [graph[key] as T, 'graph'];
    return recorded ? [recorded, 'metadata'] : [fallback, 'default'];
  };
  const [activation, activationSource] = setting('activation', ACTIVATIONS, overrides.activation, DEFAULT_ACTIVATION);
  const [output, outputSource] = setting('output', OUTPUT_FUNCTIONS, overrides.output, DEFAULT_OUTPUT);
  const normalize: Normalization | null = fromMetadata('normalize', NORMALIZATIONS) ?? null;
  checkRecordedLayerSizes(metadata, layerSizes, fail);

  const network: Network = { layers, activation, output };
  return {
    path: file.path,
    format: file.format,
    sha256: file.sha256,
    network,
    layerSizes,
    normalize,
    metadata: { ...metadata },
    layerSources: chain.sources,
    settingSources: { activation: activationSource, output: outputSource },
    notes: chain.notes,
  };
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

function checkRecordedLayerSizes(
  metadata: Record<string, string>,
  actual: number[],
  fail: (problem: string) => never,
): void {
  if (!Object.hasOwn(metadata, 'layer_sizes')) return;
  let recorded: unknown;
  try {
    recorded = JSON.parse(metadata.layer_sizes);
  } catch {
    fail(`metadata layer_sizes '${metadata.layer_sizes}' is not a JSON array`);
  }
  if (
    !Array.isArray(recorded) ||
    !recorded.every((n) => typeof n === 'number') ||
    recorded.join(',') !== actual.join(',')
  ) {
    fail(`metadata layer_sizes ${metadata.layer_sizes} does not match the tensors' layer sizes [${actual.join(',')}]`);
  }
}
