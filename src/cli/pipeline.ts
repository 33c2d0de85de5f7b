#!/usr/bin/env node
// Entry point of `nnpipe` / `npm run pipeline`.
import { runPipelineCli } from './pipeline-main.js';

void runPipelineCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
