// One random corruption in a valid file: under --on-error fail it is reported at its line; under skip
// that row alone is left out and listed, and no other prediction changes. Through the real pipeline
// (runInference on a warm pool), decoding on the main thread and in the workers.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInference } from '../../pipelines/inference.js';
import { ForwardPool } from '../../src/pool/forward-pool.js';
import { loadModel } from '../../src/nn/load-model.js';
import { fixture } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-corrupt-'));
const rows = readFileSync(fixture('mnist-test-100.csv'), 'utf8').trimEnd().split('\n');

const CORRUPTIONS = {
  'a field too many': (f: string[]) => [...f, '0'],
  'a field too few': (f: string[]) => f.slice(0, -1),
  'a non-integer': (f: string[], i: number) => with_(f, i, 'x7'),
  'a negative number': (f: string[], i: number) => with_(f, i, '-1'),
  '256': (f: string[], i: number) => with_(f, i, '256'),
  'a decimal point': (f: string[], i: number) => with_(f, i, '1.5'),
  'a stray quote (left open inside a field)': (f: string[], i: number) => with_(f, i, '12"'),
  'an empty field': (f: string[], i: number) => with_(f, i, ''),
  'a NUL byte': (f: string[], i: number) => with_(f, i, '1\u00002'),
  'a label of 10': (f: string[]) => ['10', ...f.slice(1)],
} as const;
type Corruption = keyof typeof CORRUPTIONS;

function with_(fields: string[], i: number, value: string): string[] {
  const copy = [...fields];
  copy[1 + (i % 784)] = value;
  return copy;
}

const context = (async () => {
  const model = await loadModel(await writeRandomModel(join(dir, 'net.safetensors'), [784, 24, 10], 5));
  const pool = new ForwardPool({ network: model.network, threads: 2, batchSize: 8, maxInFlight: 4 });
  return { model, pool };
})();
test.after.always(async () => (await context).pool.close());

async function score(input: string, onError: 'fail' | 'skip', decode: 'main' | 'workers') {
  const { model, pool } = await context;
  const predictions = new Map<number, string>();
  const outcome = await runInference({
    input,
    model,
    batchSize: 8,
    threads: 2,
    maxInFlight: 4,
    normalize: 'unit',
    limit: null,
    onError,
    decode,
    predictionsPath: null,
    config: {},
    pool,
    onBatch: (_batch, scored) => {
      for (let i = 0; i < scored.rows; i++)
        predictions.set(scored.lines[i], `${scored.predicted[i]}:${scored.confidence[i]}`);
    },
  });
  return { report: outcome.report, predictions };
}

const baseline = (async () => {
  const path = join(dir, 'clean.csv');
  writeFileSync(path, `${rows.join('\n')}\n`);
  return (await score(path, 'skip', 'main')).predictions;
})();

let case_ = 0;
for (const decode of ['main', 'workers'] as const) {
  test.serial(
    `one random corruption (--decode ${decode}): fail reports its line; skip leaves out that row alone`,
    async (t) => {
      const clean = await baseline;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: rows.length - 1 }),
          fc.constantFrom(...(Object.keys(CORRUPTIONS) as Corruption[])),
          fc.nat(),
          async (row, kind, field) => {
            // The first row fixes the file's field count (and so whether it has labels): a first row with a
            // field too many or too few changes how the whole file is read. That case has its own test below.
            if (row === 0 && kind.startsWith('a field too')) return;
            const lines = [...rows];
            lines[row] = CORRUPTIONS[kind](lines[row].split(','), field).join(',');
            const path = join(dir, `case-${case_++}.csv`);
            writeFileSync(path, `${lines.join('\n')}\n`);
            const line = row + 1;

            const failed = await score(path, 'fail', decode);
            t.is(failed.report.status, 'failed', kind);
            t.true(
              failed.report.error!.message.startsWith(`${path}:${line}: `),
              `${kind}: ${failed.report.error!.message}`,
            );

            const skipped = await score(path, 'skip', decode);
            if (kind === 'a NUL byte' && row === 0) {
              // NUL bytes in the first line mean the file is not text at all: a whole-input error.
              t.is(skipped.report.status, 'failed');
              t.regex(skipped.report.error!.message, /:1: does not look like a CSV text file/);
              return;
            }
            t.is(skipped.report.status, 'complete', kind);
            t.is(skipped.report.skipped, 1, kind);
            t.deepEqual(
              skipped.report.errors.map((e) => e.line),
              [line],
              kind,
            );
            t.is(skipped.report.rows, rows.length - 1);
            for (const [at, prediction] of clean) {
              if (at === line) t.false(skipped.predictions.has(at));
              else t.is(skipped.predictions.get(at), prediction, `${kind}: line ${at}`);
            }
          },
        ),
        { numRuns: 25 },
      );
    },
  );
}

test.serial(
  'a field that opens a quote and never closes it swallows the rest of the file: fatal even under skip, at its line',
  async (t) => {
    const lines = [...rows];
    lines[40] = lines[40].replace(',0,', ',"0,');
    const path = join(dir, 'open-quote.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    for (const decode of ['main', 'workers'] as const) {
      const { report } = await score(path, 'skip', decode);
      t.is(report.status, 'failed');
      t.regex(report.error!.message, new RegExp(`^${path.replace(/[.]/g, '\\.')}:41: `));
    }
  },
);

test.serial('a first row with a field too many or too few decides the layout: the file fails as a whole', async (t) => {
  for (const [kind, fail, skip] of [
    [
      'a field too many',
      /:1: the first row has 786 fields; expected 784 \(pixels only\) or 785/,
      /:1: the first row has 786 fields/,
    ],
    ['a field too few', /:2: expected 784 fields, found 785/, null],
  ] as const) {
    const lines = [...rows];
    lines[0] = (CORRUPTIONS[kind] as (f: string[], i: number) => string[])(lines[0].split(','), 0).join(',');
    const path = join(dir, `first-${kind.replace(/ /g, '-')}.csv`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    for (const decode of ['main', 'workers'] as const) {
      t.regex((await score(path, 'fail', decode)).report.error!.message, fail, `${kind}, fail, ${decode}`);
      const skipped = (await score(path, 'skip', decode)).report;
      if (skip) t.regex(skipped.error!.message, skip, `${kind}, skip, ${decode}`);
      else {
        // Read as unlabeled (784 fields): the first row is scored, the 99 labeled rows are bad rows.
        t.is(skipped.rows, 1);
        t.is(skipped.skipped, 99);
        t.is(skipped.accuracy, null);
      }
    }
  }
});

test.serial('a first row with a bad value is data with a bad row at line 1, never taken for a header', async (t) => {
  const clean = await baseline;
  for (const bad of ['x7', 'abc', 'NaN']) {
    const lines = [...rows];
    const fields = lines[0].split(',');
    fields[400] = bad;
    lines[0] = fields.join(',');
    const path = join(dir, `first-row-${bad}.csv`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    for (const decode of ['main', 'workers'] as const) {
      const failed = await score(path, 'fail', decode);
      t.is(failed.report.status, 'failed', `${bad} ${decode}`);
      t.true(failed.report.error!.message.startsWith(`${path}:1: `), failed.report.error!.message);
      const skipped = await score(path, 'skip', decode);
      t.deepEqual(
        skipped.report.errors.map((e) => e.line),
        [1],
      );
      t.is(skipped.report.rows, rows.length - 1);
      t.is(skipped.predictions.get(2), clean.get(2));
    }
  }
});
