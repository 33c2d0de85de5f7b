// Decoding in the workers (fast-csv/line-batches.ts: the main thread cuts LineBatches, each worker runs
// decodeBlock) against decoding on the main thread (the fast path, itself exact against csv-parse):
// the same good rows (x bytes, labels, lines), the same row errors in the same order, the same layout,
// the same whole-input errors (class, code, file, line, message); under onError 'fail' the same batches
// too (and `limit`). Two documented differences: under 'skip' a batch holding bad rows is short (so
// batch boundaries differ), and `limit` under 'skip' is refused (the pipeline decodes on the main
// thread then). A quoted field that runs across a line end makes the workers path fail with a clear
// DataError, never give different rows.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizationTable } from '../../src/data/normalize.js';
import { everyN } from './fast-csv-harness.js';
import {
  assertAgree,
  CORRUPTIONS,
  feedingArbitrary,
  render,
  runPlaced,
  SPANNING,
  specArbitrary,
  type Feeding,
  type FeedingChoice,
  type RunOptions,
} from './line-batches-harness.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-lines-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

let counter = 0;
async function feedingFor(bytes: Buffer, choice: FeedingChoice): Promise<Feeding> {
  if (choice === 'file') {
    const path = join(dir, `input-${++counter}.csv`);
    await writeFile(path, bytes);
    return { kind: 'file', path };
  }
  return { kind: choice.kind, bytes, cuts: choice.cuts ?? everyN(bytes.length, choice.every ?? 1) };
}

const optionsFor = (spec: { features: number; classes: number; maxRecordBytes: number | undefined }, run: { onError: 'fail' | 'skip'; limit: number | undefined; batchSize: number; normalize: 'unit' | 'none' }): RunOptions => ({
  features: spec.features,
  classes: spec.classes,
  onError: run.onError,
  // `limit` under 'skip' is not for this path.
  limit: run.onError === 'fail' ? run.limit : undefined,
  maxRecordBytes: spec.maxRecordBytes,
  batchSize: run.batchSize,
  table: normalizationTable(run.normalize),
});

const reproOf = (bytes: Buffer, feeding: FeedingChoice, options: RunOptions, normalize: string) => {
  const { table, ...shown } = options;
  return JSON.stringify({ bytes: bytes.toString('latin1'), feeding, options: { ...shown, normalize } });
};

const runArbitrary = fc.record({
  batchSize: fc.integer({ min: 1, max: 5 }),
  onError: fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
  limit: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  normalize: fc.constantFrom<'unit' | 'none'>('unit', 'none'),
  auto: fc.boolean(),
});

const generated = (corruptions: readonly (typeof CORRUPTIONS)[number][]) =>
  specArbitrary(corruptions).chain((spec) => {
    const bytes = render(spec);
    return fc.tuple(fc.constant(spec), fc.constant(bytes), feedingArbitrary(bytes.length), runArbitrary);
  });

const QUOTED_SPAN = /a quoted field runs across a line end/;

test('workers report what main reports, on generated inputs whose quotes stay within a line', async (t) => {
  const corruptions = CORRUPTIONS.filter((c) => !SPANNING.includes(c));
  await fc.assert(
    fc.asyncProperty(generated(corruptions), async ([spec, bytes, feedingChoice, run]) => {
      const options = optionsFor(spec, run);
      const feeding = await feedingFor(bytes, feedingChoice);
      const main = await runPlaced('main', feeding, options);
      const repro = reproOf(bytes, feedingChoice, options, run.normalize);
      assertAgree(await runPlaced('workers', feeding, options), main, options, repro);
      // `auto` hands the input it opened (and its first chunk) over to this path, or to csv-parse.
      if (run.auto) assertAgree(await runPlaced('workers', feeding, options, { parser: 'auto' }), main, options, `auto: ${repro}`);
    }),
    { numRuns: Number(process.env.LINES_RUNS ?? 1500), includeErrorInReport: true },
  );
  t.pass();
});

test('a quoted field across a line end: the workers path fails with a clear DataError, or agrees', async (t) => {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(generated(CORRUPTIONS), async ([spec, bytes, feedingChoice, run]) => {
      const options = optionsFor(spec, run);
      const feeding = await feedingFor(bytes, feedingChoice);
      const main = await runPlaced('main', feeding, options);
      const workers = await runPlaced('workers', feeding, options);
      const repro = reproOf(bytes, feedingChoice, options, run.normalize);
      deepStrictEqual(workers.defects, [], repro);
      // Main met a record that runs across a line end (its row error, or csv-parse's error for it).
      const spans = /quoted field contains a line break|unclosed quote|record is longer than the limit/;
      const mainSpans = main.rowErrors.some((e) => spans.test(e.message)) || (main.error !== null && spans.test(main.error.message));
      if (QUOTED_SPAN.test(workers.error?.message ?? '') || (mainSpans && workers.error !== null)) {
        refused++;
        // A clear failure, never different rows: what each gave is the start of what the other gave
        // (main may stop earlier: csv-parse's error for an unclosed quote wins over what came before).
        ok(workers.error!.name === 'DataError' && workers.error!.code === 'PIPE_ERR_DATA', repro);
        // (Or main failed further on, e.g. on an over-long line inside that record, before it ended.)
        const line = workers.error!.line as number;
        ok(mainSpans || (main.error !== null && (main.error.line as number) >= line), `main met no multi-line record: ${repro}`);
        const prefixes = (a: unknown[], b: unknown[], what: string) => {
          const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
          deepStrictEqual(shorter, longer.slice(0, shorter.length), `${what}: ${repro}`);
        };
        prefixes(workers.rows as unknown[], main.rows as unknown[], 'rows');
        prefixes(workers.rowErrors, main.rowErrors, 'row errors');
        return;
      }
      assertAgree(workers, main, options, repro);
    }),
    { numRuns: Number(process.env.LINES_RUNS ?? 1000), includeErrorInReport: true },
  );
  t.log(`refused ${refused} inputs`);
  t.pass();
});
