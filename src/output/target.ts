// What an output path really is, by identity rather than spelling: symlinks are followed to the file
// they name (a dangling link to the file it would create), the folder is resolved with realpath, and an
// existing file is known by its device and inode (hard links and bind mounts included).
//
//   file      an existing regular file: replaced atomically (temp file + rename)
//   new       no file there yet, in an existing folder: created atomically
//   in-place  a character device or a FIFO (/dev/null, a named pipe), or an open descriptor
//             (/dev/stdout, /dev/fd/N, /proc/self/fd/N): written where it is, appending. An open
//             descriptor is the shell's redirection (`> out.txt`, `| jq`): replacing the file behind it
//             would cut the process off from its own output.
//
// Anything else is refused with a reason: a directory, a missing folder, a block device (a disk), a
// socket, a symlink loop, a file in a kernel interface (/proc, /sys).
import { constants, type Stats } from 'node:fs';
import { access, lstat, readFile, readlink, realpath, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PipelineError } from '../errors.js';

export type OutputKind = 'file' | 'new' | 'in-place';

/** Device and inode: the same pair is the same file, however it is reached. */
export interface FileId {
  dev: number;
  ino: number;
}

export interface OutputTarget {
  /** The path as given (for messages). */
  given: string;
  /** Absolute, symlinks followed, folder resolved: where the bytes go and what the lock is named after. */
  path: string;
  kind: OutputKind;
  /** Null for a file that does not exist yet. */
  id: FileId | null;
  /**
   * For one of this process's own descriptors (/dev/stdout): its number, written to as it is and never
   * closed (a socket, which is what a parent process's pipe often is, cannot be opened again by path).
   */
  fd?: number;
}

/** The path cannot be an output; `problem` says why (the CLI prefixes the option). Exit 2. */
export class OutputPathError extends PipelineError {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super('PIPE_ERR_OUTPUT_PATH', `${path}: ${problem}`);
    this.name = 'OutputPathError';
    this.path = path;
    this.problem = problem;
  }
}

/** This process's own stdout as an output path (`-` of --predictions): written in place, never replaced. */
export const STDOUT_PATH = '/dev/stdout';

/** Linux's limit on symlinks followed in one lookup. */
const MAX_LINKS = 40;

/** An open descriptor of a process: its target is the open file itself, not a path to replace. */
const OPEN_DESCRIPTOR = /^\/proc\/(self|thread-self|[0-9]+)(\/task\/[0-9]+)?\/fd\/[0-9]+$/;

/** statfs types of kernel interfaces (linux/magic.h), where a "file" is a knob, not data. */
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0xde5e81e4, 'efivarfs'],
  [0x6165676c, 'pstore'],
]);

/** True for /dev/stdout's kind of path: an open descriptor, written in place (see the header). */
export const isOpenDescriptorPath = (path: string): boolean => OPEN_DESCRIPTOR.test(path);

/** The descriptor number when `path` is one of this process's own open descriptors, else null. */
export function ownDescriptor(path: string): number | null {
  const match = /^\/proc\/(self|thread-self|[0-9]+)(\/task\/[0-9]+)?\/fd\/([0-9]+)$/.exec(path);
  if (match === null || (match[1] !== 'self' && match[1] !== 'thread-self' && Number(match[1]) !== process.pid))
    return null;
  return Number(match[3]);
}

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function problemFor(given: string, error: unknown): OutputPathError {
  switch (errno(error)) {
    case 'ELOOP':
      return new OutputPathError(given, 'a loop of symbolic links');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new OutputPathError(given, 'permission denied (cannot write there)');
    case 'ENAMETOOLONG':
      return new OutputPathError(given, 'the name is too long');
    default:
      return new OutputPathError(given, (error as Error).message);
  }
}

/**
 * Follows `path` while it is a symlink (a dangling one too); returns the first path that is not a link
 * (or does not exist), or an open descriptor's path (its link leads to the open file, whatever it is).
 */
async function followLinks(given: string, path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    // Where this path really is (/dev/fd/1 is /proc/<pid>/fd/1): an open descriptor is not followed.
    const here = join(await realpath(dirname(current)).catch(() => dirname(current)), basename(current));
    if (OPEN_DESCRIPTOR.test(here)) return here;
    let info: Stats;
    try {
      info = await lstat(current);
    } catch (error) {
      if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return current;
      throw problemFor(given, error);
    }
    if (!info.isSymbolicLink()) return current;
    // Resolved against the link's real folder, as the kernel does (`..` in a link is relative to it).
    current = resolve(dirname(here), await readlink(current));
  }
  throw new OutputPathError(given, `more than ${MAX_LINKS} symbolic links (a loop?)`);
}

