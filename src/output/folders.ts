// Folders for outputs: creating the missing ones safely, and making a rename durable.
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * mkdir -p without `mkdir(..., { recursive: true })`: Node's recursive mkdir spins forever at 100% CPU
 * when a parent exists but cannot hold children (a path under /proc, a dangling symlink), because it
 * reads ENOENT as "parent missing" and retries (nodejs/node#27198 is the Windows cousin). Here each
 * missing folder is created once, from the top, and any error is final. A part of the path that exists
 * and is not a folder throws `notAFolder(thatPath)`.
 */
export async function ensureFolder(dir: string, notAFolder: (path: string) => Error): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(current)).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
      continue;
    }
    if (!isFolder) throw notAFolder(current);
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // made by someone else meanwhile
    }
  }
}

/** fsync a folder so the rename itself survives a crash. Not possible everywhere (Windows): best effort. */
export async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM / EINVAL on platforms that cannot fsync a directory; the data itself is synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
