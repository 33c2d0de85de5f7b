// Merging shard reports (src/stats/merge.ts): a property test that any cut of a stream of batches, scored
// as shards and merged, counts exactly what one run over the whole stream counts (rows, correct, confusion
// matrix, skipped rows, the first errors with absolute lines); and every refusal. (Batches and so latency
// samples differ with the cut; that histograms merge exactly is test/stats/latency.test.ts's.)
import test from 'ava';
import fc from 'fast-check';
import { buildReport, type PipelineReport, type ReportContext } from '../../src/stats/report.js';
import type { CountingOptions, ShardSpan } from '../../src/stats/partial.js';
import { checkShardSet, mergeShardReports, MergeError, type NamedReport } from '../../src/stats/merge.js';
import { RunStats } from '../../src/stats/run-stats.js';

const CLASSES = 4;
const options: CountingOptions = {
  batchSize: 3,
  normalize: 'unit',
  activation: 'sigmoid',
  output: 'softmax',
  onError: 'skip',
  kernel: 'auto',
};

/** One input line: a good row (label, prediction) or a bad one. */
type Line = { good: true; label: number; predicted: number; latency: number } | { good: false };

const lineArb: fc.Arbitrary<Line> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      good: fc.constant(true as const),
      label: fc.integer({ min: -1, max: CLASSES - 1 }),
      predicted: fc.integer({ min: 0, max: CLASSES - 1 }),
      latency: fc.double({ min: 0, max: 50, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ good: false as const }) },
);

/** Scores `lines` (numbered from 1) as a run would: batches of good rows, errors for bad ones. */
function score(lines: Line[], maxErrors: number): RunStats {
  const stats = new RunStats({ classes: CLASSES, maxErrors, now: () => 0 });
  stats.start();
  let batch: { label: number; predicted: number; latency: number }[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    stats.recordBatch({
      rows: batch.length,
      labels: Int16Array.from(batch.map((r) => r.label)),
      predicted: Int32Array.from(batch.map((r) => r.predicted)),
      confidence: new Float32Array(batch.length),
      latencyMs: batch[0].latency,
      computeMs: batch[0].latency / 2,
    });
    batch = [];
  };
  lines.forEach((line, i) => {
    if (!line.good) stats.recordRowError({ line: i + 1, message: 'bad row' });
    else batch.push(line);
    if (batch.length === options.batchSize) flush();
  });
  flush();
  stats.finish();
  return stats;
}

function context(span: ShardSpan | null, lines: number, overrides: Partial<ReportContext> = {}): ReportContext {
  return {
    status: 'complete',
    model: {
      path: 'm.safetensors',
      format: 'safetensors',
      kernel: 'wasm',
      sha256: 'ab'.repeat(32),
      layerSizes: [2, CLASSES],
      activation: 'sigmoid',
      output: 'softmax',
    },
    input: { path: '/data/in.csv', bytes: 1000, hasHeader: false, labeled: true, parser: 'fast' },
    config: {},
    startedAt: new Date(1_000 + (span?.index ?? 0)),
    finishedAt: new Date(2_000 + (span?.index ?? 0)),
    partial: {
      shard: span,
      input: { path: '/data/in.csv', bytes: 1000, mtimeMs: 5 },
      options,
      lines,
      predictions: null,
    },
    ...overrides,
  };
}

/** Cuts `lines` at `cuts` (sorted line indices) into shard reports, each numbering its lines from 1. */
function shardReports(lines: Line[], cuts: number[], maxErrors: number): NamedReport[] {
  const bounds = [0, ...cuts, lines.length];
  const n = bounds.length - 1;
  return Array.from({ length: n }, (_, k) => {
    const part = lines.slice(bounds[k], bounds[k + 1]);
    // Raw byte ranges: any tiling of 0..1000 will do for the merge.
    const span = {
      index: k + 1,
      count: n,
      byteStart: Math.floor((k * 1000) / n),
      byteEnd: Math.floor(((k + 1) * 1000) / n),
    };
    return {
      name: `shard-${k + 1}.json`,
      report: JSON.parse(
        JSON.stringify(buildReport(score(part, maxErrors), context(span, part.length))),
      ) as PipelineReport,
    };
  });
}

