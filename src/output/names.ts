// The names of the files an output gets next to it: its temp files, its lock and the lock's owner file.
//
// Every such name is the output's own name plus a suffix, so it sorts next to it and says what it is
// for. A name that would pass NAME_MAX (255 bytes on Linux, macOS and Windows alike) with the suffix
// keeps a prefix of the output's name and a hash of the whole name instead: `<prefix>~<16 hex>.lock`.
// The stem depends only on the output's name (never on the suffix), so a later run finds the temp
// files of an earlier one whatever its pid (see stale-temps.ts).
//
// Temp files carry the writer's pid: `report.json.nnpipe-4711-0a1b2c3d4e5f.tmp`. The next run that
// holds the lock on `report.json` can then tell a dead run's leftovers from a file being written.
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The longest file name (one path component), in bytes, on the file systems we run on. */
export const NAME_MAX = 255;
/** Bytes kept free for the longest suffix (`.nnpipe-<pid>-<12 hex>.tmp`, `.lock-owner`). */
const SUFFIX_RESERVE = 40;
const HASH_HEX = 16;

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, never cutting a character in two. */
function utf8Prefix(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    used += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** The part of every sidecar name that comes from the output's own name (`name` is one path component). */
export function sidecarStem(name: string): string {
  if (Buffer.byteLength(name) + SUFFIX_RESERVE <= NAME_MAX) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_HEX);
  return `${utf8Prefix(name, NAME_MAX - SUFFIX_RESERVE - HASH_HEX - 1)}~${hash}`;
}

/** `<folder>/<stem><suffix>` for the output at `path`. */
function sidecar(path: string, suffix: string): string {
  return join(dirname(path), `${sidecarStem(basename(path))}${suffix}`);
}

/** The lock directory of an output (proper-lockfile's `lockfilePath`). */
export const lockPathFor = (path: string): string => sidecar(path, '.lock');

/** The file beside the lock that names its holder (for messages only). */
export const lockOwnerPathFor = (path: string): string => sidecar(path, '.lock-owner');

const TEMP_MARK = '.nnpipe-';
const TEMP_END = '.tmp';

/** A fresh temp file name for `path` in its folder, with this process's pid in it. */
export function tempPathFor(path: string, pid = process.pid): string {
  return sidecar(path, `${TEMP_MARK}${pid}-${randomBytes(6).toString('hex')}${TEMP_END}`);
}

/**
 * What a directory entry is, seen from the output named `name` in the same folder: one of its temp
 * files (with the writer's pid), a temp file of an older nnpipe (`<name>.<12 hex>.tmp`, no pid), or
 * nothing of ours (null).
 */
export function parseTempName(name: string, entry: string): { pid: number | null } | null {
  const stem = sidecarStem(name);
  if (!entry.startsWith(stem) || !entry.endsWith(TEMP_END)) return null;
  const middle = entry.slice(stem.length, entry.length - TEMP_END.length);
  const current = /^\.nnpipe-([0-9]{1,10})-[0-9a-f]{12}$/.exec(middle);
  if (current) return { pid: Number(current[1]) };
  // nnpipe 0.1's predictions temp files: `<path>.<12 hex>.tmp`.
  if (stem === name && /^\.[0-9a-f]{12}$/.test(middle)) return { pid: null };
  return null;
}
