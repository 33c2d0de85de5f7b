// The run lock: two nnpipe processes that would write the same output file (report, predictions, HTML
// page, history) never run at the same time, even when two different schedulers start them.
//
// proper-lockfile does the locking: `mkdir FILE.lock` (atomic, also on NFS, unlike O_EXCL), kept fresh by
// touching its mtime every few seconds; a lock whose mtime is older than `staleMs` belongs to a process
// that died without cleaning up (kill -9, power cut) and is taken over. So a crashed run blocks the next
// one for at most `staleMs`, never forever. Each distinct output file gets its own lock, so two runs
// conflict exactly when they share an output file (sharing only the history file is a conflict too).
// A lock is named after the file's real path (symlinks followed, see src/output/target.ts): two runs
// that reach one file by different names take the same lock. Its name stays within NAME_MAX
// (src/output/names.ts). A character device or FIFO is not locked: it is written in place, there is no
// file to replace, and a lock directory has no business in /dev.
//
// Next to each lock we write FILE.lock-owner (pid, host, start time), only so that a refused run can say
// who holds the lock; proper-lockfile removes its lock directory with rmdir, so nothing may go inside it.
import { renameSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { PipelineError } from '../errors.js';
import { lockOwnerPathFor, lockPathFor, tempPathFor } from '../output/names.js';
import { processAlive } from '../output/stale-temps.js';
import { inspectOutput } from '../output/target.js';

/**
 * A lock that is not refreshed for this long is taken over. Generous: a GC pause or a busy event loop must not lose it.
 */
export const DEFAULT_LOCK_STALE_MS = 30_000;
/** proper-lockfile's own lower bound. */
export const MIN_LOCK_STALE_MS = 2_000;

export interface LockTarget {
  /** The path as the user gave it (for messages). */
  path: string;
}

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Another run holds the lock on one of our output files. Exit 75 (EX_TEMPFAIL: try again later). */
export class LockHeldError extends PipelineError {
  readonly path: string;
  readonly owner: LockOwner | null;
  constructor(path: string, owner: LockOwner | null, staleMs: number, lockPath = `${path}.lock`) {
    super('PIPE_ERR_LOCKED', lockHeldMessage(path, owner, staleMs, lockPath));
    this.name = 'LockHeldError';
    this.path = path;
    this.owner = owner;
  }
}

function lockHeldMessage(path: string, owner: LockOwner | null, staleMs: number, lockPath: string): string {
  if (!owner) return `another nnpipe run holds the lock on ${path} (holder unknown: ${lockPath} exists)`;
  const where = owner.host === hostname() ? '' : ` on ${owner.host}`;
  const gone =
    owner.host === hostname() && !processAlive(owner.pid)
      ? `; that process is gone, so the lock is taken over ${Math.round(staleMs / 1000)} s after its last refresh`
      : '';
  return `another nnpipe run holds the lock on ${path} (pid ${owner.pid}${where}, since ${owner.since}${gone})`;
}

const ownerFile = lockOwnerPathFor;

function readOwner(canonical: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(ownerFile(canonical), 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.since === 'string') {
      return { pid: owner.pid, host: owner.host, since: owner.since };
    }
  } catch {
    // missing or half-written: unknown holder
  }
  return null;
}

/**
 * The holder writes its owner file just after taking the lock: a run that finds the lock in that
 * instant waits a moment for it (at most OWNER_WAIT_MS), so that its message can name the holder.
 */