/** The real path of an existing folder we may create files in, or an OutputPathError saying why not. */
async function writableFolder(given: string, folder: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(folder);
  } catch (error) {
    if (errno(error) === 'ENOENT') throw new OutputPathError(given, `the folder ${folder} does not exist`);
    if (errno(error) === 'ENOTDIR') throw new OutputPathError(given, `${folder} is not a folder`);
    throw problemFor(given, error);
  }
  if (!(await stat(real)).isDirectory()) throw new OutputPathError(given, `${folder} is not a folder`);
  const kernel = KERNEL_FILE_SYSTEMS.get(Number((await statfs(real)).type));
  if (kernel) throw new OutputPathError(given, `${real} is in ${kernel}, a kernel interface, not a place for files`);
  try {
    await access(real, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw problemFor(given, error);
  }
  return real;
}

function kindOf(given: string, info: Stats): OutputKind {
  if (info.isFile()) return 'file';
  if (info.isCharacterDevice() || info.isFIFO()) return 'in-place';
  if (info.isDirectory()) throw new OutputPathError(given, 'is a directory; give a file name');
  if (info.isBlockDevice()) throw new OutputPathError(given, 'is a block device (a disk); refusing to write to it');
  throw new OutputPathError(given, 'is a socket, not a file');
}

/** An open descriptor (/dev/stdout): written in place whatever it leads to, except what we refuse anywhere. */
async function openDescriptor(given: string, path: string): Promise<OutputTarget> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw errno(error) === 'ENOENT'
      ? new OutputPathError(given, `${path} is not an open file descriptor`)
      : problemFor(given, error);
  }
  const fd = ownDescriptor(path);
  // Another process's socket cannot be opened by path; ours is written through its number.
  if (!info.isFile() && !(info.isSocket() && fd !== null)) kindOf(given, info);
  if (fd !== null && !(await openForWriting(fd)))
    throw new OutputPathError(given, `descriptor ${fd} is open for reading only`);
  return { given, path, kind: 'in-place', id: { dev: info.dev, ino: info.ino }, ...(fd === null ? {} : { fd }) };
}

/** Whether one of our descriptors was opened for writing (its fdinfo flags; true when they cannot be read). */
async function openForWriting(fd: number): Promise<boolean> {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return flags === null || (parseInt(flags[1], 8) & 3) !== constants.O_RDONLY; // 3: O_ACCMODE
  } catch {
    return true;
  }
}

/**
 * Where an output path leads. Throws OutputPathError (exit 2) when it cannot be an output; never
 * creates anything.
 */
export async function inspectOutput(given: string): Promise<OutputTarget> {
  const end = await followLinks(given, resolve(given));
  if (OPEN_DESCRIPTOR.test(end)) return openDescriptor(given, end);
  let info: Stats | null = null;
  try {
    info = await stat(end);
  } catch (error) {
    if (errno(error) !== 'ENOENT' && errno(error) !== 'ENOTDIR') throw problemFor(given, error);
  }
  const kind = info === null ? 'new' : kindOf(given, info);
  const id = info === null ? null : { dev: info.dev, ino: info.ino };
  // A device is written where it is; its folder (/dev) need not take new files.
  if (kind === 'in-place') return { given, path: await realpath(end), kind, id };
  const folder = await writableFolder(given, dirname(end));
  return { given, path: join(folder, basename(end)), kind, id };
}

/**
 * A folder that outputs will be written into, created if missing (experiment's --out): it, or the
 * nearest folder above it that exists, must be one we may create files in (not /proc, not read-only).
 */
export async function checkOutputFolder(given: string): Promise<void> {
  let folder = resolve(given);
  for (;;) {
    try {
      await stat(folder);
      break;
    } catch (error) {
      if (errno(error) !== 'ENOENT' || dirname(folder) === folder) throw problemFor(given, error);
      folder = dirname(folder);
    }
  }
  await writableFolder(given, folder);
}

/** The identity of an existing file (symlinks followed), or null when there is none to be had. */
export async function fileId(path: string): Promise<FileId | null> {
  try {
    const info = await stat(path);
    return { dev: info.dev, ino: info.ino };
  } catch {
    return null;
  }
}

export const sameId = (a: FileId | null, b: FileId | null): boolean =>
  a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
