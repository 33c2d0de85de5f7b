// The size of the input, when it has one, so progress can show a percentage and an ETA.
import { stat } from 'node:fs/promises';

/**
 * Size in bytes of `input` when it is a regular file; null for '-' (stdin), pipes, devices, and paths
 * that cannot be stat'ed (the CSV reader reports those with a proper message when it opens them).
 */
export async function inputSizeBytes(input: string): Promise<number | null> {
  if (input === '-') return null;
  try {
    const info = await stat(input);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

/** Size and modification time of a regular file (what identifies the input a report counted), else null. */
export async function inputFileStat(input: string): Promise<{ bytes: number; mtimeMs: number } | null> {
  if (input === '-') return null;
  try {
    const info = await stat(input);
    return info.isFile() ? { bytes: info.size, mtimeMs: info.mtimeMs } : null;
  } catch {
    return null;
  }
}
