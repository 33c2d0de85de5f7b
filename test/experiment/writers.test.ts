// The writers on a small real run: the real pipeline measured in child processes (the 100-row fixture, a
// tiny grid, a random model), then the JSON document, the CSV, the terminal table and the HTML page checked
// for content; the page is self-contained (no external reference, CSP, Chart.js inlined once).
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment, type ExperimentOutcome } from '../../pipelines/experiment.js';
import { chartJsLibrary } from '../../src/html/chart-library.js';
import { loadModel } from '../../src/nn/load-model.js';
import { CSV_HEADER } from '../../src/experiment/csv.js';
import {
  buildExperimentDocument,
  type DocumentContext,
  type ExperimentDocument,
} from '../../src/experiment/document.js';
import { expandGrid, type GridSpec } from '../../src/experiment/grid.js';
import { formatExperimentTable } from '../../src/experiment/table.js';
import { writeExperimentOutputs, type WrittenOutputs } from '../../src/experiment/write.js';
import { writeRandomModel } from '../helpers/models.js';
import { fixture } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-experiment-writers-'));
const input = fixture('mnist-test-100.csv');
const grid: GridSpec = {
  batchSizes: [1, 10, 100],
  threads: [1, 2],
  maxInFlight: [{ kind: 'perThread', factor: 2, text: '2x' }],
  pool: 'warm',
  freshProbe: 'auto',
};

interface Run {
  outcome: ExperimentOutcome;
  doc: ExperimentDocument;
  written: WrittenOutputs;
}

let run: Promise<Run> | null = null;
/** One real run shared by the tests of this file. */
function realRun(): Promise<Run> {
  run ??= (async () => {
    const modelPath = await writeRandomModel(join(dir, 'tiny.safetensors'));
    const model = await loadModel(modelPath);
    const configurations = expandGrid(grid);
    const outcome = await runExperiment({ configurations, input, model: modelPath, minSamples: 2, maxTimeS: 0.05 });
    const context: DocumentContext = {
      grid,
      input: { path: input, bytes: 1 },
      model,
      normalize: 'unit',
      out: join(dir, 'out'),
      minSamples: 2,
      maxTimeS: 0.05,
      configurations: configurations.length,
    };
    const doc = buildExperimentDocument(outcome, context);
    const written = await writeExperimentOutputs(join(dir, 'out'), doc);
    return { outcome, doc, written };
  })();
  return run;
}

test('a tiny real run: every configuration measured, accuracy identical, figures present and plausible', async (t) => {
  const { outcome, doc } = await realRun();
  t.is(outcome.status, 'complete', outcome.error?.message);
  t.is(doc.results.length, 8, '3 batch sizes x 2 thread counts + 2 fresh probes');
  t.false(doc.partial);
  for (const r of doc.results) {
    t.is(r.rows, 100);
    t.is(r.accuracy, doc.summary.accuracy);
    t.true(r.samples >= 2, `#${r.config.id} samples`);
    // One pass per sample unless a pass is shorter than benchmark.js's minTime (5 ms), as a 100-row pass
    // can be: then several per sample, and benchmark.js may change that count from one cycle to the next
    // (the final `count` is only the last cycle's).
    t.true(r.benchmark.count >= 1);
    t.true(r.passes >= r.samples + r.benchmark.count - 1);
    t.is(r.passDetails.length, r.passes);
    t.true(r.imagesPerSecond.mean > 0);
    t.true(r.imagesPerSecond.rme !== null && r.imagesPerSecond.rme >= 0);
    t.true(r.batchLatencyMs.p99 >= r.batchLatencyMs.p50);
    t.true(r.peakRssBytes >= r.baselineRssBytes && r.baselineRssBytes > 10 * 2 ** 20);
    t.true(r.warmup !== null && r.warmup.rows === 100);
    t.is(r.config.pool === 'fresh', r.config.probe);
    // The per-pass batch count shows the batch size really was used.
    for (const p of r.passDetails) t.is(p.batches, Math.ceil(100 / r.config.batchSize));
  }
  const ids = (flag: 'bestThroughput' | 'bestP99') => doc.results.filter((r) => r[flag]).map((r) => r.config.id);
  t.is(ids('bestThroughput').length, 1);
  t.is(ids('bestP99').length, 1);
  t.deepEqual(doc.summary.bestThroughput, { warm: ids('bestThroughput')[0] });
  t.deepEqual(doc.summary.bestP99, { warm: ids('bestP99')[0] });
});

