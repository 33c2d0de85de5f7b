// Scripts to be inlined into self-contained pages: Chart.js's UMD build (one script that defines a global
// `Chart`) and, for charts with error bars, chartjs-chart-error-bars' UMD build (it registers its chart
// types with that global), read from the installed packages, so a page opened from file:// offline needs
// nothing else.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface InlineLibrary {
  name: string;
  version: string;
  license: string;
  /** The script's text, checked to be safe inside an inline <script> element. */
  source: string;
}

const cache = new Map<string, InlineLibrary>();
const require = createRequire(import.meta.url);

/**
 * A package's browser build: `file` next to the package's main entry (the packages' `exports` hide their
 * build files, so resolve the main entry and look beside it), with the version and licence of the
 * package.json one folder up. Read once per process.
 */
function inlineLibrary(pkg: string, file: string, name: string): InlineLibrary {
  const cached = cache.get(pkg);
  if (cached) return cached;
  const folder = dirname(require.resolve(pkg));
  const source = readFileSync(join(folder, file), 'utf8');
  const { version, license } = JSON.parse(readFileSync(join(folder, '..', 'package.json'), 'utf8')) as {
    version: string;
    license: string;
  };
  // Inside <script>, `</script` would end the element early and `<!--` changes how the parser looks for
  // the end; neither can be escaped in code without understanding it, so refuse a build that contains one.
  if (/<\/script|<!--/i.test(source))
    throw new Error(`${pkg} ${version}: ${file} contains </script or <!--; cannot inline it`);
  const library = { name, version, license, source };
  cache.set(pkg, library);
  return library;
}

/** Chart.js's UMD build. */
export const chartJsLibrary = (): InlineLibrary => inlineLibrary('chart.js', 'chart.umd.min.js', 'Chart.js');

/** chartjs-chart-error-bars' UMD build: the `lineWithErrorBars` chart type (after Chart.js). */
export const errorBarsLibrary = (): InlineLibrary =>
  inlineLibrary('chartjs-chart-error-bars', 'index.umd.min.js', 'chartjs-chart-error-bars');
