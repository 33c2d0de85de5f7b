// Building a Network from named tensors: layer chain, activation/output/normalize from metadata or
// overrides, and refusals that name the file and the tensor.
import test from 'ava';
import { ModelError } from '../../src/errors.js';
import { networkFromModelFile, tensorsFromNetwork } from '../../src/nn/network.js';
import type { ModelFile, Tensor } from '../../src/nn/types.js';
import { loadTinyFixture } from './model-test-helpers.js';

const FILE = 'models/tiny.safetensors';

function modelFile(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): ModelFile {
  return { path: FILE, format: 'safetensors', sha256: 'ab'.repeat(32), sizeBytes: 1, tensors, metadata };
}

function tinyWith(change: (tensors: Map<string, Tensor>) => void = () => {}): Map<string, Tensor> {
  const tensors = new Map(loadTinyFixture().tensors);
  change(tensors);
  return tensors;
}

function refuses(t: import('ava').ExecutionContext, file: ModelFile, pattern: RegExp, overrides = {}) {
  const error = t.throws(() => networkFromModelFile(file, overrides), {
    instanceOf: ModelError,
    code: 'PIPE_ERR_MODEL',
  });
  t.true(error?.message.startsWith(`${FILE}: `));
  t.regex(error?.message ?? '', pattern);
}

test('W1, b1, W2, b2 make a two-layer network with the book defaults', (t) => {
  const loaded = networkFromModelFile(modelFile(tinyWith()));
  t.deepEqual(loaded.layerSizes, [4, 3, 2]);
  t.is(loaded.network.layers.length, 2);
  t.deepEqual([loaded.network.layers[0].W.rows, loaded.network.layers[0].W.cols], [4, 3]);
  t.is(loaded.network.activation, 'sigmoid');
  t.is(loaded.network.output, 'softmax');
  t.is(loaded.normalize, null);
  t.is(loaded.path, FILE);
  t.is(loaded.format, 'safetensors');
  t.is(loaded.sha256, 'ab'.repeat(32));
});

test('a (1, out) bias is accepted', (t) => {
  const tensors = tinyWith((m) => m.set('b1', { shape: [1, 3], data: m.get('b1')!.data }));
  t.deepEqual(networkFromModelFile(modelFile(tensors)).network.layers[0].b.length, 3);
});

test('activation, output and normalize come from metadata; explicit overrides win', (t) => {
  const file = modelFile(tinyWith(), { activation: 'relu', output: 'identity', normalize: 'unit', note: 'kept' });
  const fromMetadata = networkFromModelFile(file);
  t.is(fromMetadata.network.activation, 'relu');
  t.is(fromMetadata.network.output, 'identity');
  t.is(fromMetadata.normalize, 'unit');
  t.is(fromMetadata.metadata.note, 'kept');
  const overridden = networkFromModelFile(file, { activation: 'step', output: 'sigmoid' });
  t.is(overridden.network.activation, 'step');
  t.is(overridden.network.output, 'sigmoid');
  const noMetadata = networkFromModelFile(modelFile(tinyWith()), { activation: 'identity' });
  t.is(noMetadata.network.activation, 'identity');
  t.is(noMetadata.network.output, 'softmax');
});

test('metadata values outside the allowed sets are refused, naming the key', (t) => {
  refuses(
    t,
    modelFile(tinyWith(), { activation: 'tanh' }),
    /metadata activation 'tanh' is not one of sigmoid, relu, step, identity/,
  );
  refuses(t, modelFile(tinyWith(), { output: 'logsoftmax' }), /metadata output 'logsoftmax'/);
  refuses(t, modelFile(tinyWith(), { normalize: 'zscore' }), /metadata normalize 'zscore' is not one of unit, none/);
});

test('recorded layer_sizes must match the tensors', (t) => {
  t.notThrows(() => networkFromModelFile(modelFile(tinyWith(), { layer_sizes: '[4, 3, 2]' })));
  refuses(
    t,
    modelFile(tinyWith(), { layer_sizes: '[784,50,10]' }),
    /layer_sizes \[784,50,10\] does not match the tensors' layer sizes \[4,3,2\]/,
  );
  refuses(t, modelFile(tinyWith(), { layer_sizes: 'four' }), /layer_sizes 'four' is not a JSON array/);
});

test('missing tensors, gaps in the numbering and extra tensors are refused, naming the tensor', (t) => {
  refuses(t, modelFile(tinyWith((m) => m.delete('W2'))), /tensor W2 is missing/);
  refuses(t, modelFile(tinyWith((m) => m.set('W4', m.get('W2')!))), /tensor W3 is missing/);
  refuses(t, modelFile(tinyWith((m) => m.set('running_mean', m.get('b1')!))), /unexpected tensor running_mean/);
  refuses(t, modelFile(tinyWith((m) => m.set('W0', m.get('b1')!))), /unexpected tensor W0/);
  refuses(
    t,
    modelFile(new Map()),
    /no tensors found; a network holds W1, b1, \.\.\., Wn, bn .* or PyTorch state_dict names/,
  );
});

test('wrong ranks and mismatched shapes are refused, naming the tensor', (t) => {
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('W1', { shape: [12], data: m.get('W1')!.data }))),
    /tensor W1 has shape \(12\); expected 2-D/,
  );
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('b1', { shape: [3, 1], data: m.get('b1')!.data }))),
    /tensor b1 has shape \(3, 1\); a bias is \(outputs\) or \(1, outputs\)/,
  );
  // b2 (3) makes W2 (3, 2) read as (outputs, inputs): 2 inputs after a 3-output layer.
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('b2', { shape: [3], data: new Float32Array(3) }))),
    /W1 \(4, 3\) gives 3 outputs, but the next layer, W2 \(3, 2, read as \(outputs, inputs\)\), takes 2 inputs/,
  );
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('b2', { shape: [5], data: new Float32Array(5) }))),
    /tensor b2 has 5 values, matching neither dimension of W2 \(3, 2\)/,
  );
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('W2', { shape: [51, 2], data: new Float32Array(102) }))),
    /the layers do not chain: W1 \(4, 3\) gives 3 outputs, but the next layer, W2 \(51, 2\), takes 51 inputs/,
  );
});

test('NaN and Infinity are refused, naming the tensor and the first bad index', (t) => {
  refuses(
    t,
    modelFile(tinyWith((m) => m.get('W1')!.data.set([Number.POSITIVE_INFINITY], 7))),
    /tensor W1 has a non-finite value \(Infinity\) at index 7 \(row 2, column 1\)/,
  );
  const b2 = Float32Array.from([Number.NaN, Number.NaN]);
  refuses(
    t,
    modelFile(tinyWith((m) => m.set('b2', { shape: [2], data: b2 }))),
    /tensor b2 has a non-finite value \(NaN\) at index 0/,
  );
});

test('tensorsFromNetwork gives back W1..bn with 1-D biases', (t) => {
  const tensors = tinyWith((m) => m.set('b1', { shape: [1, 3], data: m.get('b1')!.data }));
  const back = tensorsFromNetwork(networkFromModelFile(modelFile(tensors)).network);
  t.deepEqual([...back.keys()], ['W1', 'b1', 'W2', 'b2']);
  t.deepEqual(back.get('b1')!.shape, [3]);
  t.is(back.get('W2')!.data, tensors.get('W2')!.data);
});
