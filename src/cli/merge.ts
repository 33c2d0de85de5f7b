// `nnpipe merge --report OUT.json [--predictions OUT.csv] [--html OUT.html] SHARD.json...`: the reports of `nnpipe
// --shard i/n`
// runs (any order) merged into the report of the whole input, and their predictions files into one, in
// input order with absolute line and row numbers (`--predictions -`: to stdout, the summary to stderr), and
// with --html the page of the whole input (from the page data of shards run with --html). Prints the summary (or
// --json) and exits as the pipeline would
// (0, 1 failed, 3 below --min-accuracy); a set that cannot be merged (a shard missing or given twice,
// shards of other inputs, models or options) is refused with exit 2 and nothing is written.
import { Command } from 'commander';
import * as z from 'zod/mini';
import { checkOutputs, type ProtectedFile } from '../output/check-outputs.js';
import { formatSummary } from '../stats/summary-text.js';
import { mergeRun, readReportFiles } from '../../pipelines/merge-run.js';
import type { NamedReport } from '../stats/merge.js';
import { UsageError } from '../errors.js';
import { unitInterval } from './option-schemas.js';
import { STDOUT_PATH } from '../output/target.js';
import { addOptions, flag, option, validateOptions, type OptionValues } from './option-table.js';
import { exitCodeForError, exitCodeForReport } from './report-exit.js';
import { forCli, usageExitCode } from './usage.js';

const NAME = 'nnpipe merge';

const path = z.string().check(z.minLength(1));

/** Every option of `nnpipe merge`, once (see option-table.ts). */
export const MERGE_OPTIONS = {
  report: option('--report <file>', 'write the merged JSON report here (atomically)', path),
  predictions: option(
    '--predictions <file|->',
    "write the shards' predictions here (- for stdout), in input order with absolute line and row numbers, in the " +
      "shards' format",
    path,
  ),
  html: option(
    '--html <file>',
    "write the merged run's HTML report here (atomically): the images and counts one run would show; the shards must " +
      'have run with --html',
    path,
  ),
  minAccuracy: option(
    '--min-accuracy <0..1>',
    'exit 3 when the merged accuracy is below this, or when the input has no labels to measure it',
    unitInterval,
  ),
  json: flag('--json', 'print the merged report as one JSON document on stdout and nothing else'),
  quiet: flag('--quiet', 'no summary, no "wrote FILE" notes'),
};
type MergeOptions = OptionValues<typeof MERGE_OPTIONS>;

export function mergeCommand(): Command {
  const command = new Command(NAME)
    .description(
      'Merge the reports (and predictions, and --html page) of `nnpipe --shard i/n` runs into those of the whole ' +
        'input: counts, ' +
        'confusion matrix, ' +
        'errors and the ' +
        "page's images " +
        'exactly as one run; latency from the merged histograms.',
    )
    .argument('<shard-report...>', 'the --report files of shards 1..n, in any order')
    .allowExcessArguments(false);
  return addOptions(command, MERGE_OPTIONS);
}

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

export async function runMergeCli(argv: string[], io: Io = process): Promise<number> {
  const command = forCli(mergeCommand(), io, NAME);
  let options: MergeOptions;
  try {
    command.parse(argv, { from: 'user' });
    options = validateOptions(command, MERGE_OPTIONS);
    if (options.predictions === '-' && options.json)
      throw new UsageError(
        '--predictions - and --json both want stdout: write the predictions to a file, or the report with --report ' +
          'FILE',
      );
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  try {
    const reports = await readReportFiles(command.args);
    const outputs = await checkMergeOutputs(options, reports);
    const report = await mergeRun({ reports, outputs });
    const summaryOut = options.predictions === '-' ? io.stderr : io.stdout;
    if (!options.quiet)
      for (const file of [outputs.report, outputs.predictions, outputs.html])
        if (file !== null) io.stderr.write(`${NAME}: wrote ${file}\n`);
    if (options.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else if (!options.quiet)
      summaryOut.write(`${formatSummary(report, { color: Boolean(summaryOut.isTTY) && !process.env.NO_COLOR })}\n`);
    return exitCodeForReport(report, { minAccuracy: options.minAccuracy ?? null }, io.stderr, NAME);
  } catch (error) {
    return exitCodeForError(error, io.stderr, NAME);
  }
}

/** The outputs checked like the pipeline's (src/output/check-outputs.ts): never a shard's report or predictions. */
async function checkMergeOutputs(
  options: MergeOptions,
  reports: NamedReport[],
): Promise<{ report: string | null; predictions: string | null; html: string | null }> {
  const named = (['report', 'predictions', 'html'] as const).filter((key) => options[key] !== null);
  const predictionFiles = reports.flatMap((r) =>
    r.report.partial?.predictions ? [r.report.partial.predictions.path] : [],
  );
  const pageFiles = reports.flatMap((r) => (typeof r.report.config?.html === 'string' ? [r.report.config.html] : []));
  const inputs: ProtectedFile[] = [
    ...reports.map(({ name: path }) => ({ option: 'SHARD', shown: path, what: 'a shard report', path })),
    ...predictionFiles.map((path) => ({ option: 'SHARD', shown: path, what: "a shard's predictions", path })),
    ...pageFiles.map((path) => ({ option: 'SHARD', shown: path, what: "a shard's HTML page", path })),
  ];
  const pathOf = (key: 'report' | 'predictions' | 'html') =>
    key === 'predictions' && options.predictions === '-' ? STDOUT_PATH : options[key]!;
  const targets = await checkOutputs(
    named.map((key) => ({ option: `--${key}`, path: pathOf(key) })),
    inputs,
  );
  const resolved = { report: null as string | null, predictions: null as string | null, html: null as string | null };
  named.forEach((key, i) => (resolved[key] = targets[i].path));
  return resolved;
}
