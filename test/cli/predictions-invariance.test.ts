// Predictions must not depend on how the work is cut up: batch size, thread count and max-in-flight
// (CSV, and JSON Lines with the output vectors, which must also be byte for byte the same).
// The oracle is a plain single-threaded reference written here from scratch (split lines, x/255,
// naive loops), independent of the pipeline's parser, batcher, pool and kernels.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runPipeline } from '../helpers/cli.js';
import { randomTensors, writeRandomModel } from '../helpers/models.js';

const sizes = [784, 32, 24, 10];
const dir = mkdtempSync(join(tmpdir(), 'nnpipe-inv-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'), sizes, 7);
const input = fixture('mnist-test-100.csv');

/** The reference: float32 storage after every layer, as the pipeline's contract promises. */
function referencePredictions(csv: string): Array<{ predicted: number; confidence: number; probs: number[] }> {
  const tensors = randomTensors(sizes, 7);
  return csv
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      let a = line
        .split(',')
        .slice(1)
        .map((v) => Math.fround(Number(v) / 255));
      for (let k = 1; k < sizes.length; k++) {
        const W = tensors.get(`W${k}`)!.data;
        const b = tensors.get(`b${k}`)!.data;
        const out: number[] = [];
        for (let c = 0; c < sizes[k]; c++) {
          let sum = 0;
          for (let i = 0; i < sizes[k - 1]; i++) sum += a[i] * W[i * sizes[k] + c];
          out.push(Math.fround(sum + b[c]));
        }
        a = k < sizes.length - 1 ? out.map((v) => Math.fround(1 / (1 + Math.exp(-v)))) : out;
      }
      const max = Math.max(...a);
      const exps = a.map((v) => Math.exp(v - max));
      const total = exps.reduce((s, v) => s + v, 0);
      const probs = exps.map((v) => v / total);
      const predicted = probs.indexOf(Math.max(...probs));
      return { predicted, confidence: probs[predicted], probs };
    });
}

const reference = referencePredictions(readFileSync(input, 'utf8'));

/** The pipeline on the fixture with the test model, cut up as given, its predictions written to `out`. */
async function predict(
  cut: { batchSize: number; threads: number; maxInFlight: number },
  out: string,
  extra: string[] = [],
) {
  return runPipeline([
    '--input',
    input,
    '--model',
    await modelReady,
    '--quiet',
    ...extra,
    '--batch-size',
    String(cut.batchSize),
    '--threads',
    String(cut.threads),
    '--max-in-flight',
    String(cut.maxInFlight),
    '--predictions',
    out,
  ]);
}

for (const [batchSize, threads, maxInFlight] of [
  [1, 1, 1],
  [1, 2, 8],
  [7, 2, 1],
  [32, 1, 3],
  [100, 2, 2],
  [1000, 2, 4],
] as const) {
  test(`batch ${batchSize}, threads ${threads}, in flight ${maxInFlight}: same predictions as the reference`, async (t) => {
    const out = join(dir, `pred-${batchSize}-${threads}-${maxInFlight}.csv`);
    const run = await predict({ batchSize, threads, maxInFlight }, out);
    t.is(run.code, 0, run.stderr);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    t.is(rows[0], 'line,row,label,predicted,confidence');
    t.is(rows.length, 101);
    rows.slice(1).forEach((text, i) => {
      const [line, row, label, predicted, confidence] = text.split(',');
      t.is(Number(line), i + 1);
      t.is(Number(row), i);
      t.regex(label, /^[0-9]$/);
      t.is(Number(predicted), reference[i].predicted, `row ${i + 1}`);
      t.true(Math.abs(Number(confidence) - reference[i].confidence) < 1e-6, `row ${i + 1} confidence`);
    });
  });
}

/** JSON Lines with probabilities from every configuration (the main thread too): one file, byte for byte. */
const jsonlRuns = new Map<string, string>();
for (const [batchSize, threads, maxInFlight] of [
  [1, 0, 1],
  [7, 2, 1],
  [1000, 2, 4],
] as const) {
  test.serial(
    `JSON Lines with --probabilities, batch ${batchSize}, threads ${threads}: the reference's vectors, the same ` +
      `bytes every time`,
    async (t) => {
      const out = join(dir, `pred-${batchSize}-${threads}.jsonl`);
      const run = await predict({ batchSize, threads, maxInFlight }, out, ['--probabilities']);
      t.is(run.code, 0, run.stderr);
      const text = readFileSync(out, 'utf8');
      const rows = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { line: number; row: number; predicted: number; probabilities: number[] });
      t.is(rows.length, 100);
      rows.forEach((row, i) => {
        t.deepEqual([row.line, row.row, row.predicted], [i + 1, i, reference[i].predicted]);
        t.true(
          row.probabilities.every((p, c) => Math.abs(p - reference[i].probs[c]) < 1e-6),
          `row ${i} probabilities`,
        );
      });
      for (const [other, bytes] of jsonlRuns) t.is(text, bytes, `the same bytes as ${other}`);
      jsonlRuns.set(`batch ${batchSize}, threads ${threads}`, text);
    },
  );
}