const OWNER_WAIT_MS = 500;
async function awaitOwner(canonical: string): Promise<LockOwner | null> {
  for (let waited = 0; ; waited += 25) {
    const owner = readOwner(canonical);
    if (owner !== null || waited >= OWNER_WAIT_MS) return owner;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function writeOwner(canonical: string, owner: LockOwner): void {
  const file = ownerFile(canonical);
  const temp = tempPathFor(file);
  writeFileSync(temp, `${JSON.stringify(owner)}\n`);
  renameSync(temp, file);
}

/** Removes the owner file unless another process has taken the lock over (and written its own). */
function removeOwnerIfOurs(canonical: string): void {
  const owner = readOwner(canonical);
  if (owner && (owner.pid !== process.pid || owner.host !== hostname())) return;
  try {
    unlinkSync(ownerFile(canonical));
  } catch {
    // already gone
  }
}

/** The real path a lock is named after, or null for an output that is not locked (a device, a FIFO). */
async function canonicalPath(path: string): Promise<string | null> {
  const target = await inspectOutput(path);
  return target.kind === 'in-place' ? null : target.path;
}

export interface RunLockOptions {
  staleMs?: number;
  /** The lock was lost (not refreshed in time and taken over by another process). */
  onCompromised?: (path: string, error: Error) => void;
}

export class RunLock {
  private released = false;
  private readonly removeOwnersOnExit = () => this.removeOwnerFiles();

  private constructor(private readonly held: { canonical: string; release: () => Promise<void> }[]) {
    // A forced exit (second signal) skips release(); proper-lockfile removes its directories on exit
    // itself, and this removes our owner files.
    process.on('exit', this.removeOwnersOnExit);
  }

  /** The canonical paths that are locked. */
  get paths(): string[] {
    return this.held.map((h) => h.canonical);
  }

  /**
   * Locks every distinct path, in a fixed order, without waiting: a path that is locked by someone else
   * releases what was taken and throws LockHeldError.
   */
  static async acquire(targets: LockTarget[], options: RunLockOptions = {}): Promise<RunLock> {
    const staleMs = Math.max(MIN_LOCK_STALE_MS, options.staleMs ?? DEFAULT_LOCK_STALE_MS);
    const byCanonical = new Map<string, string>();
    for (const target of targets) {
      let canonical: string | null;
      try {
        canonical = await canonicalPath(target.path);
      } catch (error) {
        throw new PipelineError('PIPE_ERR_LOCK', `cannot lock ${target.path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (canonical !== null && !byCanonical.has(canonical)) byCanonical.set(canonical, target.path);
    }
    const held: { canonical: string; release: () => Promise<void> }[] = [];
    // Loaded only when there is something to lock (most interactive runs write no file).
    const { default: lockfile } = await import('proper-lockfile');
    const since = new Date().toISOString();
    try {
      for (const canonical of [...byCanonical.keys()].sort()) {
        let release: () => Promise<void>;
        try {
          release = await lockfile.lock(canonical, {
            realpath: false,
            lockfilePath: lockPathFor(canonical),
            stale: staleMs,
            retries: 0,
            // The default throws from a timer, which would crash the process (and a warm scheduler with it).
            onCompromised: (error) => options.onCompromised?.(byCanonical.get(canonical)!, error),
          });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
            throw new LockHeldError(
              byCanonical.get(canonical)!,
              await awaitOwner(canonical),
              staleMs,
              lockPathFor(canonical),
            );
          }
          throw new PipelineError(
            'PIPE_ERR_LOCK',
            `cannot lock ${byCanonical.get(canonical)}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        held.push({ canonical, release });
        try {
          writeOwner(canonical, { pid: process.pid, host: hostname(), since });
        } catch {
          // Only used for messages; the lock itself is what matters.
        }
      }
    } catch (error) {
      await RunLock.releaseAll(held);
      throw error;
    }
    return new RunLock(held);
  }

  private static async releaseAll(held: { canonical: string; release: () => Promise<void> }[]): Promise<void> {
    for (const { canonical, release } of held.reverse()) {
      removeOwnerIfOurs(canonical);
      // ERELEASED after a compromise: nothing left to release.
      await release().catch(() => undefined);
    }
  }

  private removeOwnerFiles(): void {
    for (const { canonical } of this.held) removeOwnerIfOurs(canonical);
  }

  /** Releases every lock; safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.removeOwnersOnExit);
    await RunLock.releaseAll([...this.held]);
  }
}