test('property: merged shards count exactly what one run over the whole input counts', (t) => {
  fc.assert(
    fc.property(
      fc.array(lineArb, { minLength: 1, maxLength: 120 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.integer({ min: 0, max: 5 }),
      fc.boolean(),
      (lines, rawCuts, maxErrors, shuffle) => {
        const cuts = [...new Set(rawCuts.map((c) => c % (lines.length + 1)))].sort((a, b) => a - b);
        const whole = buildReport(score(lines, maxErrors), context(null, lines.length));
        if (whole.rows === 0) return true; // one run fails then; checked below
        const reports = shardReports(lines, cuts, maxErrors);
        if (shuffle) reports.reverse();
        const merged = mergeShardReports(checkShardSet(reports), { config: {}, maxErrors });
        const pick = (r: PipelineReport) => ({
          status: r.status,
          rows: r.rows,
          labeled: r.labeled,
          correct: r.correct,
          skipped: r.skipped,
          errors: r.errors,
          errorsTruncated: r.errorsTruncated,
          batches: r.batches,
          confusionMatrix: r.confusionMatrix,
          perClass: r.perClass,
          accuracy: r.accuracy,
          lines: r.partial?.lines,
        });
        t.deepEqual(pick(merged), { ...pick(whole), batches: merged.batches });
        return true;
      },
    ),
    { numRuns: 150 },
  );
});

test('a shard whose run failed on a bad row: the merged run stops there, its line made absolute', (t) => {
  const lines: Line[] = Array.from({ length: 9 }, (_, i) => ({
    good: true,
    label: i % CLASSES,
    predicted: i % CLASSES,
    latency: 1,
  }));
  const reports = shardReports(lines, [3, 6], 100);
  const failed = buildReport(score(lines.slice(3, 5), 100), {
    ...context({ index: 2, count: 3, byteStart: 333, byteEnd: 666 }, 0),
    status: 'failed',
    error: {
      code: 'PIPE_ERR_DATA',
      message: '/data/in.csv [shard 2/3]:3: label 12 is not a class',
      line: 3,
      problem: 'label 12 is not a class',
    },
  });
  failed.partial!.lines = null;
  reports[1] = { name: 'shard-2.json', report: failed };
  const set = checkShardSet(reports);
  const merged = mergeShardReports(set, { config: {} });
  t.is(merged.status, 'failed');
  t.deepEqual(merged.error, { code: 'PIPE_ERR_DATA', message: '/data/in.csv:6: label 12 is not a class' });
  t.is(merged.rows, 5, 'shard 1 and the failed shard rows before its failure; shard 3 left out');
  t.deepEqual(
    merged.shards!.map((s) => [s.index, s.firstLine, s.lastLine, s.status]),
    [
      [1, 1, 3, 'complete'],
      [2, null, null, 'failed'],
      [3, null, null, 'complete'],
    ],
  );
});

test('no good row in any shard: the merged run fails as one run would', (t) => {
  const lines: Line[] = [{ good: false }, { good: false }, { good: false }];
  const merged = mergeShardReports(checkShardSet(shardReports(lines, [1], 100)), { config: {} });
  t.is(merged.status, 'failed');
  t.regex(merged.error!.message, /no valid rows: all 3 data rows are bad/);
});

const lines: Line[] = Array.from({ length: 12 }, (_, i) => ({
  good: true,
  label: i % CLASSES,
  predicted: 0,
  latency: 2,
}));

test('refused: a missing shard, a duplicate, shards of another cut', (t) => {
  const reports = shardReports(lines, [4, 8], 100);
  t.throws(() => checkShardSet([reports[0], reports[2]]), {
    instanceOf: MergeError,
    message: 'shard 2 of 3 is missing',
  });
  t.throws(() => checkShardSet([reports[0]]), { message: 'shards 2 and 3 of 3 are missing' });
  t.throws(() => checkShardSet([...reports, { ...reports[1], name: 'again.json' }]), {
    message: 'shard 2/3 is given twice: shard-2.json and again.json',
  });
  const other = shardReports(lines, [6], 100);
  t.throws(() => checkShardSet([reports[0], reports[1], other[1]]), {
    message: /shard-2\.json is shard 2\/2, shard-1\.json is shard 1\/3: they come from different cuts/,
  });
  t.throws(() => checkShardSet([]), { message: 'no shard reports to merge' });
  t.is(new MergeError('x').exitCode, 2);
});

test('refused: another input, input file, model or option; no partial block', (t) => {
  const reports = shardReports(lines, [6], 100);
  const edit = (change: (r: PipelineReport) => void): NamedReport[] => {
    const copy = JSON.parse(JSON.stringify(reports[1].report)) as PipelineReport;
    change(copy);
    return [reports[0], { name: 'b.json', report: copy }];
  };
  t.throws(() => checkShardSet(edit((r) => (r.partial!.input.path = '/data/other.csv'))), {
    message:
      /b\.json and shard-1\.json are not shards of one run: the input differs \("\/data\/other\.csv" and "\/data\/in\.csv"\)/,
  });
  t.throws(() => checkShardSet(edit((r) => (r.partial!.input.mtimeMs = 6))), {
    message: /the input file \(size and modification time\) differs/,
  });
  t.throws(() => checkShardSet(edit((r) => (r.partial!.model.sha256 = 'cd'.repeat(32)))), {
    message: /the model's sha256 differs/,
  });
  t.throws(() => checkShardSet(edit((r) => (r.partial!.options.normalize = 'none'))), {
    message: /the option normalize differs \("none" and "unit"\)/,
  });
  t.throws(() => checkShardSet(edit((r) => (r.partial!.shard!.byteStart = 400))), {
    message: /b\.json: shard 2\/2 starts at byte 400, expected 500/,
  });
  t.throws(() => checkShardSet(edit((r) => delete r.partial)), {
    message: /b\.json: cannot be merged: it has no `partial` block/,
  });
  t.throws(() => checkShardSet(edit((r) => ((r.partial!.stats as { rows: unknown }).rows = -1))), {
    message: /b\.json: cannot be merged: its partial block is not valid: partial\.stats\.rows/,
  });
});

test('a whole-input report merges into itself', (t) => {
  const whole = buildReport(score(lines, 100), context(null, lines.length));
  const merged = mergeShardReports(checkShardSet([{ name: 'whole.json', report: whole }]), { config: {} });
  t.deepEqual(
    [merged.rows, merged.correct, merged.confusionMatrix, merged.batchLatencyMs],
    [whole.rows, whole.correct, whole.confusionMatrix, whole.batchLatencyMs],
  );
  t.is(merged.durationMs, 1000);
});
