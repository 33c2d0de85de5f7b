#!/usr/bin/env node
// Entry point of `npm run experiment` (see src/experiment/cli-main.ts).
import { runExperimentCli } from '../experiment/cli-main.js';

process.exitCode = await runExperimentCli(process.argv.slice(2));