test(
  'JSON: every number, the machine (CPU, cores, Node, load average at start and end), the options, the method, ' +
    'warm/fresh labels',
  async (t) => {
    const { doc, written } = await realRun();
    const json = JSON.parse(readFileSync(written.json, 'utf8'));
    t.deepEqual(json, JSON.parse(JSON.stringify(doc)));
    t.is(json.kind, 'nnpipe-experiment');
    t.is(json.status, 'complete');
    t.false(json.partial);
    t.like(json.machine, { node: process.version });
    t.true(typeof json.machine.cpuModel === 'string' && json.machine.cpuModel.length > 0);
    t.true(json.machine.cores >= 1);
    t.is(json.machine.loadAverageStart.length, 3);
    t.is(json.machine.loadAverageEnd.length, 3);
    t.like(json.options, {
      batchSizes: [1, 10, 100],
      threads: [1, 2],
      maxInFlight: ['2x'],
      pool: 'warm',
      freshProbe: 'auto',
      minSamples: 2,
      maxTimeS: 0.05,
    });
    t.regex(json.method.pools.warm, /^warm: /);
    t.regex(json.method.pools.fresh, /^fresh: /);
    t.regex(json.method.rss, /child process of its own/);
    t.regex(json.method.engine, /^benchmark\.js 2\.1\.4: one deferred benchmark per configuration/);
    const first = json.results[0];
    for (const key of ['mean', 'deviation', 'sem', 'moe', 'rme', 'sample', 'count', 'cycles', 'elapsed'])
      t.true(key in first.benchmark, key);
    for (const key of [
      'imagesPerSecond',
      'batchLatencyMs',
      'perImageLatencyMs',
      'peakRssBytes',
      'accuracy',
      'speedup',
      'speedupBaseline',
      'bestThroughput',
      'bestP99',
      'passDetails',
      'timeToFirstResultMs',
    ]) {
      t.true(key in first, key);
    }
    t.is(first.config.pool, 'warm');
    t.deepEqual(json.notMeasured, []);
  },
);

test('CSV: a header and one row per configuration, with the pool mode and the experiment status on every row', async (t) => {
  const { doc, written } = await realRun();
  const lines = readFileSync(written.csv, 'utf8').trimEnd().split('\n');
  t.is(lines[0], CSV_HEADER.join(','));
  t.is(lines.length, 1 + doc.results.length);
  const col = (name: string) => CSV_HEADER.indexOf(name);
  const rows = lines.slice(1).map((l) => l.split(','));
  for (const [i, row] of rows.entries()) {
    const r = doc.results[i];
    t.is(row.length, CSV_HEADER.length);
    t.is(row[col('id')], String(r.config.id));
    t.is(row[col('pool')], r.config.pool);
    t.is(row[col('fresh_probe')], String(r.config.probe));
    t.is(Number(row[col('batch_size')]), r.config.batchSize);
    t.is(Number(row[col('images_per_second_mean')]), r.imagesPerSecond.mean);
    t.is(Number(row[col('batch_latency_p99_ms')]), r.batchLatencyMs.p99);
    t.is(Number(row[col('peak_rss_bytes')]), r.peakRssBytes);
    t.is(row[col('accuracy')], String(r.accuracy));
    t.is(row[col('experiment_status')], 'complete');
    t.is(row[col('experiment_partial')], 'false');
  }
  t.deepEqual(
    rows.map((r) => r[col('speedup')] === ''),
    doc.results.map((r) => r.speedup === null),
  );
  t.deepEqual(
    rows.map((r) => r[col('speedup_baseline_batch_size')]),
    doc.results.map((r) => (r.speedup === null ? '' : '1')),
  );
});

