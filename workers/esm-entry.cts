// CommonJS entry for every Piscina worker of this project; it loads the real task module (an ES
// module named by `workerData.esmEntry`) with import().
//
// Why: Piscina loads a worker file with require() first. On Node >= 20.19 that is require(esm), and a
// worker terminated while require(esm) is still instantiating the module aborts the whole process
// ("FATAL ERROR: v8::Module::IsGraphAsync ... must be used on an instantiated module"), e.g. when a
// run fails or is interrupted before the pool has finished starting. import() has no such problem.
import type { workerData as WorkerData } from 'node:worker_threads';

const { workerData } = require('node:worker_threads') as { workerData: typeof WorkerData };
const entry: unknown = workerData?.esmEntry;
if (typeof entry !== 'string')
  throw new TypeError('esm-entry: workerData.esmEntry must name the worker module (a file: URL)');
// A promise of the handler: Piscina awaits it before it calls the worker ready, so the module and its
// kernels load first. (A ready worker waits for tasks in Atomics.wait(), which stops the worker's own
// asynchronous work: an import() still under way would wait for the first task.) A module that cannot
// load gives a handler that fails every task with its error, so that the tasks fail (and are retried)
// instead of waiting for a worker that never comes.
module.exports = import(entry).then(
  (module: { default: unknown }) => module.default,
  (error: unknown) => () => {
    throw error;
  },
);
