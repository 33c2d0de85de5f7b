#!/usr/bin/env node
// Entry point of `nnpipe <command> [options]` (and `npm run pipeline`). Without a command it runs the
// pipeline. Subcommands load their own module (and what it needs) only when named: `inspect MODEL`
// describes a model file, `merge` merges shard reports, `worker`, `submit` and `result` run the pipeline
// across machines on a BullMQ queue (README, "Across machines"). The others (train, data, convert,
// schedule, experiment, history) are their own programs (programs.ts), kept out of the bundle: started
// exactly as `node dist/src/cli/<command>.js` (what their npm scripts run); from the bundle, by its loader.
import { runPipelineCli } from './pipeline-main.js';
import { isProgram, runProgram } from './programs.js';

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  inspect: (argv) => import('./inspect.js').then(({ runInspectCli }) => runInspectCli(argv)),
  merge: (argv) => import('./merge.js').then(({ runMergeCli }) => runMergeCli(argv)),
  worker: (argv) => import('./worker.js').then(({ runWorkerCli }) => runWorkerCli(argv)),
  submit: (argv) => import('./submit.js').then(({ runSubmitCli }) => runSubmitCli(argv)),
  result: (argv) => import('./result.js').then(({ runResultCli }) => runResultCli(argv)),
};
/** Commands that hold Redis connections: they exit once done (a connection to a lost Redis can linger). */
const EXIT_WHEN_DONE = new Set(['worker', 'submit', 'result']);

const argv = process.argv.slice(2);
const subcommand = SUBCOMMANDS[argv[0]];
const run = subcommand
  ? subcommand(argv.slice(1))
  : isProgram(argv[0])
    ? runProgram(argv[0], argv.slice(1))
    : runPipelineCli(argv);
void run.then((code) => {
  process.exitCode = code;
  if (EXIT_WHEN_DONE.has(argv[0])) process.exit(code);
});
