// The command-line check of a run's outputs, before anything starts: every output must be something we
// can write (not a directory, in an existing folder, see target.ts), and no output may be the same file
// as an input (the CSV, the model, stdin redirected from a file) or as another output. "The same" is
// decided by identity, not spelling: real paths, and device + inode of existing files, so symlinks,
// hard links, `..` and bind mounts are all seen through. Every refusal is a UsageError (exit 2) that
// names both options.
import { fstatSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { lockOwnerPathFor, lockPathFor, parseTempName } from './names.js';
import { fileId, inspectOutput, OutputPathError, sameId, type FileId, type OutputTarget } from './target.js';

/** A file the run reads, which no output may touch. */
export interface ProtectedFile {
  /** How the user named it, for messages: `--input`, `--model`, `IN`. */
  option: string;
  /** As given (or the default), for messages. */
  shown: string;
  /** What it is: `the input`, `the model`. */
  what: string;
  /** Its path, or null when it is known only by identity (stdin). */
  path: string | null;
  /** Its identity when already known (stdin's fstat); otherwise taken from `path`. */
  id?: FileId | null;
}

export interface OutputOption {
  option: string;
  path: string;
}

/** The identity of stdin when it is a file (`< in.csv`): reports must not replace it either. */
export function stdinFileId(fd = 0): FileId | null {
  try {
    const info = fstatSync(fd);
    return info.isFile() ? { dev: info.dev, ino: info.ino } : null;
  } catch {
    return null;
  }
}

/** The real path of an input; for one that does not exist yet (the MNIST CSV made on first use), where it will be. */
async function realOrNull(path: string | null): Promise<string | null> {
  if (path === null) return null;
  try {
    return await realpath(path);
  } catch {
    return join(await realpath(dirname(path)).catch(() => resolve(dirname(path))), basename(path));
  }
}

/**
 * What `path` would be next to the output `target`: its lock, its lock's owner file or one of its temp
 * files (which a later run may remove as stale: src/output/stale-temps.ts), or null. A file with such a
 * name would be overwritten or deleted by the run.
 */
function sidecarRole(target: OutputTarget, path: string): string | null {
  if (target.kind === 'in-place' || dirname(path) !== dirname(target.path)) return null;
  if (path === lockPathFor(target.path)) return 'the lock';
  if (path === lockOwnerPathFor(target.path)) return "the lock's owner file";
  return parseTempName(basename(target.path), basename(path)) === null ? null : 'a temp file';
}

const same = (a: { id: FileId | null; real: string | null }, b: { id: FileId | null; real: string | null }) =>
  sameId(a.id, b.id) || (a.real !== null && a.real === b.real);

/**
 * A model file written by convert or train: like any output (checkOutputs), and a regular file (a model
 * is replaced atomically; a device or a pipe is no place for one). Returns its real path.
 */
export async function checkModelOutput(output: OutputOption, inputs: ProtectedFile[]): Promise<string> {
  const [target] = await checkOutputs([output], inputs);
  if (target.kind === 'in-place')
    throw new UsageError(
      `${output.option} ${output.path} is a device, a FIFO or an open descriptor; a model file must be a regular file`,
    );
  return target.path;
}

/**
 * Resolves every output (OutputTarget, in the order given) and refuses any that cannot be written or
 * that is an input or another output. Reads nothing but the file system's metadata.
 */
export async function checkOutputs(outputs: OutputOption[], inputs: ProtectedFile[]): Promise<OutputTarget[]> {
  const targets: OutputTarget[] = [];
  for (const { option, path } of outputs) {
    try {
      targets.push(await inspectOutput(path));
    } catch (error) {
      if (error instanceof OutputPathError) throw new UsageError(`${option} ${path}: ${error.problem}`);
      throw error;
    }
  }
  const protectedFiles = await Promise.all(
    inputs.map(async (input) => ({
      ...input,
      id: input.id ?? (input.path === null ? null : await fileId(input.path)),
      real: await realOrNull(input.path),
    })),
  );
  targets.forEach((target, i) => {
    const output = { id: target.id, real: target.path };
    for (const input of protectedFiles) {
      if (same(output, input)) {
        throw new UsageError(
          `${outputs[i].option} ${target.given} is the same file as ${input.option} ${input.shown}` +
            `; refusing to overwrite ${input.what}`,
        );
      }
      const role = input.real === null ? null : sidecarRole(target, input.real);
      if (role)
        throw new UsageError(
          `${input.option} ${input.shown} has the name of ${role} of ${outputs[i].option} ${target.given}; rename ` +
            `one of them`,
        );
    }
    for (let j = 0; j < targets.length; j++) {
      const role = j === i ? null : sidecarRole(target, targets[j].path);
      if (role)
        throw new UsageError(
          `${outputs[j].option} ${targets[j].given} has the name of ${role} of ${outputs[i].option} ${target.given}; ` +
            `rename one of them`,
        );
    }
    for (let j = 0; j < i; j++) {
      if (same(output, { id: targets[j].id, real: targets[j].path })) {
        throw new UsageError(
          `${outputs[j].option} ${targets[j].given} and ${outputs[i].option} ${target.given} are the same file; give ` +
            `each output its own file`,
        );
      }
    }
  });
  return targets;
}
