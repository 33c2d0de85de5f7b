// Whether a command module was started as the program (`node dist/src/cli/train.js`, or `nnpipe train`,
// which starts it the same way): only then does it run; imported (by the docs script, by tests) it does not.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function isEntryPoint(moduleUrl: string): boolean {
  try {
    return process.argv[1] !== undefined && moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}
