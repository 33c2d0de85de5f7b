#!/usr/bin/env node
// Entry point of `nnpipe` / `npm run pipeline`.
import { runPipelineCli } from './pipeline-main.js';

process.exitCode = await runPipelineCli(process.argv.slice(2));
