#!/usr/bin/env node
// Entry point of `nnpipe` / `npm run pipeline`. `nnpipe inspect MODEL` describes a model file instead; its
// module (and the model readers it needs) loads only then.
import { runPipelineCli } from './pipeline-main.js';

const argv = process.argv.slice(2);
const run = argv[0] === 'inspect' ? import('./inspect.js').then(({ runInspectCli }) => runInspectCli(argv.slice(1))) : runPipelineCli(argv);
void run.then((code) => {
  process.exitCode = code;
});
