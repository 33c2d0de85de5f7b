// How `submit` and `result` wait for a distributed run and end: progress while it goes on, then the merged
// report printed as the pipeline prints its own (summary, or --json) with the pipeline's exit codes. A
// stop signal while waiting stops the waiting, not the run (it goes on in the queue).
import { ExitCode, PipelineError } from '../errors.js';
import { KEEP_RUNS, KEEP_SECONDS } from '../queue/jobs.js';
import { RunWatcher, type RunEnd } from '../queue/run-watch.js';
import { shownUrl } from '../queue/redis.js';
import { formatSummary } from '../stats/summary-text.js';
import { exitCodeForSignal } from '../jobs/exit-codes.js';
import type { Logger } from './logger.js';
import { exitCodeForReport } from './report-exit.js';
import { createRunProgress } from './run-progress.js';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

export async function watchRun(url: string, runId: string): Promise<RunWatcher> {
  const watcher = new RunWatcher(url, runId);
  await watcher.ready();
  return watcher;
}

/** A run's end, or the signal that stopped the waiting. */
export type WaitEnd = RunEnd | { state: 'stopped'; signal: NodeJS.Signals };

export async function waitForRun(
  watcher: RunWatcher,
  options: { graceMs: number; progress: boolean; io: Io; log: Logger; runId: string; redis: string },
): Promise<WaitEnd> {
  const display = createRunProgress({
    enabled: options.progress,
    stream: options.io.stderr,
    log: options.log,
    runId: options.runId,
  });
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<WaitEnd>((resolve) => (onSignal = (signal) => resolve({ state: 'stopped', signal })));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const end = await Promise.race([
      watcher.wait({ graceMs: options.graceMs, onProgress: (p) => display.update(p) }),
      stopped,
    ]);
    if (end.state === 'stopped')
      options.log.warn(
        { run: options.runId, signal: end.signal },
        `stopped waiting; the run goes on: nnpipe result --redis ${shownUrl(options.redis)} ${options.runId}`,
      );
    return end;
  } finally {
    display.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Prints the run's report (or why there is none) and returns the exit code. */
export function printRunEnd(
  end: WaitEnd,
  runId: string,
  options: { json: boolean; quiet: boolean; minAccuracy: number | null },
  io: Io,
  name: string,
): number {
  switch (end.state) {
    case 'stopped':
      return exitCodeForSignal(end.signal);
    case 'missing':
      throw new PipelineError(
        'PIPE_ERR_NO_RUN',
        `no run ${runId} in this Redis (finished runs are kept for ${KEEP_SECONDS / 86_400}` +
          ` days, the newest ${KEEP_RUNS})`,
      );
    case 'failed':
      io.stderr.write(`${name}: run ${runId} failed: ${end.reason}\n`);
      return ExitCode.failed;
    case 'completed': {
      const report = end.report;
      if (options.json) io.stdout.write(`${JSON.stringify(report)}\n`);
      else if (!options.quiet)
        io.stdout.write(`${formatSummary(report, { color: Boolean(io.stdout.isTTY) && !process.env.NO_COLOR })}\n`);
      return exitCodeForReport(report, { minAccuracy: options.minAccuracy }, io.stderr, name);
    }
  }
}
