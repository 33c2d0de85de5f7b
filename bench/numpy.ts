// Which numpy ran: figures from the book's numpy code name its version, Python's and the BLAS it
// uses, since they differ from machine to machine (np.loadtxt alone varies 3x between versions).
import { execFileSync } from 'node:child_process';

let cached: string | null | undefined;

const PROBE = `import sys, numpy
blas = ''
try:
    info = numpy.show_config(mode='dicts')['Build Dependencies']['blas']
    blas = f", {info.get('name', 'blas')} {info.get('version', '')}".rstrip()
except Exception:
    pass
print(f"numpy {numpy.__version__} (Python {sys.version.split()[0]}{blas})")`;

/** e.g. 'numpy 2.4.6 (Python 3.11.7, scipy-openblas 0.3.31.188.0)', or null without python3 + numpy. */
export function numpyDescription(): string | null {
  if (cached !== undefined) return cached;
  try {
    cached =
      execFileSync('python3', ['-c', PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    cached = null;
  }
  return cached;
}
