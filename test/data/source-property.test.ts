// Differential property test: on generated edge cases, the framer (parser 'fast', and 'auto') reports
// what the csv-parse path reports (see agreement() in source-harness.ts): the same batches (rows, x
// bytes, labels, lines), row errors and layout when csv-parse completes; the same error, and at least
// what csv-parse delivered before it, when it fails. Inputs: valid files of every accepted shape (header
// or not, label first, elsewhere or absent, LF/CRLF/mixed, BOM, blank lines anywhere, no final newline,
// quoted and zero-padded values) with random corruption injected (field counts, bad values, NUL,
// non-UTF-8, labels out of range, quotes, bare '\r', over-long lines), fed from a file, from a stdin
// stream with every chunk ready at once, or one that trickles a chunk per event-loop turn, cut at random
// points; random batch sizes, limits, record-size bounds, onError fail and skip.
//
// A quoted field that runs on past its line end is left out here: the framer reads a record per line and
// refuses such a record (its own test below); csv-parse reads it.
import test from 'ava';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteRunsPastLine } from '../../src/data/messages.js';
import { normalizationTable } from '../../src/data/normalize.js';
import { CORRUPTIONS, feedingArbitrary, render, specArbitrary, SPANNING, type FeedingChoice } from './csv-spec.js';
import { agreement, everyN, runSource, type Feeding, type RunOptions } from './source-harness.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-source-property-'));
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

const runArbitrary = fc.record({
  batchSize: fc.integer({ min: 1, max: 5 }),
  onError: fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
  limit: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  normalize: fc.constantFrom<'unit' | 'none'>('unit', 'none'),
});

let fileCounter = 0;

async function feedingFor(bytes: Buffer, choice: FeedingChoice): Promise<Feeding> {
  if (choice === 'file') {
    const path = join(dir, `input-${++fileCounter}.csv`);
    await writeFile(path, bytes);
    return { kind: 'file', path };
  }
  return { kind: choice.kind, bytes, cuts: choice.cuts ?? everyN(bytes.length, choice.every ?? 1) };
}

const lineable = CORRUPTIONS.filter((kind) => !SPANNING.includes(kind));

test('fast and auto report what csv-parse reports, on generated edge cases', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      specArbitrary(lineable).chain((spec) => {
        const bytes = render(spec);
        return fc.tuple(fc.constant(spec), fc.constant(bytes), feedingArbitrary(bytes.length), runArbitrary);
      }),
      async ([spec, bytes, feedingChoice, run]) => {
        const options: RunOptions = {
          features: spec.features,
          classes: spec.classes,
          onError: run.onError,
          limit: run.limit,
          maxRecordBytes: spec.maxRecordBytes,
          batchSize: run.batchSize,
          table: normalizationTable(run.normalize),
        };
        // The same file for every parser (its name is in messages); streams are made afresh per run.
        const feeding = await feedingFor(bytes, feedingChoice);
        const oracle = await runSource('csv-parse', feeding, options);
        for (const parser of ['fast', 'auto'] as const) {
          const fast = await runSource(parser, feeding, options);
          const disagreement = agreement(fast, oracle, options.limit);
          if (disagreement !== null) {
            const { table, ...shown } = options;
            const repro = JSON.stringify({
              parser,
              bytes: [...bytes],
              feeding: feedingChoice,
              options: { ...shown, normalize: run.normalize },
            });
            throw new Error(`${disagreement}\nto reproduce: ${repro}`);
          }
        }
      },
    ),
    { numRuns: Number(process.env.SOURCE_RUNS ?? 1500), includeErrorInReport: true },
  );
  t.pass();
});

test('a quoted field over two lines in the data: the framer stops at its line, naming --parser csv-parse', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      specArbitrary(SPANNING),
      fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
      async (spec, onError) => {
        const bytes = render(spec);
        const path = join(dir, `spanning-${++fileCounter}.csv`);
        await writeFile(path, bytes);
        const options: RunOptions = {
          features: spec.features,
          classes: spec.classes,
          onError,
          maxRecordBytes: spec.maxRecordBytes,
          batchSize: 2,
          table: normalizationTable('unit'),
        };
        const fast = await runSource('fast', { kind: 'file', path }, options);
        const oracle = await runSource('csv-parse', { kind: 'file', path }, options);
        if (fast.error?.message.endsWith(quoteRunsPastLine)) {
          // csv-parse reads on from that line: a bad row there, or an unclosed quote; nothing before it differs.
          const line = fast.error.line as number;
          const atLine = oracle.rowErrors.some((e) => e.line === line) || oracle.error?.line === line;
          t.true(
            atLine || (oracle.error !== null && (oracle.error.line as number) < line),
            `csv-parse at line ${line}: ${JSON.stringify(oracle)}`,
          );
          const before = oracle.rowErrors.filter((e) => e.line < line);
          t.deepEqual(fast.rowErrors, before.slice(0, fast.rowErrors.length));
        } else {
          t.is(agreement(fast, oracle), null);
        }
      },
    ),
    { numRuns: 300 },
  );
});
