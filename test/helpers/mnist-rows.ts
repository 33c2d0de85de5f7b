// A large real input for the scale-out tests: the MNIST test set (prepared on first use) repeated into one
// CSV of `rows` rows, in a folder of the caller's.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { prepareMnistCsv } from '../../src/data/mnist.js';

export async function writeMnistRows(dir: string, rows: number, name = `mnist-${rows}.csv`): Promise<string> {
  const lines = (await readFile((await prepareMnistCsv('test')).path, 'utf8'))
    .split('\n')
    .filter((line) => line.length > 0);
  const path = join(dir, name);
  const out = createWriteStream(path);
  for (let written = 0; written < rows; ) {
    const take = Math.min(lines.length, rows - written);
    if (!out.write(`${lines.slice(0, take).join('\n')}\n`)) await once(out, 'drain');
    written += take;
  }
  out.end();
  await once(out, 'finish');
  return path;
}
