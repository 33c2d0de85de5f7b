// Temp files that dead runs left next to an output (kill -9, a power cut, a crash in the middle of a
// write). The run that now holds the lock on the output removes them before it writes: no other run can
// be writing that output (it would need the lock), so a temp file is stale when the process named in it
// is gone from this machine, or, for one we cannot judge that way (another host on a shared folder, an
// older nnpipe that did not put its pid in the name), when it has not been touched for `staleMs` (the
// lock's own stale time: its writer would have lost the lock by then).
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseTempName } from './names.js';

/** True when a process with this pid exists here (EPERM: it exists, it is someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the stale temp files of the output at `path` (its real path); returns the paths removed. */
export async function removeStaleTemps(path: string, staleMs: number, now = Date.now()): Promise<string[]> {
  const folder = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return []; // an unreadable folder: the write itself will say what is wrong
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const temp = parseTempName(name, entry);
    if (temp === null || temp.pid === process.pid) continue;
    const file = join(folder, entry);
    try {
      const info = await stat(file);
      if (!info.isFile()) continue;
      const dead = temp.pid !== null && !processAlive(temp.pid);
      if (!dead && now - info.mtimeMs < staleMs) continue;
      await unlink(file);
      removed.push(file);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}
