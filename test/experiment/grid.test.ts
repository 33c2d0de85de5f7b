// The experiment's command line: list parsing, the grid's expansion (order, resolved in-flight values, the
// fresh-pool probes) and the usage errors for invalid grids, with their messages.
import test from 'ava';
import { UsageError } from '../../src/errors.js';
import { maxThreads } from '../../src/cli/pipeline-options.js';
import { autoProbeBatchSize, expandGrid, type GridSpec } from '../../src/experiment/grid.js';
import {
  DEFAULT_MAX_TIME_S,
  DEFAULT_MIN_SAMPLES,
  defaultThreads,
  experimentCommand,
  validateExperimentOptions,
} from '../../src/cli/experiment-options.js';

function parse(args: string[]) {
  const command = experimentCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  command.parse(args, { from: 'user' });
  return validateExperimentOptions(command);
}

/** The UsageError message for `args`. */
function usage(t: import('ava').ExecutionContext, args: string[]): string {
  const error = t.throws(() => parse(args), { instanceOf: UsageError }, args.join(' '));
  return error?.message ?? '';
}

test('defaults: the documented grid, 2x in flight, a fresh probe per thread count, benchmark.js limits', (t) => {
  const o = parse([]);
  t.deepEqual(o.grid.batchSizes, [1, 10, 32, 100, 320, 1000]);
  t.deepEqual(o.grid.maxInFlight, [{ kind: 'perThread', factor: 2, text: '2x' }]);
  t.is(o.grid.pool, 'warm');
  t.is(o.grid.freshProbe, 'auto');
  t.deepEqual(o.grid.threads, defaultThreads().split(',').map(Number));
  t.is(o.minSamples, DEFAULT_MIN_SAMPLES);
  t.is(o.maxTimeS, DEFAULT_MAX_TIME_S);
  t.is(o.input, null);
  t.is(o.model, null);
  t.is(o.out, null);
  const threads = o.grid.threads.length;
  t.is(o.configurations.length, 6 * threads + threads);
  t.deepEqual(defaultThreads(2), '1,2');
  t.deepEqual(defaultThreads(1), '1');
});

test('the grid on a 2-core machine: warm rows by threads then batch size, then one fresh probe per thread count', (t) => {
  const o = parse(['--threads', '2,1']);
  const rows = o.configurations.map((c) => [
    c.id,
    c.pool,
    c.batchSize,
    c.threads,
    c.maxInFlight,
    c.maxInFlightSpec,
    c.probe,
  ]);
  t.deepEqual(rows, [
    [1, 'warm', 1, 1, 2, '2x', false],
    [2, 'warm', 10, 1, 2, '2x', false],
    [3, 'warm', 32, 1, 2, '2x', false],
    [4, 'warm', 100, 1, 2, '2x', false],
    [5, 'warm', 320, 1, 2, '2x', false],
    [6, 'warm', 1000, 1, 2, '2x', false],
    [7, 'warm', 1, 2, 4, '2x', false],
    [8, 'warm', 10, 2, 4, '2x', false],
    [9, 'warm', 32, 2, 4, '2x', false],
    [10, 'warm', 100, 2, 4, '2x', false],
    [11, 'warm', 320, 2, 4, '2x', false],
    [12, 'warm', 1000, 2, 4, '2x', false],
    [13, 'fresh', 100, 1, 2, '2x', true],
    [14, 'fresh', 100, 2, 4, '2x', true],
  ]);
});

test('lists: spaces, unsorted values, fixed and per-thread in-flight, --pool both / fresh, --fresh-probe', (t) => {
  const o = parse([
    '--batch-sizes',
    ' 100, 1 ,10',
    '--threads',
    '1',
    '--max-in-flight',
    '1,2x,8',
    '--pool',
    'both',
    '--min-samples',
    '2',
    '--max-time',
    '0.25',
  ]);
  t.deepEqual(o.grid.batchSizes, [100, 1, 10]);
  t.is(o.minSamples, 2);
  t.is(o.maxTimeS, 0.25);
  const rows = o.configurations.map((c) => `${c.pool}:${c.batchSize}/${c.threads}/${c.maxInFlight}`);
  t.deepEqual(rows, [
    'warm:1/1/1',
    'warm:10/1/1',
    'warm:100/1/1',
    'warm:1/1/2',
    'warm:10/1/2',
    'warm:100/1/2',
    'warm:1/1/8',
    'warm:10/1/8',
    'warm:100/1/8',
    'fresh:1/1/1',
    'fresh:10/1/1',
    'fresh:100/1/1',
    'fresh:1/1/2',
    'fresh:10/1/2',
    'fresh:100/1/2',
    'fresh:1/1/8',
    'fresh:10/1/8',
    'fresh:100/1/8',
  ]);
  t.false(
    o.configurations.some((c) => c.probe),
    'no probes when the grid itself has fresh pools',
  );
  t.deepEqual(
    parse(['--batch-sizes', '5', '--threads', '1', '--pool', 'fresh']).configurations.map((c) => c.pool),
    ['fresh'],
  );
  t.deepEqual(
    parse(['--batch-sizes', '5', '--threads', '1', '--fresh-probe', 'none']).configurations.map((c) => c.pool),
    ['warm'],
  );
  const probe = parse(['--batch-sizes', '5', '--threads', '1,2', '--fresh-probe', '64']).configurations.filter(
    (c) => c.probe,
  );
  t.deepEqual(
    probe.map((c) => [c.batchSize, c.threads, c.maxInFlight]),
    [
      [64, 1, 2],
      [64, 2, 4],
    ],
  );
});

