// `npm run convert -- IN OUT [--activation ...] [--output ...] [--normalize ...]`
// Reads a model in any supported format (safetensors, npz, the book's pickle, a PyTorch state_dict, ONNX),
// checks that it is a usable network, and writes it as .safetensors (or .npz) with the canonical names
// (W1, b1, ..., weights (in, out)) and the metadata the pipeline reads: activation, output, normalize,
// layer_sizes. A conversion can so be frozen. Exit codes: 0 written, 1 bad model / I/O, 2 bad usage.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { forCli, usageExitCode } from './usage.js';
import { ExitCode, PipelineError, UsageError } from '../errors.js';
import { checkModelOutput } from '../output/check-outputs.js';
import { loadModel } from '../nn/load-model.js';
import { outputFormatForPath, readModelFile, writeModelFile } from '../nn/model-files/index.js';
import { tensorsFromNetwork } from '../nn/network.js';
import { ACTIVATIONS, OUTPUT_FUNCTIONS, type Activation, type OutputFunction } from '../nn/types.js';
import { NORMALIZATIONS, type Normalization } from '../data/normalize.js';

const PROGRAM = 'nnpipe convert';

interface ConvertOptions {
  activation?: Activation;
  output?: OutputFunction;
  normalize?: Normalization;
}

/** Runs the command; returns the exit code. Messages go to the given streams. */
export async function main(
  argv: string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  const program = new Command(PROGRAM)
    .description(
      'Convert a model file (.safetensors, .npz, .pkl, .pt/.pth, .onnx) to .safetensors or .npz with the names W1, b1, ... ' +
        '((in, out) weights), recording how to run it.',
    )
    .argument('<in>', 'model file to read (.safetensors, .npz, .pkl/.pickle, .pt/.pth, .onnx)')
    .argument('<out>', 'file to write (.safetensors, or .npz)')
    .addOption(new Option('--activation <name>', 'hidden-layer activation to record (default: from IN, else sigmoid)').choices(ACTIVATIONS))
    .addOption(new Option('--output <name>', 'output function to record (default: from IN, else softmax)').choices(OUTPUT_FUNCTIONS))
    .addOption(new Option('--normalize <mode>', 'input normalisation to record (default: carried over from IN, if any)').choices(NORMALIZATIONS))
    .helpOption('-h, --help', 'show this help');
  forCli(program, { stdout: { write: io.out }, stderr: { write: io.err } }, PROGRAM);

  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    return usageExitCode(error, PROGRAM, { write: io.err });
  }

  const [input, output] = program.args as [string, string];
  try {
    io.out(`${await convert(input, output, program.opts<ConvertOptions>())}\n`);
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
  await checkModelOutput({ option: 'OUT', path: output }, [{ option: 'IN', shown: input, what: 'the input model', path: input }]);

  const model = await loadModel(input, { activation: options.activation, output: options.output });
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
    `wrote ${output} (${written.format}, layers ${layerSizes.join('-')}, activation ${network.activation}, output ${network.output}, ` +
    `normalize ${normalize ?? 'not recorded'}, ${written.sizeBytes} bytes, sha256 ${written.sha256}) from ${input} (${model.format}` +
    `${transposed.length > 0 ? `; transposed ${transposed.join(', ')}` : ''})`
  );
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
