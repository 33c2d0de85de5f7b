// Chart.js, to be inlined into self-contained pages: its UMD build (one script that defines a global
// `Chart`) read from the installed package, so a page opened from file:// offline needs nothing else.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface InlineLibrary {
  name: string;
  version: string;
  /** The script's text, checked to be safe inside an inline <script> element. */
  source: string;
}

let cached: InlineLibrary | null = null;

/** Chart.js's UMD build (read once per process). */
export function chartJsLibrary(): InlineLibrary {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // The package's `exports` hide dist/ files, so resolve its main entry (dist/chart.cjs) and look next to it.
  const dist = dirname(require.resolve('chart.js'));
  const source = readFileSync(join(dist, 'chart.umd.min.js'), 'utf8');
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
  // Inside <script>, `</script` would end the element early and `<!--` changes how the parser looks for
  // the end; neither can be escaped in code without understanding it, so refuse a build that contains one.
  if (/<\/script|<!--/i.test(source)) throw new Error(`chart.js ${version}: the UMD build contains </script or <!--; cannot inline it`);
  cached = { name: 'Chart.js', version, source };
  return cached;
}
