// Entry of `nnpipe worker|submit|result` (programs.ts): a program of its own, so that BullMQ and ioredis
// (most of the CLI's code by size) stay out of the bundled pipeline's start-up. These commands hold Redis
// connections and exit once done (a connection to a lost Redis can linger).
import { quietOnClosedStdout } from './entry.js';
quietOnClosedStdout();
const [command, ...argv] = process.argv.slice(2);
const run =
  command === 'worker'
    ? import('./worker.js').then(({ runWorkerCli }) => runWorkerCli(argv))
    : command === 'submit'
      ? import('./submit.js').then(({ runSubmitCli }) => runSubmitCli(argv))
      : import('./result.js').then(({ runResultCli }) => runResultCli(argv));
void run.then((code) => process.exit(code));
