// Writes a whole file so that readers see either the old content or the new one, never a torn file:
// the write-file-atomic package writes a temp file next to the target, fsyncs it, renames it over the
// target, and removes the temp file when anything fails.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PipelineError } from '../errors.js';

/**
 * Atomically replaces `path` with `data`, creating the parent folder first. I/O failures become a
 * PipelineError with code PIPE_ERR_OUTPUT (the original error as `cause`); the old file stays intact.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // The package's types say Buffer; a Buffer view over the same memory avoids a copy.
  const bytes = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    await mkdir(dirname(path), { recursive: true });
    // Loaded on first use: most runs write no file, and the CLI starts faster without it.
    const { default: writeFileAtomicPackage } = await import('write-file-atomic');
    await writeFileAtomicPackage(path, bytes);
  } catch (error) {
    throw new PipelineError('PIPE_ERR_OUTPUT', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
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
