// `nnpipe result --redis URL RUNID`: the merged report of a run submitted with `nnpipe submit --detach`,
// printed as the pipeline prints its own (summary or --json) with its exit codes. A run still going on:
// its progress on stderr and exit 75 (try again later), or with --wait, wait for it like submit.
import { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { probeRedis } from '../queue/redis.js';
import type { RunProgress } from '../queue/run-watch.js';
import { createLogger, logFormatOption } from './logger.js';
import { milliseconds, unitInterval } from './option-schemas.js';
import { addOptions, flag, option, required, validateOptions, type OptionValues } from './option-table.js';
import { redisUrl, runIdArgument } from './queue-options.js';
import { printRunEnd, waitForRun, watchRun } from './run-end.js';
import { exitCodeForError } from './report-exit.js';
import { forCli, usageExitCode } from './usage.js';

const NAME = 'nnpipe result';

export function resultCommand(): Command {
  return addOptions(new Command(NAME), RESULT_OPTIONS)
    .description('Print the merged report of a run submitted with `nnpipe submit --detach`.')
    .argument('<run-id>', 'the id `nnpipe submit --detach` printed')
    .allowExcessArguments(false);
}

/** Every option of `nnpipe result`, once (see option-table.ts). */
export const RESULT_OPTIONS = {
  redis: required('--redis <url>', 'the Redis of the queue: redis://host:port[/db]', redisUrl),
  wait: flag('--wait', 'wait for a run still going on (with progress), as submit does'),
  minAccuracy: option(
    '--min-accuracy <0..1>',
    'exit 3 when accuracy is below this, or when the input has no labels to measure it',
    unitInterval,
  ),
  redisTimeout: option(
    '--redis-timeout <ms>',
    'while waiting, give up (exit 69) when Redis has not answered for this long',
    milliseconds,
    { default: 10_000 },
  ),
  logFormat: logFormatOption(),
  json: flag('--json', 'print the report as one JSON document on stdout and nothing else'),
  quiet: flag('--quiet', 'no summary, no progress'),
};

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

export async function runResultCli(argv: string[], io: Io = process): Promise<number> {
  const command = forCli(resultCommand(), io, NAME);
  let options: OptionValues<typeof RESULT_OPTIONS>;
  let runId: string;
  try {
    command.parse(argv, { from: 'user' });
    options = validateOptions(command, RESULT_OPTIONS);
    const id = runIdArgument(command.args[0]);
    if (id === null)
      throw new UsageError(`${command.args[0]} is not a run id (submit --detach prints one, like r1a2b3c4d5-0123abcd)`);
    runId = id;
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  const log = createLogger({
    name: NAME,
    quiet: options.quiet || options.json,
    stream: io.stderr,
    format: options.logFormat,
  });
  const printing = { json: options.json, quiet: options.quiet, minAccuracy: options.minAccuracy ?? null };
  try {
    await probeRedis(options.redis);
    const watcher = await watchRun(options.redis, runId);
    try {
      if (options.wait)
        return printRunEnd(
          await waitForRun(watcher, {
            graceMs: options.redisTimeout,
            progress: !options.quiet && !options.json,
            io,
            log,
            runId,
            redis: options.redis,
          }),
          runId,
          printing,
          io,
          NAME,
        );
      let progress: RunProgress | null = null;
      const end = await watcher.poll((p) => (progress = p));
      if (end !== 'running') return printRunEnd(end, runId, printing, io, NAME);
      const p = progress as RunProgress | null;
      io.stderr.write(
        `${NAME}: run ${runId} is still going on${
          p ? `: ${p.done} of ${p.shards} shards done, ${p.failed} failed` : ''
        }; try again later, or add --wait\n`,
      );
      return ExitCode.lockHeld;
    } finally {
      await watcher.close();
    }
  } catch (error) {
    return exitCodeForError(error, io.stderr, NAME);
  }
}
