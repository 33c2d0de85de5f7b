// Issue 12, row 13: every message a command prints on a bad command line is one line that starts with
// its name (`nnpipe: `, `nnpipe <command>: `), commander's own errors included, and exits 2.
import test from 'ava';
import { cliEntry, runNode, runPipeline } from '../helpers/cli.js';

const problems = [
  ['--bogus'],
  ['--parser', 'xyz'],
  ['stray'],
  ['--batch-size'],
  ['--batch-size', '0'],
  ['--min-accuracy'],
];

for (const args of problems) {
  test(`nnpipe ${args.join(' ')}: one line starting with "nnpipe: ", exit 2`, async (t) => {
    const run = await runPipeline(args);
    t.is(run.code, 2, run.stderr);
    const lines = run.stderr.trimEnd().split('\n');
    t.is(lines.length, 1, run.stderr);
    t.regex(lines[0], /^nnpipe: \S.* \(run with --help for usage\)$/);
    t.notRegex(run.stderr, /error:/);
  });
}

for (const [cli, name, args] of [
  ['history', 'nnpipe history', ['--bogus', 'x']],
  ['history', 'nnpipe history', []],
  ['schedule', 'nnpipe schedule', ['--cron', '* * * * *', '--', '--bogus']],
  ['schedule', 'nnpipe schedule', ['--max-runs', '1']],
  ['train', 'nnpipe train', ['--epochs', 'many']],
  ['experiment', 'nnpipe experiment', ['--bogus']],
  ['convert', 'nnpipe convert', ['only-one-argument']],
  ['data', 'nnpipe data', ['--split', 'nope']],
] as const) {
  test(`${name} ${args.join(' ')}: one line starting with "${name}: ", exit 2`, async (t) => {
    const run = await runNode(cliEntry(cli), [...args]);
    t.is(run.code, 2, run.stderr);
    const lines = run.stderr.trimEnd().split('\n');
    t.is(lines.length, 1, run.stderr);
    t.true(lines[0].startsWith(`${name}: `), lines[0]);
    t.notRegex(run.stderr, /error:/);
  });
}
