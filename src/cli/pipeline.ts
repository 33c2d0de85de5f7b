#!/usr/bin/env node
// Entry point of `nnpipe` / `npm run pipeline`. Subcommands load their own module (and what it needs) only
// when named: `inspect MODEL` describes a model file, `merge` merges shard reports, `worker`, `submit` and
// `result` run the pipeline across machines on a BullMQ queue (README, "Across machines").
import { runPipelineCli } from './pipeline-main.js';

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
const run = subcommand ? subcommand(argv.slice(1)) : runPipelineCli(argv);
void run.then((code) => {
  process.exitCode = code;
  if (EXIT_WHEN_DONE.has(argv[0])) process.exit(code);
});
