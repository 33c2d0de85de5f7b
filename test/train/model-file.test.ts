// A trained model saved as .safetensors loads back through the pipeline's loadModel with its
// metadata, and the loaded network computes exactly what the trained one did.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/nn/load-model.js';
import { writeModelFile } from '../../src/nn/model-files/index.js';
import { forward } from '../../src/nn/forward.js';
import { allocateSharedParams } from '../../src/train/params.js';
import { tensorsFromNetwork } from '../../src/nn/network.js';
import { initializeNetwork } from '../../src/train/init.js';
import { Xoshiro128StarStar } from '../../src/train/prng.js';
import { trainedModelMetadata } from '../../src/train/metadata.js';

test('save -> loadModel round trip keeps weights bit for bit and the metadata the pipeline reads', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-train-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sizes = [784, 50, 100, 10];
  const { network } = allocateSharedParams(sizes, 'relu', 'softmax');
  initializeNetwork(network, Xoshiro128StarStar.fromSeed(5));
  network.layers[1].b.fill(0.25);
  const source = {
    split: 'train' as const,
    imagesFile: 'train-images-idx3-ubyte',
    labelsFile: 'train-labels-idx1-ubyte',
    imagesSha256: 'a'.repeat(64),
    labelsSha256: 'b'.repeat(64),
    available: 60000,
    used: 60000,
  };
  const metadata = trainedModelMetadata({
    layerSizes: sizes,
    activation: 'relu',
    output: 'softmax',
    optimizer: { name: 'adam', learningRate: 0.003, schedule: 'linear', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    initSchemes: ['he', 'he', 'xavier'],
    seed: 5,
    epochs: 3,
    batchSize: 100,
    shardRows: 50,
    augmentShift: 1,
    finalTrainAccuracy: 0.99,
    finalTestAccuracy: 0.98,
    history: [
      {
        epoch: 1,
        epochs: 1,
        trainLoss: 0.1,
        trainAccuracy: 0.9,
        testAccuracy: 0.95,
        imagesPerSecond: 1,
        trainSeconds: 1,
        evalSeconds: 1,
      },
    ],
    trainSource: source,
    testSource: { ...source, split: 'test', available: 10000, used: 10000 },
    createdAt: new Date('2026-01-02T03:04:05Z'),
    command: 'npm run train -- --seed 5',
    tool: 'nnpipe 0.1.0',
  });
  for (const value of Object.values(metadata)) t.is(typeof value, 'string');

  const path = join(dir, 'model.safetensors');
  await writeModelFile(path, tensorsFromNetwork(network), metadata);
  const loaded = await loadModel(path);
  t.is(loaded.format, 'safetensors');
  t.deepEqual(loaded.layerSizes, sizes);
  t.is(loaded.network.activation, 'relu');
  t.is(loaded.network.output, 'softmax');
  t.is(loaded.normalize, 'unit');
  t.deepEqual(loaded.metadata, metadata);
  t.deepEqual(JSON.parse(loaded.metadata.optimizer), {
    name: 'adam',
    learning_rate: 0.003,
    schedule: 'linear',
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  t.deepEqual(JSON.parse(loaded.metadata.training_data_sha256), {
    'train-images-idx3-ubyte': 'a'.repeat(64),
    'train-labels-idx1-ubyte': 'b'.repeat(64),
  });
  network.layers.forEach((layer, k) => {
    t.deepEqual(loaded.network.layers[k].W.data.slice(0, layer.W.data.length), layer.W.data.slice());
    t.deepEqual(loaded.network.layers[k].b.slice(0, layer.b.length), layer.b.slice());
  });
  const x = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 7) / 7);
  t.deepEqual(forward(loaded.network, x, 3), forward(network, x, 3));
});
