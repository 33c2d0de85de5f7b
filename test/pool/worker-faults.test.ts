// Worker faults: a batch whose task throws, whose worker dies, or that hangs past --task-timeout is
// retried once; a second failure fails the run (exit 1) with a message naming the batch's lines, and
// the report counts every batch finished before it. Faults are injected with a test-only worker module
// (test/fixtures/workers/faulty-forward.ts) through runPipelineCli's test hooks.
import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runPipelineCli, type CliIo } from '../../src/cli/pipeline-main.js';
import type { InjectedFault } from '../fixtures/workers/faulty-forward.js';
import { fixture } from '../helpers/paths.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-faults-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'));
const input = fixture('mnist-test-100.csv');
const faultyWorker = new URL('../fixtures/workers/faulty-forward.js', import.meta.url);

/**
 * The input on stdin a line per event-loop turn: a task carries the batches one read completed, so
 * this way every task holds one batch and a fault names one batch.
 */
function lineByLine(): Readable {
  const lines = readFileSync(input, 'utf8').split(/(?<=\n)/);
  let next = 0;
  return new Readable({
    read() {
      setImmediate(() => this.push(next < lines.length ? lines[next++] : null));
    },
  });
}

async function runWithFault(fault: Omit<InjectedFault, 'markerDir'>, extra: string[] = []) {
  const markerDir = mkdtempSync(join(dir, `${fault.kind}-`));
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(String(chunk));
        callback();
      },
    }) as unknown as NodeJS.WriteStream;
  const io: CliIo = {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: lineByLine(),
    logs: sink(() => undefined),
  };
  const args = [
    '--input',
    '-',
    '--model',
    await modelReady,
    '--batch-size',
    '10',
    '--threads',
    '2',
    '--json',
    ...extra,
  ];
  const code = await runPipelineCli(args, io, {
    workerFile: faultyWorker,
    workerData: { fault: { ...fault, markerDir } },
  });
  return { code, stderr, report: JSON.parse(stdout), attempts: readdirSync(markerDir).length };
}

for (const kind of ['throw', 'exit', 'uncaught'] as const) {
  test.serial(`a worker fault (${kind}) is retried once and the run completes with every row`, async (t) => {
    const { code, report, attempts, stderr } = await runWithFault({ kind, batchIndex: 3, times: 1 });
    t.is(code, 0, stderr);
    t.is(report.status, 'complete');
    t.is(report.rows, 100);
    t.is(attempts, 2);
  });

  test.serial(
    `a worker fault (${kind}) twice in the same batch fails the run naming its lines; earlier batches are counted`,
    async (t) => {
      const { code, report, attempts, stderr } = await runWithFault({ kind, batchIndex: 3, times: 2 });
      t.is(code, 1);
      t.is(report.status, 'failed');
      t.is(attempts, 2);
      t.regex(report.error.message, /batch 3 \(lines 31-40\) failed twice in a worker/);
      t.regex(stderr, /lines 31-40/);
      t.is(report.rows, 30, 'batches 0-2 were finished before the failure and are counted');
    },
  );
}

test.serial(
  'a batch that hangs is cut off by --task-timeout, its worker replaced, and the retry completes the run',
  async (t) => {
    const started = Date.now();
    const { code, report, attempts, stderr } = await runWithFault({ kind: 'hang', batchIndex: 5, times: 1 }, [
      '--task-timeout',
      '800',
    ]);
    t.is(code, 0, stderr);
    t.is(report.rows, 100);
    t.is(attempts, 2);
    t.is(report.config.taskTimeoutMs, 800);
    t.true(Date.now() - started < 20_000);
  },
);

test.serial('a batch that hangs twice fails the run with the timeout in the message', async (t) => {
  const { code, report } = await runWithFault({ kind: 'hang', batchIndex: 5, times: 2 }, ['--task-timeout', '500']);
  t.is(code, 1);
  t.regex(
    report.error.message,
    /batch 5 \(lines 51-60\) failed twice in a worker: no result after --task-timeout 500 ms/,
  );
});

test.serial(
  'a batch the worker refuses (a failure result, not a fault) fails the run at once, without a retry',
  async (t) => {
    const { code, report, attempts } = await runWithFault({ kind: 'refuse', batchIndex: 4, times: 2 });
    t.is(code, 1);
    t.is(attempts, 1, 'not retried: the same batch would be refused again');
    t.regex(report.error.message, /^batch 4 \(lines 41-50\): injected: this batch cannot be scored$/);
  },
);

test.serial('the same faults with decoding on the main thread', async (t) => {
  const retried = await runWithFault({ kind: 'exit', batchIndex: 2, times: 1 }, ['--decode', 'main']);
  t.is(retried.code, 0, retried.stderr);
  t.is(retried.report.rows, 100);
  const failed = await runWithFault({ kind: 'throw', batchIndex: 2, times: 2 }, ['--decode', 'main']);
  t.is(failed.code, 1);
  t.regex(failed.report.error.message, /batch 2 \(lines 21-30\) failed twice/);
  t.is(failed.report.rows, 20);
});

test('the fixture is not reachable from the command line', (t) => {
  const options = readFileSync(new URL('../../src/cli/pipeline-options.js', import.meta.url), 'utf8');
  t.false(/faulty|workerFile|workerData|process\.env/.test(options));
});
