// The training pipeline: MNIST IDX files -> shared memory -> seeded initialisation -> epochs of
// shuffled mini-batches whose shards' gradients are computed on a Piscina pool -> optimiser steps on
// shared weights -> test accuracy after every epoch with the inference forward pass -> the trained
// network, its history and where its data came from. The CLI (src/cli/train.ts) adds options,
// progress display and saving.
import { performance } from 'node:perf_hooks';
import type { Network } from '../src/nn/types.js';
import { InProcessBackend, type TrainingBackend } from '../src/train/backend.js';
import { GradientPool, type HandOff } from '../src/train/gradient-pool.js';
import { initializeNetwork, type InitScheme } from '../src/train/init.js';
import type { TrainableActivation } from '../src/train/layers.js';
import { createOptimizer, type OptimizerSettings } from '../src/train/optimizers.js';
import { allocateSharedParams } from '../src/train/params.js';
import { Xoshiro128StarStar } from '../src/train/prng.js';
import { runTrainingLoop, type EpochStats, type TrainingEvent } from '../src/train/trainer.js';
import { loadMnistSplit, type ImageSet, type ImageSetSource } from '../src/train/training-data.js';

export interface TrainingConfig {
  /** Hidden layer sizes; the input (784) and output (10) sizes come from the data. */
  hidden: number[];
  activation: TrainableActivation;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSettings;
  seed: number;
  /** Worker threads; 0 runs every task on the main thread (tests, profiling). Never changes the result. */
  threads: number;
  /** Train on the first N training images only (quick runs); null = all 60,000. */
  limitTrain: number | null;
  /** Evaluate on the first N test images only; null = all 10,000. */
  limitTest: number | null;
  /** Rows per gradient shard. Part of the result's definition (it fixes the summation order). */
  shardRows: number;
  /** Largest random translation of training images in pixels, per axis (0 = no augmentation). */
  augmentShift: number;
  /** How steps are handed to the workers (never changes the result; default atomics). */
  handOff?: HandOff;
}

/** Rows per evaluation task (a count, so it never changes a result). */
export const EVAL_ROWS = 1000;

export interface TrainingRun {
  network: Network;
  layerSizes: number[];
  initSchemes: InitScheme[];
  history: EpochStats[];
  finalTrainAccuracy: number;
  finalTestAccuracy: number;
  steps: number;
  trainSource: ImageSetSource;
  testSource: ImageSetSource;
  /** Seconds in training steps (sum over epochs) and for the whole run including data and evaluation. */
  trainSeconds: number;
  wallSeconds: number;
}

export interface TrainingRunOptions {
  onEvent?: (event: TrainingEvent) => void;
  signal?: AbortSignal;
  /** Pre-loaded data (tests load it once for several runs). */
  data?: { train: { set: ImageSet; source: ImageSetSource }; test: { set: ImageSet; source: ImageSetSource } };
  /** A different worker module (tests). */
  workerFile?: URL;
}

export async function runTraining(config: TrainingConfig, options: TrainingRunOptions = {}): Promise<TrainingRun> {
  const started = performance.now();
  // Shift codes are bytes: (2·7+1)² = 225 translations at most.
  if (!Number.isInteger(config.augmentShift) || config.augmentShift < 0 || config.augmentShift > 7) {
    throw new RangeError(`augmentShift must be an integer 0..7, got ${config.augmentShift}`);
  }
  const [train, test] = options.data
    ? [options.data.train, options.data.test]
    : await Promise.all([loadMnistSplit('train', config.limitTrain), loadMnistSplit('test', config.limitTest)]);
  const trainSet = limitSet(train.set, config.limitTrain);
  const testSet = limitSet(test.set, config.limitTest);
  const layerSizes = [trainSet.features, ...config.hidden, trainSet.classes];

  const { shared, network, flat } = allocateSharedParams(layerSizes, config.activation, 'softmax');
  // One generator drives everything, in a fixed order: the initial weights, then per epoch the shuffle and the shifts.
  const rng = Xoshiro128StarStar.fromSeed(config.seed);
  const initSchemes = initializeNetwork(network, rng);
  const optimizer = createOptimizer(config.optimizer, flat.length);

  const backendOptions = {
    params: shared,
    train: trainSet,
    test: testSet,
    maxShardRows: config.shardRows,
    maxEvalRows: EVAL_ROWS,
    maxShift: config.augmentShift,
  };
  const backend: TrainingBackend =
    config.threads === 0
      ? new InProcessBackend(backendOptions)
      : new GradientPool({
          ...backendOptions,
          threads: config.threads,
          handOff: config.handOff ?? 'atomics',
          maxShards: Math.ceil(config.batchSize / config.shardRows),
          workerFile: options.workerFile,
        });
  try {
    const outcome = await runTrainingLoop({
      network,
      flat,
      backend,
      optimizer,
      rng,
      trainCount: trainSet.count,
      testCount: testSet.count,
      epochs: config.epochs,
      batchSize: config.batchSize,
      shardRows: config.shardRows,
      maxShift: config.augmentShift,
      evalRows: EVAL_ROWS,
      onEvent: options.onEvent,
      signal: options.signal,
    });
    return {
      network,
      layerSizes,
      initSchemes,
      history: outcome.history,
      finalTrainAccuracy: outcome.finalTrainAccuracy,
      finalTestAccuracy: outcome.finalTestAccuracy,
      steps: outcome.steps,
      trainSource: { ...train.source, used: trainSet.count },
      testSource: { ...test.source, used: testSet.count },
      trainSeconds: outcome.trainSeconds,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await backend.close();
  }
}

/** The first `limit` images of a set (views, no copy). */
function limitSet(set: ImageSet, limit: number | null): ImageSet {
  if (limit === null || limit >= set.count) return set;
  return {
    ...set,
    count: limit,
    pixels: set.pixels.subarray(0, limit * set.features),
    labels: set.labels.subarray(0, limit),
  };
}