test('terminal table: every configuration, ± margins, speed-ups, the best marks, the warm/fresh and RSS notes', async (t) => {
  const { doc } = await realRun();
  const text = formatExperimentTable(doc);
  t.regex(text, /^experiment complete: 8 of 8 configurations measured in [\d.]+ s$/m);
  t.regex(text, /accuracy [\d.]+% in every pass/);
  t.regex(text, /load average [\d. ]+ at start, [\d. ]+ at end/);
  const header = text.split('\n').find((l) => l.startsWith(' #') || l.startsWith('#'))!;
  for (const head of [
    'pool',
    'batch',
    'threads',
    'in flight',
    'images/s',
    '±rme',
    'p50 ms',
    'p99 ms',
    'ms/image',
    'RSS MiB',
    'vs batch 1',
    'best',
  ])
    t.true(header.includes(head), head);
  const rows = text.split('\n').filter((l) => /^\s*\d+\s+(warm|fresh)/.test(l));
  t.is(rows.length, 8);
  t.is(rows.filter((l) => l.includes('best images/s')).length, 1);
  t.is(rows.filter((l) => l.includes('best p99')).length, 1);
  t.is(rows.filter((l) => /fresh \(probe\)/.test(l)).length, 2);
  t.is(rows.filter((l) => / 1\.00x/.test(l)).length, 2, 'batch size 1 is the baseline for each thread count');
  for (const l of rows) t.regex(l, /±[\d.]+%/);
  t.regex(text, /pool: warm: one pool is started/);
  t.regex(text, /RSS: peak of a child process that measured only this configuration/);
  t.false(text.includes('\u001b['), 'no colour unless asked');
});

