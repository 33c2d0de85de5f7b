// Short real training runs on a subset of MNIST: learning happens, and the result does not depend on
// where the gradients were computed (in-process, 1 or 2 worker threads).
import test from 'ava';
import { runTraining, type TrainingConfig, type TrainingRun } from '../../pipelines/training.js';
import { loadMnistSplit } from '../../src/train/training-data.js';
import { allocateSharedParams } from '../../src/train/params.js';
import { initializeNetwork } from '../../src/train/init.js';
import { Xoshiro128StarStar } from '../../src/train/prng.js';
import type { TrainingEvent } from '../../src/train/trainer.js';

// Loaded once: the whole IDX files are read (and hashed), the runs then use the first images.
const data = Promise.all([loadMnistSplit('train', 2000), loadMnistSplit('test', 1000)]).then(([train, test]) => ({
  train,
  test,
}));

const base: TrainingConfig = {
  hidden: [50, 100],
  activation: 'sigmoid',
  epochs: 3,
  batchSize: 50,
  optimizer: { name: 'adam', learningRate: 0.01 },
  seed: 1,
  threads: 1,
  limitTrain: 2000,
  limitTest: 1000,
  shardRows: 25,
  augmentShift: 0,
};

const bits = (run: TrainingRun) => {
  const all: number[] = [];
  for (const { W, b } of run.network.layers)
    all.push(...new Uint32Array(W.data.slice().buffer), ...new Uint32Array(b.slice().buffer));
  return all;
};

test('a short run on 2,000 images reduces the loss and beats chance by far (1,000 test images)', async (t) => {
  const events: TrainingEvent[] = [];
  const run = await runTraining(base, { data: await data, onEvent: (e) => events.push(e) });
  t.is(run.history.length, 3);
  const losses = run.history.map((e) => e.trainLoss);
  t.true(losses[2] < losses[0], `loss ${losses.join(' -> ')}`);
  t.true(losses[0] < Math.log(10), 'below the loss of a uniform guess');
  t.true(run.finalTestAccuracy > 0.8, `test accuracy ${run.finalTestAccuracy}`);
  t.true(run.finalTrainAccuracy > 0.8, `train accuracy ${run.finalTrainAccuracy}`);
  t.deepEqual(run.layerSizes, [784, 50, 100, 10]);
  t.is(run.steps, 3 * 40);
  t.is(run.trainSource.used, 2000);
  t.is(run.testSource.used, 1000);
  t.regex(run.trainSource.imagesSha256, /^[0-9a-f]{64}$/);
  // Events: per epoch a start, progress up to the full count, and the epoch's stats.
  t.is(events.filter((e) => e.type === 'epoch-start').length, 3);
  const epochs = events.filter((e) => e.type === 'epoch');
  t.is(epochs.length, 3);
  t.true(events.some((e) => e.type === 'progress' && e.imagesDone === 2000));
  for (const e of epochs) if (e.type === 'epoch') t.true(e.stats.imagesPerSecond > 0 && e.stats.testAccuracy > 0.5);
});

test('determinism: in-process, 1 and 2 threads, atomics and message hand-off give the same weights bit for bit', async (t) => {
  // With augmentation, so the per-image translations are covered too; 1,050 images so the last batch is short.
  const config = { ...base, epochs: 2, limitTrain: 1050, augmentShift: 2 };
  const loaded = await data;
  const inProcess = await runTraining({ ...config, threads: 0 }, { data: loaded });
  const reference = bits(inProcess);
  const history = (run: TrainingRun) => run.history.map((e) => [e.trainLoss, e.trainAccuracy, e.testAccuracy]);
  for (const threads of [1, 2]) {
    for (const handOff of ['atomics', 'message'] as const) {
      const run = await runTraining({ ...config, threads, handOff }, { data: loaded });
      t.deepEqual(bits(run), reference, `${threads} thread(s), ${handOff}`);
      t.deepEqual(history(run), history(inProcess), `${threads} thread(s), ${handOff}: history`);
      t.is(run.finalTrainAccuracy, inProcess.finalTrainAccuracy);
    }
  }
});

for (const handOff of ['atomics', 'message'] as const) {
  test(`a worker that fails makes the run fail (${handOff} hand-off), without hanging`, async (t) => {
    const workerFile = new URL('./faulty-gradient-worker.js', import.meta.url);
    const error = await t.throwsAsync(
      runTraining({ ...base, epochs: 1, limitTrain: 500, threads: 2, handOff }, { data: await data, workerFile }),
    );
    t.regex(error!.message, /injected fault/);
    t.is((error as { code?: string }).code, 'PIPE_ERR_WORKER');
  });
}

test('determinism: the same seed twice gives the same weights; another seed does not', async (t) => {
  const config = {
    ...base,
    epochs: 1,
    limitTrain: 500,
    threads: 0,
    optimizer: { name: 'sgd' as const, learningRate: 0.5 },
  };
  const loaded = await data;
  const a = await runTraining(config, { data: loaded });
  const b = await runTraining(config, { data: loaded });
  const c = await runTraining({ ...config, seed: 2 }, { data: loaded });
  t.deepEqual(bits(a), bits(b));
  t.notDeepEqual(bits(a), bits(c));
});

test('relu with He initialisation and momentum also learns', async (t) => {
  const run = await runTraining(
    {
      ...base,
      activation: 'relu',
      hidden: [64],
      epochs: 3,
      threads: 0,
      optimizer: { name: 'momentum', learningRate: 0.05, momentum: 0.9 },
    },
    { data: await data },
  );
  t.deepEqual(run.initSchemes, ['he', 'xavier']);
  t.true(run.finalTestAccuracy > 0.8, `test accuracy ${run.finalTestAccuracy}`);
});

test('initialisation: Xavier for sigmoid, He for relu, zero biases, within the limits', (t) => {
  for (const [activation, scheme, limit] of [
    ['sigmoid', 'xavier', Math.sqrt(6 / (784 + 50))],
    ['relu', 'he', Math.sqrt(6 / 784)],
  ] as const) {
    const { network } = allocateSharedParams([784, 50, 10], activation, 'softmax');
    const schemes = initializeNetwork(network, Xoshiro128StarStar.fromSeed(1));
    t.deepEqual(schemes, [scheme, 'xavier']);
    const w = network.layers[0].W.data;
    let max = 0;
    let sumSq = 0;
    for (const v of w) {
      max = Math.max(max, Math.abs(v));
      sumSq += v * v;
    }
    t.true(max <= limit);
    // Variance of U(-a, a) is a²/3.
    t.true(Math.abs(sumSq / w.length / ((limit * limit) / 3) - 1) < 0.05);
    t.true(network.layers.every((layer) => layer.b.every((v) => v === 0)));
  }
});

test('an aborted run stops with the signal reason', async (t) => {
  const controller = new AbortController();
  const reason = new Error('stop');
  const promise = runTraining(
    { ...base, threads: 0 },
    { data: await data, signal: controller.signal, onEvent: (e) => e.type === 'progress' && controller.abort(reason) },
  );
  await t.throwsAsync(promise, { is: reason });
});
