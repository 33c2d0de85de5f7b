// The documentation of every command's options, made from the commands themselves (whose options come
// from their tables, option-table.ts): one markdown table per command (option, default, meaning) for
// docs/cli.md and, for the pipeline, README.md, between `<!-- options:COMMAND:start -->` and
// `<!-- options:COMMAND:end -->`. scripts/docs.mjs writes them; test/cli/options-doc.test.ts
// checks that the files agree.
import { replaceMarkedBlock } from './marked-blocks.js';
import type { Command, Option } from 'commander';
import { convertCommand } from './convert.js';
import { dataCommand } from './data.js';
import { experimentCommand } from './experiment-options.js';
import { historyCommand } from './history.js';
import { inspectCommand } from './inspect.js';
import { mergeCommand } from './merge.js';
import { pipelineCommand } from './pipeline-options.js';
import { resultCommand } from './result.js';
import { scheduleCommand } from './schedule.js';
import { submitCommand } from './submit.js';
import { trainCommand } from './train.js';
import { withConventions } from './usage.js';
import { workerCommand } from './worker.js';

/** Every command of `nnpipe`, in the order docs/cli.md lists them ('pipeline' is `nnpipe` itself). */
export const COMMANDS: Record<string, () => Command> = {
  pipeline: pipelineCommand,
  inspect: inspectCommand,
  convert: convertCommand,
  data: dataCommand,
  train: trainCommand,
  experiment: experimentCommand,
  schedule: scheduleCommand,
  history: historyCommand,
  merge: mergeCommand,
  worker: workerCommand,
  submit: submitCommand,
  result: resultCommand,
};

/** A command as its --help shows it (with --version, numeric defaults unquoted). */
export function builtCommand(name: string): Command {
  const command = COMMANDS[name]();
  withConventions(command);
  return command;
}

/** --help and --version, which every command has: said once at the top of docs/cli.md. */
const everywhere = (option: Option) => option.long === '--help' || option.long === '--version';

/** The options a command documents: what --help lists, but --help and --version. */
export function documentedOptions(command: Command): Option[] {
  return command.options.filter((option) => !option.hidden && !everywhere(option));
}

/** The default as --help shows it, without commander's quotes; '' for none. */
export function shownDefault(option: Option): string {
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  if (option.defaultValue === undefined) return '';
  return typeof option.defaultValue === 'string' ? option.defaultValue : JSON.stringify(option.defaultValue);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The help text, and the choices unless it already names every one (`unit = x/255, none = ...`). */
function meaning(option: Option): string {
  const named = option.argChoices?.every((c) =>
    new RegExp(`(^|[^\\w-])${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( =|,|:| or|$)`).test(option.description),
  );
  const choices = option.argChoices && !named ? ` (one of ${option.argChoices.map((c) => `\`${c}\``).join(', ')})` : '';
  return cell(`${option.description}${choices}`);
}

function defaultCell(option: Option): string {
  const shown = shownDefault(option);
  if (shown === '') return 'none';
  // A value is code; a described default (`the model's, else unit`) is prose.
  const isValue = option.defaultValueDescription === undefined || /^-?[0-9.]+$/.test(shown);
  return cell(isValue ? `\`${shown}\`` : shown);
}

/** The markdown table of a command's options. */
export function optionsTable(command: Command): string {
  const rows = documentedOptions(command).map(
    (option) => `| \`${cell(option.flags)}\` | ${defaultCell(option)} | ${meaning(option)} |`,
  );
  return ['| Option | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The table between the markers of one command. */
export function optionsBlock(name: string): string {
  return `<!-- options:${name}:start -->\n${optionsTable(builtCommand(name))}\n<!-- options:${name}:end -->`;
}

/** `text` with the marked block of `name` replaced (null when the markers are not there). */
export function replaceBlock(text: string, name: string): string | null {
  return replaceMarkedBlock(text, `options:${name}`, optionsTable(builtCommand(name)));
}

/** The usage line of a command, as --help starts. */
export function usageLine(name: string): string {
  const command = builtCommand(name);
  return `${command.name()} ${command.usage()}`;
}

/** docs/cli.md, whole. */
export function cliDoc(): string {
  const sections = Object.keys(COMMANDS).map((name) => {
    const command = builtCommand(name);
    return [
      `## ${name === 'pipeline' ? '`nnpipe` (the pipeline)' : `\`nnpipe ${name}\``}`,
      '',
      '```',
      usageLine(name),
      '```',
      '',
      command.description(),
      '',
      optionsBlock(name),
    ].join('\n');
  });
  return [
    '# Command line',
    '',
    '<!-- Written by `npm run docs` (scripts/docs.mjs) from the option tables in src/cli/; do not edit by hand. -->',
    '',
    'Every command is `nnpipe <command> [options]` (`nnpipe [options]` runs the pipeline); the npm scripts',
    '(`npm run train -- ...`) run the same commands. Every command also takes `--help` and `--version`',
    '(`-V`). A bad option is exit 2 with one line naming it.',
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n');
}
