// `nnpipe inspect MODEL [--json]` (also `npm run inspect -- MODEL`): what a model file holds and how the
// pipeline will run it, without running anything. Exit 0: described; 1: the file cannot be used (the
// message says why); 2: bad command line.
import { Command } from 'commander';
import { ExitCode, PipelineError } from '../errors.js';
import { describeModelFile, type ModelDescription } from '../nn/describe-model.js';
import { MODEL_EXTENSIONS_TEXT } from '../nn/model-files/index.js';
import { addOptions, flag, validateOptions, type OptionValues } from './option-table.js';
import { forCli, usageExitCode } from './usage.js';

const NAME = 'nnpipe inspect';

export function inspectCommand(): Command {
  return addOptions(new Command(NAME), INSPECT_OPTIONS)
    .description(
      `Describe a model file (${MODEL_EXTENSIONS_TEXT}): format, sha256, layers with shapes and functions, ` +
        'parameters, FLOPs per image (2*in*out + out per layer), metadata, and what loading it renamed or transposed.',
    )
    .argument('<model>', 'the model file')
    .allowExcessArguments(false)
    .showHelpAfterError('(run with --help for usage)');
}

/** Every option of `nnpipe inspect`, once (see option-table.ts). */
export const INSPECT_OPTIONS = { json: flag('--json', 'print one JSON document instead of text') };

export async function runInspectCli(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  const command = forCli(inspectCommand(), io, NAME);
  let options: OptionValues<typeof INSPECT_OPTIONS>;
  try {
    command.parse(argv, { from: 'user' });
    options = validateOptions(command, INSPECT_OPTIONS);
  } catch (error) {
    return usageExitCode(error, NAME, io.stderr);
  }
  try {
    const description = await describeModelFile(command.args[0]);
    io.stdout.write(options.json ? `${JSON.stringify(description, null, 2)}\n` : formatDescription(description));
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof PipelineError) {
      io.stderr.write(`${NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

const from = (source: ModelDescription['activation']['from'], flag: string): string =>
  ({
    option: 'from the command line',
    graph: 'from the graph',
    metadata: "from the file's metadata",
    default: `the default: the file does not say; the pipeline takes ${flag}`,
  })[source];

export function formatDescription(d: ModelDescription): string {
  const number = (n: number) => n.toLocaleString('en-US');
  const shape = (dims: number[]) => `(${dims.join(', ')})`;
  const rows = d.layers.map((layer, k) => [
    `${k + 1}`,
    `${layer.weight} ${shape(layer.storedShape)}${layer.transposed ? ' transposed' : ''}, ${layer.bias ?? 'no bias'}`,
    `${layer.inputs} -> ${layer.outputs}`,
    k === d.layers.length - 1 ? `${layer.function} (output)` : layer.function,
  ]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  const metadata = Object.entries(d.metadata);
  const lines = [
    `model       ${d.path}`,
    `format      ${d.format}: ${d.formatName}, ${number(d.sizeBytes)} bytes`,
    `sha256      ${d.sha256}`,
    `layers      ${d.layerSizes.join('-')}: ${d.layers.length} dense, ${number(d.parameters)} parameters, ` +
      `${number(d.flopsPerImage)} FLOPs per image`,
    ...rows.map(
      (row) => `  ${row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell)).join('  ')}`,
    ),
    `activation  ${d.activation.value} (${from(d.activation.from, '--activation')})`,
    `output      ${d.output.value} (${from(d.output.from, '--output')})`,
    `normalize   ${d.normalize ?? 'not recorded (the pipeline takes --normalize, default unit: x/255)'}`,
    `metadata    ${metadata.length === 0 ? '(none)' : metadata.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(', ')}`,
    `renamed     ${
      d.renamed.length === 0 ? '(nothing)' : d.renamed.map(({ from, to }) => `${from} -> ` + `${to}`).join(', ')
    }`,
    `transposed  ${d.transposed.length === 0 ? '(nothing)' : d.transposed.join(', ')}`,
    ...d.notes.map((note, k) => `${k === 0 ? 'notes       ' : '            '}${note}`),
  ];
  return `${lines.join('\n')}\n`;
}
