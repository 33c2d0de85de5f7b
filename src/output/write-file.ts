// Writes a whole output file so that readers see either the old content or the new one, never a torn
// file: a temp file next to the target (named by names.ts: within NAME_MAX, with our pid), fsync,
// rename over the target, fsync the folder. A symlink is followed: the file it names is replaced and
// the link stays. An existing file keeps its permissions (and, for root, its owner).
//
// A character device or FIFO (/dev/null, /dev/stdout, a named pipe) has no folder entry to replace:
// it is written in place, and a write error (ENOSPC from a full device) is an error like any other.
// (write-file-atomic did this job before; it cannot name its temp files, and the next run must be
// able to recognise a dead run's temp file to remove it, see stale-temps.ts.)
import { close, constants, fchmod, fchown, fsync, open, unlinkSync, writeFile } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PipelineError } from '../errors.js';
import { ensureFolder, syncFolder } from './folders.js';
import { tempPathFor } from './names.js';
import { inspectOutput, OutputPathError, type OutputTarget } from './target.js';

/**
 * The error for an output that could not be written (exit 1; 141 when a pipe's reader has gone); the old file,
 * if any, is intact.
 */
export function outputWriteError(path: string, error: unknown, what = ''): PipelineError {
  // A pipe whose reader has gone (`--predictions - | head`): nothing more can be written, nothing is wrong.
  if ((error as NodeJS.ErrnoException)?.code === 'EPIPE')
    return new PipelineError('PIPE_ERR_OUTPUT_CLOSED', `cannot write ${what}${path}: its reader closed it`, {
      cause: error,
    });
  if (error instanceof OutputPathError)
    return new PipelineError('PIPE_ERR_OUTPUT', `cannot write ${what}${error.message}`, { cause: error });
  if (error instanceof PipelineError) return error;
  return new PipelineError('PIPE_ERR_OUTPUT', `cannot write ${what}${path}: ${(error as Error).message}`, {
    cause: error,
  });
}

/** Removes `path` if the process exits before `done()` is called (exit handlers must be synchronous). */
export function removeOnExit(path: string): () => void {
  const onExit = (): void => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  return () => process.removeListener('exit', onExit);
}

// Plain numeric fds: PredictionsWriter streams into them (a FileHandle-backed stream with autoClose off
// keeps a reference on the handle, and closing the handle then waits forever).
const openFd = promisify(open);
const closeFd = promisify(close);
const fsyncFd = promisify(fsync);
const writeFd = promisify(writeFile) as (fd: number, data: Uint8Array) => Promise<void>;

/**
 * Opens an in-place output (a device, a FIFO, an open descriptor) to append, without ever creating a
 * file. `owned: false`: one of this process's own descriptors, which must be written but never closed.
 */
export async function openInPlace(target: OutputTarget): Promise<{ fd: number; owned: boolean }> {
  if (target.fd !== undefined) return { fd: target.fd, owned: false };
  return { fd: await openFd(target.path, constants.O_WRONLY | constants.O_APPEND), owned: true };
}

/** Opens a fresh temp file for `target` in its folder, with the target's permissions when it exists. */
export async function openTemp(target: OutputTarget): Promise<{ tempPath: string; fd: number }> {
  const tempPath = tempPathFor(target.path);
  const fd = await openFd(tempPath, 'wx', 0o666);
  try {
    if (target.kind === 'file') await keepOwnership(fd, target.path);
  } catch (error) {
    await closeFd(fd).catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  return { tempPath, fd };
}

/** What replaces a file looks like it: same mode, and (only root can) same owner. */
async function keepOwnership(fd: number, path: string): Promise<void> {
  const old = await stat(path);
  await promisify(fchmod)(fd, old.mode & 0o7777);
  if (process.getuid?.() === 0 && (old.uid !== 0 || old.gid !== 0)) await promisify(fchown)(fd, old.uid, old.gid);
}

async function writeInPlace(target: OutputTarget, bytes: Uint8Array): Promise<void> {
  const { fd, owned } = await openInPlace(target);
  try {
    await writeFd(fd, bytes);
  } finally {
    if (owned) await closeFd(fd);
  }
}

async function replaceAtomically(target: OutputTarget, bytes: Uint8Array): Promise<void> {
  const { tempPath, fd } = await openTemp(target);
  const forget = removeOnExit(tempPath);
  let closed = false;
  let renamed = false;
  try {
    await writeFd(fd, bytes);
    await fsyncFd(fd);
    closed = true;
    await closeFd(fd);
    await rename(tempPath, target.path);
    renamed = true;
  } finally {
    if (!closed) await closeFd(fd).catch(() => undefined);
    if (!renamed) await unlink(tempPath).catch(() => undefined);
    forget();
  }
  await syncFolder(dirname(target.path));
}

/**
 * Replaces `path` with `data` (atomically for a file, in place for a device or FIFO), creating missing
 * folders first. Failures are a PipelineError with code PIPE_ERR_OUTPUT (the original error as
 * `cause`); the old file stays intact.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    await ensureFolder(dirname(resolve(path)), (folder) => new OutputPathError(path, `${folder} is not a folder`));
    const target = await inspectOutput(path);
    if (target.kind === 'in-place') await writeInPlace(target, bytes);
    else await replaceAtomically(target, bytes);
  } catch (error) {
    throw outputWriteError(path, error);
  }
}

/**
 * Atomically writes `JSON.stringify(value, null, 2) + '\n'`. Serialisation happens before anything
 * touches the disk, so a value that cannot be serialised (a throwing toJSON, a BigInt, a cycle) throws its
 * own error and leaves the old file as it was.
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined) throw new TypeError(`writeJsonAtomic: ${typeof value} has no JSON representation`);
  await writeFileAtomic(path, `${text}\n`);
}
