// The process's peak resident set size, worker threads included (they share its memory).
//
// Why not only process.resourceUsage().maxRSS: on Linux that figure survives fork + exec, so a process
// started by a big one (a benchmark harness, an experiment's parent, a job runner written in Node)
// reports at least its parent's RSS at the time of the fork (measured: a child of a 400 MiB process
// reports 404 MiB, its own peak being 39 MiB). /proc/self/status's VmHWM is the high-water mark of this
// process's own memory, reset by exec. Elsewhere maxRSS is what there is.
import { readFileSync } from 'node:fs';

const VM_HWM = /^VmHWM:\s+(\d+)\s+kB$/m;
let procStatus = process.platform === 'linux';

/** Peak RSS of this process so far, in bytes. */
export function peakRssBytes(): number {
  if (procStatus) {
    try {
      const match = VM_HWM.exec(readFileSync('/proc/self/status', 'latin1'));
      if (match) return Number(match[1]) * 1024;
    } catch {
      // no /proc (a container without it): fall through
    }
    procStatus = false;
  }
  return process.resourceUsage().maxRSS * 1024;
}
