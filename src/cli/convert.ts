// `nnpipe convert IN OUT [--activation ...] [--output ...] [--normalize ...]` (also `npm run convert -- IN OUT ...`)
// Reads a model in any supported format (safetensors, npz, the book's pickle, a PyTorch state_dict, ONNX),
// checks that it is a usable network, and writes it as .safetensors (or .npz) with the canonical names
// (W1, b1, ..., weights (in, out)) and the metadata the pipeline reads: activation, output, normalize,
// layer_sizes. A conversion can so be frozen. Exit codes: 0 written, 1 bad model / I/O, 2 bad usage.
import { Command } from 'commander';
import { addOptions, choice, validateOptions, type OptionValues } from './option-table.js';
import { forCli, usageExitCode } from './usage.js';
import { isEntryPoint, quietOnClosedStdout } from './entry.js';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { checkModelOutput } from '../output/check-outputs.js';
import { loadModel } from '../nn/load-model.js';
import { MODEL_EXTENSIONS_TEXT, outputFormatForPath, readModelFile, writeModelFile } from '../nn/model-files/index.js';
import { tensorsFromNetwork } from '../nn/network.js';
import { ACTIVATIONS, OUTPUT_FUNCTIONS } from '../nn/types.js';
import { NORMALIZATIONS } from '../data/normalize.js';

const PROGRAM = 'nnpipe convert';

/** The options of `nnpipe convert` (see option-table.ts). */
export const CONVERT_OPTIONS = {
  activation: choice('--activation <name>', 'hidden-layer activation to record', ACTIVATIONS, {
    defaultText: 'from IN, else sigmoid',
  }),
  output: choice('--output <name>', 'output function to record', OUTPUT_FUNCTIONS, {
    defaultText: 'from IN, else softmax',
  }),
  normalize: choice('--normalize <mode>', 'input normalisation to record', NORMALIZATIONS, {
    defaultText: 'carried over from IN, if any',
  }),
};

type ConvertOptions = OptionValues<typeof CONVERT_OPTIONS>;

/** `nnpipe convert <in> <out> [options]`. */
export function convertCommand(): Command {
  const command = new Command(PROGRAM)
    .description(
      `Convert a model file (${MODEL_EXTENSIONS_TEXT}) to .safetensors or .npz with the names W1, b1, ... ((in, ` +
        'out) weights), recording how to run it.',
    )
    .argument('<in>', `model file to read (${MODEL_EXTENSIONS_TEXT})`)
    .argument('<out>', 'file to write (.safetensors, or .npz)')
    .helpOption('-h, --help', 'show this help');
  return addOptions(command, CONVERT_OPTIONS);
}

/** Runs the command; returns the exit code. Messages go to the given streams. */
export async function main(
  argv: string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  const program = convertCommand();
  forCli(program, { stdout: { write: io.out }, stderr: { write: io.err } }, PROGRAM);

  let options: ConvertOptions;
  try {
    program.parse(argv, { from: 'user' });
    options = validateOptions(program, CONVERT_OPTIONS);
  } catch (error) {
    return usageExitCode(error, PROGRAM, { write: io.err });
  }

  const [input, output] = program.args as [string, string];
  try {
    io.out(`${await convert(input, output, options)}\n`);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof PipelineError) {
      io.err(`${PROGRAM}: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`${PROGRAM}: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return ExitCode.failed;
  }
}

/** Converts IN to OUT and returns the line to print. */
async function convert(input: string, output: string, options: ConvertOptions): Promise<string> {
  const format = outputFormatForPath(output);
  if (!format) throw new UsageError(`OUT must end in .safetensors or .npz, got '${output}'`);
  // By identity (symlinks, hard links), before anything is read: OUT must not be IN, a folder, a device.
  await checkModelOutput({ option: 'OUT', path: output }, [
    { option: 'IN', shown: input, what: 'the input model', path: input },
  ]);

  const model = await loadModel(input, {
    activation: options.activation ?? undefined,
    output: options.output ?? undefined,
  });
  const { network, layerSizes } = model;
  const normalize = options.normalize ?? model.normalize;
  // Free-form keys (training notes and the like) are carried over; the keys we own are rewritten.
  const metadata: Record<string, string> = { ...model.metadata };
  delete metadata.normalize;
  Object.assign(metadata, {
    activation: network.activation,
    output: network.output,
    layer_sizes: JSON.stringify(layerSizes),
    ...(normalize ? { normalize } : {}),
  });
  await writeModelFile(output, tensorsFromNetwork(network), metadata);

  // Read the result back: what we print is what the pipeline will load.
  const written = await readModelFile(output);
  const transposed = model.layerSources.filter((source) => source.transposed).map((source) => source.weight);
  return (
    `wrote ${output} (${written.format}, layers ${layerSizes.join('-')}, activation ${network.activation}` +
    `, output ${network.output}, ` +
    `normalize ${normalize ?? 'not recorded'}, ${written.sizeBytes} bytes, sha256 ${written.sha256}) from ${input}` +
    ` (${model.format}` +
    `${transposed.length > 0 ? `; transposed ${transposed.join(', ')}` : ''})`
  );
}

if (isEntryPoint(import.meta.url)) {
  quietOnClosedStdout();
  process.exitCode = await main(process.argv.slice(2));
}
