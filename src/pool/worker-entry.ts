// Piscina options that start an ES-module worker through workers/esm-entry.cjs (see the comment there
// for why a CommonJS entry is needed).
import { workerFile } from './worker-files.js';

/** `filename` and `workerData` for a Piscina pool whose task is the default export of `moduleUrl`. */
export function esmWorkerOptions<T extends object>(
  moduleUrl: URL,
  workerData: T,
): { filename: string; workerData: T & { esmEntry: string } } {
  return { filename: workerFile('esm-entry.cjs').href, workerData: { ...workerData, esmEntry: moduleUrl.href } };
}
