// Bring your own model, end to end through the real CLI on the 10,000 MNIST test images: the book's weights
// (../shared, read at test time, never copied) written by the tests' own spec-following writers as
//   (a) an ONNX Gemm graph (transB=1, fc1.weight (out, in)), (b) an ONNX MatMul + Add graph,
//   (c) a PyTorch zip checkpoint with fc1/fc2/fc3 names in (out, in) layout, and
//   (d) safetensors with nn.Sequential's 0.weight-style names in (out, in) layout
// all score exactly 0.9352, with predictions identical to the .pkl's.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnistCsvPath, prepareMnistCsv } from '../../src/data/mnist.js';
import { readModelFile, writeModelFile } from '../../src/nn/model-files/index.js';
import type { Tensor } from '../../src/nn/types.js';
import { runPipeline } from '../helpers/cli.js';
import { layersOf, onnxModel } from '../helpers/onnx-writer.js';
import { bookPickle, hasBookPickle } from '../helpers/paths.js';
import { torchStateDict, transposed } from '../helpers/torch-writer.js';

const maybe = hasBookPickle ? test.serial : test.skip;
const dir = mkdtempSync(join(tmpdir(), 'nnpipe-byo-'));
const prepared = hasBookPickle ? prepareMnistCsv('test') : Promise.resolve();

async function score(model: string, name: string) {
  await prepared;
  const predictions = join(dir, `${name}.predictions.csv`);
  const run = await runPipeline(
    ['--input', mnistCsvPath('test'), '--model', model, '--json', '--predictions', predictions, '--batch-size', '1000'],
    {
      timeoutMs: 180_000,
    },
  );
  return {
    run,
    predicted: readFileSync(predictions, 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => line.split(',')[3]),
  };
}

const reference = hasBookPickle ? score(bookPickle, 'pkl') : null;
const book = hasBookPickle ? readModelFile(bookPickle).then((file) => layersOf(file.tensors)) : null;

const writers: Record<
  string,
  {
    file: string;
    format: string;
    transposed: string[];
    write: (layers: { W: Tensor; b: Tensor }[]) => Promise<Buffer | void> | Buffer;
  }
> = {
  '(a) ONNX Gemm (transB=1)': {
    file: 'book-gemm.onnx',
    format: 'onnx',
    transposed: ['fc1.weight', 'fc2.weight', 'fc3.weight'],
    write: (layers) => onnxModel(layers, { shape: 'gemm', activation: 'Sigmoid', output: 'Softmax' }),
  },
  '(b) ONNX MatMul + Add': {
    file: 'book-matmul.onnx',
    format: 'onnx',
    transposed: [],
    write: (layers) => onnxModel(layers, { shape: 'matmul', activation: 'Sigmoid', output: 'Softmax' }),
  },
  '(c) PyTorch zip .pt, fc1/fc2/fc3 (out, in)': {
    file: 'book.pt',
    format: 'pt',
    transposed: ['fc1.weight', 'fc2.weight', 'fc3.weight'],
    write: (layers) =>
      torchStateDict(
        layers.flatMap(({ W, b }, k) => [
          { name: `fc${k + 1}.weight`, tensor: transposed(W) },
          { name: `fc${k + 1}.bias`, tensor: b },
        ]),
      ),
  },
  '(d) safetensors, 0.weight/2.weight/4.weight (out, in)': {
    file: 'book-sequential.safetensors',
    format: 'safetensors',
    transposed: ['0.weight', '2.weight', '4.weight'],
    write: async (layers) => {
      const tensors = new Map(
        layers.flatMap(
          ({ W, b }, k) =>
            [
              [`${2 * k}.weight`, transposed(W)],
              [`${2 * k}.bias`, b],
            ] as [string, Tensor][],
        ),
      );
      await writeModelFile(join(dir, 'book-sequential.safetensors'), tensors, {
        activation: 'sigmoid',
        output: 'softmax',
        normalize: 'unit',
      });
    },
  },
};

for (const [name, writer] of Object.entries(writers)) {
  maybe(`${name}: the book's weights score exactly 0.9352, predictions identical to the .pkl`, async (t) => {
    const path = join(dir, writer.file);
    const bytes = await writer.write(await book!);
    if (bytes) writeFileSync(path, bytes);
    const [{ run, predicted }, pkl] = await Promise.all([score(path, writer.file), reference!]);
    t.is(run.code, 0, run.stderr);
    t.is(pkl.run.code, 0, pkl.run.stderr);
    const report = JSON.parse(run.stdout);
    t.is(report.rows, 10000);
    t.is(report.correct, 9352);
    t.is(report.accuracy, 0.9352);
    t.is(report.model.format, writer.format);
    t.deepEqual(report.model.layerSizes, [784, 50, 100, 10]);
    t.deepEqual(report.model.transposed, writer.transposed);
    t.is(predicted.length, 10000);
    t.deepEqual(predicted, pkl.predicted);
  });
}