test('the automatic fresh probe takes the grid batch size nearest 100 (log scale)', (t) => {
  t.is(autoProbeBatchSize([1, 10, 32, 100, 320, 1000]), 100);
  t.is(autoProbeBatchSize([1, 10, 1000]), 1000, '10 and 1000 tie: the larger');
  t.is(autoProbeBatchSize([1, 64, 200]), 64);
  t.is(autoProbeBatchSize([7]), 7);
});

test('invalid grids are usage errors that name the flag and say what is wrong', (t) => {
  t.is(
    usage(t, ['--batch-sizes', '0,10']),
    "--batch-sizes must list values of at least 1: batch size 0 is not allowed (got '0,10')",
  );
  t.is(
    usage(t, ['--batch-sizes', '1,10,0']),
    "--batch-sizes must list values of at least 1: batch size 0 is not allowed (got '1,10,0')",
  );
  t.is(
    usage(t, ['--batch-sizes', '']),
    "--batch-sizes is empty: give one or more batch sizes separated by commas (got '')",
  );
  t.is(
    usage(t, ['--batch-sizes', ' , ']),
    "--batch-sizes has an empty item: give batch sizes separated by single commas (got ' , ')",
  );
  t.is(
    usage(t, ['--batch-sizes', '1,,10']),
    "--batch-sizes has an empty item: give batch sizes separated by single commas (got '1,,10')",
  );
  t.is(
    usage(t, ['--batch-sizes', '1,10,']),
    "--batch-sizes has an empty item: give batch sizes separated by single commas (got '1,10,')",
  );
  t.is(usage(t, ['--batch-sizes', '10,1,10']), "--batch-sizes lists batch size 10 twice (got '10,1,10')");
  t.is(
    usage(t, ['--batch-sizes', '1,ten']),
    "--batch-sizes must list whole numbers: 'ten' is not a batch size (got '1,ten')",
  );
  t.is(
    usage(t, ['--batch-sizes', '1.5']),
    "--batch-sizes must list whole numbers: '1.5' is not a batch size (got '1.5')",
  );
  t.is(usage(t, ['--batch-sizes', '-1']), "--batch-sizes must list whole numbers: '-1' is not a batch size (got '-1')");
  t.is(
    usage(t, ['--batch-sizes', '1e3']),
    "--batch-sizes must list whole numbers: '1e3' is not a batch size (got '1e3')",
  );
  t.is(
    usage(t, ['--threads', `1,${maxThreads + 1}`]),
    `--threads must list thread counts of at most ${maxThreads}` +
      `, the pool maximum (4 per core, at least 16): ${maxThreads + 1}` +
      ` is too many (got '1,${maxThreads + 1}')`,
  );
  t.is(
    usage(t, ['--threads', '0']),
    "--threads must list values of at least 1: thread count 0 is not allowed (got '0')",
  );
  t.is(usage(t, ['--threads', '']), "--threads is empty: give one or more thread counts separated by commas (got '')");
  t.is(usage(t, ['--threads', '2,2']), "--threads lists thread count 2 twice (got '2,2')");
  t.is(
    usage(t, ['--max-in-flight', '0']),
    "--max-in-flight must list values of at least 1: '0' would allow no batch in flight (got '0')",
  );
  t.is(
    usage(t, ['--max-in-flight', '0x']),
    "--max-in-flight must list values of at least 1: '0x' would allow no batch in flight (got '0x')",
  );
  t.is(
    usage(t, ['--max-in-flight', 'two']),
    "--max-in-flight must list whole numbers of batches (4) or multiples of the thread count (2x): 'two' is neither " +
      "(got 'two')",
  );
  t.is(usage(t, ['--max-in-flight', '2x,2X']), "--max-in-flight lists 2x twice (got '2x,2X')");
  t.is(
    usage(t, ['--max-in-flight', '']),
    '--max-in-flight is empty: give one or more values such as 4 (batches) or 2x (2 x threads) separated by commas ' +
      "(got '')",
  );
  t.is(
    usage(t, ['--threads', '1,2', '--max-in-flight', '2x,4']),
    '--max-in-flight 2x and 4 both mean 4 batches in flight with --threads 2; list each value once',
  );
  t.is(usage(t, ['--min-samples', '0']), "--min-samples must be a positive integer (got '0')");
  t.is(usage(t, ['--max-time', '0']), "--max-time must be more than 0 seconds (got '0')");
  t.is(usage(t, ['--max-time', 'soon']), "--max-time must be a number of seconds (got 'soon')");
  t.is(
    usage(t, ['--fresh-probe', '0']),
    "--fresh-probe must be a batch size (a whole number of at least 1), auto or none (got '0')",
  );
  t.is(
    usage(t, ['--pool', 'fresh', '--fresh-probe', '10']),
    '--fresh-probe applies to --pool warm only (--pool fresh measures fresh pools for every configuration)',
  );
  t.is(
    usage(t, ['--input', '-']),
    '--input - (stdin) cannot be measured: every sample reads the input again; give a file',
  );
});

test('expandGrid on its own: every batch size x thread count x in-flight, probes last', (t) => {
  const spec: GridSpec = {
    batchSizes: [32, 1],
    threads: [2],
    maxInFlight: [
      { kind: 'fixed', value: 3, text: '3' },
      { kind: 'perThread', factor: 1, text: '1x' },
    ],
    pool: 'warm',
    freshProbe: 'auto',
  };
  t.deepEqual(
    expandGrid(spec).map(
      (c) =>
        `${c.id}:${c.pool}:${c.batchSize}/${c.threads}/${c.maxInFlight}(${c.maxInFlightSpec})${c.probe ? ' probe' : ''}`,
    ),
    ['1:warm:1/2/2(1x)', '2:warm:32/2/2(1x)', '3:warm:1/2/3(3)', '4:warm:32/2/3(3)', '5:fresh:32/2/3(3) probe'],
  );
});
