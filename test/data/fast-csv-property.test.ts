// Differential property test: on generated edge cases, the fast path (parser 'fast', and 'auto')
// reports exactly what the csv-parse path reports: the same batches (rows, x bytes, labels, lines),
// the same onRowError calls in the same order, the same layout, and the same thrown error (class,
// code, message, file, line). Inputs: valid files of every accepted shape (header or not, label first,
// elsewhere or absent, LF/CRLF/mixed, BOM, blank lines anywhere, no final newline, quoted and
// zero-padded values) with random corruption injected (field counts, bad values, NUL, non-UTF-8,
// labels out of range, quotes of every kind including unclosed and multi-line, bare '\r', over-long
// lines), fed from a file, from a stdin stream with every chunk ready at once, or from a stdin stream
// that trickles one chunk per event-loop turn, cut at random points; random batch sizes, limits,
// record-size bounds, onError fail and skip.
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizationTable } from '../../src/data/normalize.js';
import { CORRUPTIONS, feedingArbitrary, render, specArbitrary, type FeedingChoice } from './csv-spec.js';
import { everyN, runSource, type Feeding, type RunOptions } from './fast-csv-harness.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nnpipe-fastcsv-'));
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

const property = (parsers: Array<'fast' | 'auto'>) =>
  fc.asyncProperty(
    specArbitrary(CORRUPTIONS).chain((spec) => {
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
      for (const parser of parsers) {
        const fast = await runSource(parser, feeding, options);
        const { table, ...shown } = options;
        const repro = JSON.stringify({ parser, bytes: [...bytes], feeding: feedingChoice, options: { ...shown, normalize: run.normalize } });
        deepStrictEqual({ ...fast, parser: null }, { ...oracle, parser: null }, `parser ${parser}; to reproduce: ${repro}`);
      }
    },
  );

test('fast and auto report exactly what csv-parse reports, on generated edge cases', async (t) => {
  await fc.assert(property(['fast', 'auto']), { numRuns: Number(process.env.FASTCSV_RUNS ?? 1500), includeErrorInReport: true });
  t.pass();
});
