// The prepared MNIST CSVs (data/mnist_*.csv), prepared on import: on a fresh clone no other test may have
// written them yet. A helper module, since ava wants a test file's tests declared before any await.
import { prepareMnistCsv } from '../../src/data/mnist.js';

export const mnistTestCsv = (await prepareMnistCsv('test')).path;
export const mnistTrainCsv = (await prepareMnistCsv('train')).path;
