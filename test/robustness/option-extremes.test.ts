// Option values at and past the machine's limits (issue 12, rows 7-10): --batch-size is bounded by what
// one worker can hold for the model, timeouts by the longest timer Node.js can set; past the bound is a
// usage error (exit 2) before any row is read, and the bound itself runs as given (no
// TimeoutOverflowWarning, no timer that fires after 1 ms).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchCapacity } from '../../src/nn/kernels/batch-capacity.js';
import { fitInFlight, type PipelineCliOptions } from '../../src/cli/pipeline-options.js';
import { memoryBudgetBytes } from '../../src/cli/option-schemas.js';
import { runPipeline } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/models.js';
import { logLines, predictionsInProgress, start, trainCsv, until } from '../jobs/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-extremes-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const five = join(dir, 'five.csv');
writeFileSync(five, `${readFileSync(fixture('mnist-test-100.csv'), 'utf8').split('\n').slice(0, 5).join('\n')}\n`);
const MAX_TIMER_MS = 2_147_483_647;

test(
  'row 7: --batch-size past what one worker holds is exit 2 before any row is read, naming the bound and the ' +
    'model',
  async (t) => {
    const { maxRows } = batchCapacity([784, 50, 100, 10]);
    t.is(maxRows, 283_108);
    for (const size of ['300000', String(maxRows + 1), '99999999999']) {
      for (const threads of ['1', '2']) {
        // stdin stays open and silent: a run that started reading would wait until the helper kills it.
        const run = await runPipeline(['--input', '-', '--batch-size', size, '--threads', threads], {
          stdin: () => undefined,
          timeoutMs: 30_000,
        });
        t.is(run.code, 2, `${size}: ${run.stderr}`);
        t.regex(
          run.stderr,
          new RegExp(
            `^nnpipe: --batch-size ${size}` +
              ` is more than one worker can hold for this model \\(784-50-100-10\\): at most ${maxRows} rows \\(3792 ` +
              `bytes of engine memory per row, 1024 MiB per worker\\)`,
          ),
        );
        t.notRegex(run.stderr, /Invalid typed array length|WebAssembly memory/);
      }
    }
    // A wider model holds fewer rows: the bound is the model's.
    const wide = await writeRandomModel(join(dir, 'wide.safetensors'), [784, 4000, 10], 3);
    const wideMax = batchCapacity([784, 4000, 10]).maxRows;
    const run = await runPipeline(['--input', five, '--model', wide, '--batch-size', String(wideMax + 1)]);
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, new RegExp(`at most ${wideMax} rows`));
    t.is((await runPipeline(['--input', five, '--model', wide, '--batch-size', '1000', '--quiet'])).code, 0);
  },
);

for (const option of ['--task-timeout', '--stop-timeout', '--lock-stale']) {
  test(`rows 8-10: ${option} past ${MAX_TIMER_MS} ms is exit 2; at it, the run is normal (no TimeoutOverflowWarning)`, async (t) => {
    const past = await runPipeline(['--input', five, option, '99999999999', '--quiet']);
    t.is(past.code, 2, past.stderr);
    t.regex(past.stderr, new RegExp(`^nnpipe: ${option} must be at most ${MAX_TIMER_MS} ms`));
    const at = await runPipeline([
      '--input',
      five,
      option,
      String(MAX_TIMER_MS),
      '--report',
      join(dir, `${option}.json`),
      '--quiet',
    ]);
    t.is(at.code, 0, at.stderr);
    t.notRegex(at.stderr, /TimeoutOverflowWarning|Warning/);
    t.is(JSON.parse(readFileSync(join(dir, `${option}.json`), 'utf8')).status, 'complete');
  });
}

test('row 8: --task-timeout at the maximum does not fail a batch that takes a while', async (t) => {
  const run = await runPipeline([
    '--input',
    fixture('mnist-test-100.csv'),
    '--task-timeout',
    String(MAX_TIMER_MS),
    '--batch-size',
    '1',
    '--threads',
    '1',
    '--quiet',
    '--json',
  ]);
  t.is(run.code, 0, run.stderr);
  t.is(JSON.parse(run.stdout).rows, 100);
});

test.serial(
  'row 9: --stop-timeout is honoured as given: at the maximum, a stop waits for the batches in flight (no ' +
    'stop-timeout), and ' +
    'the report counts ' +
    "the predictions file's rows",
  async (t) => {
    const report = join(dir, 'stopped.json');
    const predictions = join(dir, 'stopped.csv');
    const run = start('pipeline', [
      '--input',
      trainCsv,
      '--batch-size',
      '20',
      '--threads',
      '1',
      '--stop-timeout',
      String(MAX_TIMER_MS),
      '--report',
      report,
      '--predictions',
      predictions,
    ]);
    await until(() => predictionsInProgress(predictions), 60_000, 'scored rows');
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    t.is(code, 130, run.stderr());
    const r = JSON.parse(readFileSync(report, 'utf8'));
    t.is(r.status, 'interrupted');
    t.like(r.error, { code: 'PIPE_ERR_INTERRUPTED' });
    t.is(readFileSync(predictions, 'utf8').trimEnd().split('\n').length - 1, r.rows);
    t.notRegex(run.stderr(), /TimeoutOverflowWarning/);
    t.like(
      logLines(run.stderr()).find((l) => typeof l.msg === 'string' && l.msg.startsWith('stopping')),
      { stopTimeoutMs: MAX_TIMER_MS },
    );
  },
);

test(
  "--max-in-flight past what half the machine's memory holds is exit 2 before any row is read; the default " +
    'shrinks to fit',
  async (t) => {
    const run = await runPipeline(['--input', '-', '--max-in-flight', '99999999999'], {
      stdin: () => undefined,
      timeoutMs: 30_000,
    });
    t.is(run.code, 2, run.stderr);
    t.regex(
      run.stderr,
      /^nnpipe: --max-in-flight 99999999999 would hold up to [\d.]+ GiB of batches in memory \(1254400 bytes per batch of 100 rows of 784 values\); half of this machine's memory is [\d.]+ GiB: at most \d+ batches in flight at this batch size/,
    );
    const sizes = [784, 50, 100, 10];
    const most = Math.floor(memoryBudgetBytes() / (2 * 283_108 * 784 * 8));
    const options: Pick<PipelineCliOptions, 'batchSize' | 'maxInFlight'> = { batchSize: 283_108, maxInFlight: null };
    t.is(fitInFlight(options, 5_000, sizes), Math.max(1, most), 'the default: as many as fit');
    t.is(fitInFlight(options, 1, sizes), Math.min(2, Math.max(1, most)));
    t.throws(() => fitInFlight({ ...options, maxInFlight: 10_000 }, 2, sizes), {
      message: /--max-in-flight 10000 would hold/,
    });
    t.is(fitInFlight({ batchSize: 100, maxInFlight: 4 }, 2, sizes), 4);
  },
);
