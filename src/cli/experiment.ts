#!/usr/bin/env node
// Entry point of `npm run experiment` (see src/cli/experiment-main.ts).
import { runExperimentCli } from './experiment-main.js';
import { quietOnClosedStdout } from './entry.js';

quietOnClosedStdout();
process.exitCode = await runExperimentCli(process.argv.slice(2));
