// The size of the input, when it has one, so progress can show a percentage and an ETA.
import { stat } from 'node:fs/promises';

/**
 * Size and modification time of a regular file (what identifies the input a report counted); null for '-', pipes,
 * devices and paths that cannot be stat'ed (the reader reports those).
 */
export async function inputFileStat(input: string): Promise<{ bytes: number; mtimeMs: number } | null> {
  if (input === '-') return null;
  const info = await stat(input).catch(() => null);
  return info?.isFile() ? { bytes: info.size, mtimeMs: info.mtimeMs } : null;
}

/** Size in bytes of `input` when it is a regular file, else null. */
export const inputSizeBytes = async (input: string): Promise<number | null> =>
  (await inputFileStat(input))?.bytes ?? null;
