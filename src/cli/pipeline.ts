#!/usr/bin/env node
// Entry point of `nnpipe <command> [options]` (and `npm run pipeline`). Without a command it runs the
// pipeline. Subcommands load their own module (and what it needs) only when named: `inspect MODEL`
// describes a model file, `merge` merges shard reports. The others (train, data, convert, schedule,
// experiment, history, and worker, submit and result on a BullMQ queue) are their own programs
// (programs.ts), kept out of the bundle: started as `node dist/src/cli/<entry>.js`; from the bundle, by
// its loader.
import { runPipelineCli } from './pipeline-main.js';
import { isProgram, runProgram } from './programs.js';
import { quietOnClosedStdout } from './entry.js';

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  inspect: (argv) => import('./inspect.js').then(({ runInspectCli }) => runInspectCli(argv)),
  merge: (argv) => import('./merge.js').then(({ runMergeCli }) => runMergeCli(argv)),
};

quietOnClosedStdout();
const argv = process.argv.slice(2);
const subcommand = SUBCOMMANDS[argv[0]];
const run = subcommand
  ? subcommand(argv.slice(1))
  : isProgram(argv[0])
    ? runProgram(argv[0], argv.slice(1))
    : runPipelineCli(argv);
void run.then((code) => {
  process.exitCode = code;
});