test(
  'HTML: self-contained (CSP, no external reference, Chart.js inlined once), both charts configured, warm/fresh ' +
    'labelled',
  async (t) => {
    const { doc, written } = await realRun();
    const html = readFileSync(written.html, 'utf8');
    t.regex(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'/);
    for (const pattern of [
      /src\s*=\s*["']?\s*(https?:)?\/\//i,
      /href\s*=\s*["']?\s*(https?:)?\/\//i,
      /url\(\s*["']?\s*(https?:)?\/\//i,
      /@import/i,
      /<link[^>]+stylesheet/i,
      /<iframe/i,
    ]) {
      t.notRegex(html, pattern);
    }
    for (const match of html.matchAll(/\s(src|href)\s*=\s*"([^"]*)"/gi))
      t.true(match[2].startsWith('#') || match[2] === 'data:,', match[0]);
    const probe = chartJsLibrary().source.slice(100_000, 100_200);
    t.is(html.split(probe).length - 1, 1, 'Chart.js inlined once');

    const open = '<script type="application/json" id="page-data">';
    const from = html.indexOf(open) + open.length;
    const block = JSON.parse(html.slice(from, html.indexOf('</script', from)));
    t.deepEqual(Object.keys(block.charts).sort(), ['latency', 'throughput']);
    const throughput = block.charts.throughput;
    t.is(throughput.options.scales.x.type, 'logarithmic');
    t.deepEqual(
      throughput.data.datasets.map((d: { label: string }) => d.label),
      [
        'warm, 1 thread, 2 in flight',
        'warm, 2 threads, 4 in flight',
        'fresh probe, 1 thread, 2 in flight',
        'fresh probe, 2 threads, 4 in flight',
      ],
    );
    t.deepEqual(
      throughput.data.datasets[0].data.map((p: { x: number }) => p.x),
      [1, 10, 100],
    );
    const latency = block.charts.latency;
    t.is(latency.options.scales.x.type, 'logarithmic');
    t.is(latency.data.datasets.length, 8, 'p50 and p99 per line');
    t.true(latency.data.datasets.every((d: { label: string }) => /^p(50|99), (warm|fresh probe), /.test(d.label)));
    t.is(block.data.kind, 'nnpipe-experiment');
    t.is(block.data.results.length, doc.results.length);

    t.true(html.includes('<canvas data-chart="throughput"'));
    t.true(html.includes('<canvas data-chart="latency"'));
    t.regex(html, /<title>nnpipe batch-size experiment: complete<\/title>/);
    t.true(html.includes('<td>fresh (probe)</td>'));
    t.true(html.includes('<td>warm</td>'));
    t.regex(html, /How it was measured/);
    t.regex(html, /load average at end/);
    t.true(html.includes(doc.machine.cpuModel));
  },
);

test('a partial document (interrupted) says so in the JSON, the CSV, the table and the page', async (t) => {
  const { outcome, doc } = await realRun();
  const model = await loadModel(doc.model.path);
  const partial = buildExperimentDocument(
    {
      ...outcome,
      status: 'interrupted',
      measurements: outcome.measurements.slice(0, 3),
      notMeasured: expandGrid(grid).slice(3),
    },
    {
      grid,
      input: { path: input, bytes: 1 },
      model,
      normalize: 'unit',
      out: join(dir, 'partial'),
      minSamples: 2,
      maxTimeS: 0.05,
      configurations: 8,
    },
  );
  t.true(partial.partial);
  t.is(partial.status, 'interrupted');
  t.is(partial.summary.measured, 3);
  t.deepEqual(
    partial.notMeasured.map((c) => c.id),
    [4, 5, 6, 7, 8],
  );
  const written = await writeExperimentOutputs(join(dir, 'partial'), partial);
  t.true(JSON.parse(readFileSync(written.json, 'utf8')).partial);
  const csv = readFileSync(written.csv, 'utf8').trimEnd().split('\n');
  t.is(csv.length, 4);
  t.true(csv.slice(1).every((l) => l.endsWith(',interrupted,true')));
  t.regex(formatExperimentTable(partial), /^experiment INTERRUPTED \(partial\): 3 of 8 configurations measured/);
  t.regex(formatExperimentTable(partial), /not measured: #4 #5 #6 #7 #8 \(5 configurations\)/);
  const html = readFileSync(written.html, 'utf8');
  t.regex(html, /<title>nnpipe batch-size experiment: interrupted \(partial\)<\/title>/);
  t.regex(html, /id="not-measured"/);
});

// Issue 17: "vs batch 1" was all "-" when batch size 1 was not in the grid, and one configuration read "(1
// configurations)".
test(
  'a grid without batch size 1: speed-ups over the smallest batch size measured, named in the header; "1 ' +
    'configuration"',
  async (t) => {
    const { outcome, doc } = await realRun();
    const model = await loadModel(doc.model.path);
    const measurements = outcome.measurements.filter((m) => m.config.batchSize !== 1);
    const notMeasured = [expandGrid(grid)[0]];
    const from10 = buildExperimentDocument(
      { ...outcome, status: 'interrupted', measurements, notMeasured },
      {
        grid,
        input: { path: input, bytes: 1 },
        model,
        normalize: 'unit',
        out: join(dir, 'from10'),
        minSamples: 2,
        maxTimeS: 0.05,
        configurations: measurements.length + 1,
      },
    );
    t.is(from10.summary.speedupBaseline, 10);
    const text = formatExperimentTable(from10);
    const lines = text.split('\n');
    const header = lines.find((l) => /^\s*#\s+pool/.test(l))!;
    t.regex(header, /vs batch 10\s+best$/);
    const rows = lines.filter((l) => /^\s*\d+\s+(warm|fresh)/.test(l));
    // (Another row may measure 1.00x too on a loaded machine: the baseline is checked in the document.)
    const baselines = from10.results.filter((r) => r.config.batchSize === 10 && r.config.pool === 'warm');
    t.is(baselines.length, 2);
    t.true(
      baselines.every((r) => r.speedup === 1 && r.speedupBaseline === 10),
      'batch size 10 is the baseline for each thread count',
    );
    t.true(from10.results.filter((r) => r.config.pool === 'warm').every((r) => r.speedupBaseline === 10));
    t.true(
      rows.filter((l) => /^\s*\d+\s+warm/.test(l)).every((l) => /\d\.\d\dx/.test(l)),
      'every grid row has a speed-up',
    );
    t.regex(
      text,
      /^ {2}vs batch 10: speed-up over batch size 10 \(the smallest measured\) at the same pool, threads and in-flight/m,
    );
    t.regex(text, /not measured: #1 \(1 configuration\)$/m);
    t.regex(
      text,
      new RegExp(
        `^experiment INTERRUPTED \\(partial\\): ${measurements.length} of ${measurements.length + 1} configurations ` +
          `measured`,
        'm',
      ),
    );
    const written = await writeExperimentOutputs(join(dir, 'from10'), from10);
    const csv = readFileSync(written.csv, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    const col = (name: string) => CSV_HEADER.indexOf(name);
    t.deepEqual(
      csv.slice(1).map((r) => r[col('speedup_baseline_batch_size')]),
      from10.results.map((r) => (r.config.probe ? '' : '10')),
    );
    const html = readFileSync(written.html, 'utf8');
    t.true(html.includes('<th>vs batch 10</th>'));
    t.true(html.includes('vs batch 10: speed-up over batch size 10 (the smallest measured)'));
  },
);
