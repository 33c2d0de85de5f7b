#!/usr/bin/env node
// Entry point of `nnpipe` / `npm run pipeline`. Subcommands load their own module (and what it needs) only
// when named: `inspect MODEL` describes a model file, `merge` merges shard reports, `worker`, `submit` and
// `result` run the pipeline across machines on a BullMQ queue (README, "Across machines").
import { runPipelineCli } from './pipeline-main.js';

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  inspect: (argv) => import('./inspect.js').then(({ runInspectCli }) => runInspectCli(argv)),
  merge: (argv) => import('./merge.js').then(({ runMergeCli }) => runMergeCli(argv)),
};

const argv = process.argv.slice(2);
const subcommand = SUBCOMMANDS[argv[0]];
const run = subcommand ? subcommand(argv.slice(1)) : runPipelineCli(argv);
void run.then((code) => {
  process.exitCode = code;
});
