// The child process that measures one configuration (forked by child-runner.ts): it loads the model, runs
// measureConfiguration and sends the measurement back over IPC. One process per configuration, so that its
// peak RSS (process.resourceUsage().maxRSS, a process-lifetime peak) belongs to that configuration alone,
// and so that one configuration's heap, JIT state and threads cannot colour the next one's figures.
import { PipelineError } from '../src/errors.js';
import { loadModel } from '../src/nn/load-model.js';
import type { ChildMessage, MeasureRequest } from '../src/experiment/child-protocol.js';
import { measureConfiguration } from '../pipelines/experiment-measure.js';

// Ctrl-C on a terminal reaches the whole process group: the parent decides what it means (it writes what
// was measured and ends this process), so this process must not die of it on its own first.
process.on('SIGINT', () => undefined);
// The parent is gone (killed, crashed): nobody wants the result.
process.on('disconnect', () => process.exit(1));

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

process.once('message', (message: MeasureRequest) => {
  void (async () => {
    let exitCode = 0;
    try {
      if (message?.type !== 'measure') throw new Error(`unexpected message ${JSON.stringify(message)}`);
      const model = await loadModel(message.model);
      const measurement = await measureConfiguration({
        config: message.config,
        model,
        normalize: model.normalize ?? 'unit',
        input: message.input,
        minSamples: message.minSamples,
        maxTimeS: message.maxTimeS,
        onPass: (pass, passes) => void send({ type: 'pass', passes, durationMs: pass.durationMs }),
      });
      await send({ type: 'result', measurement });
    } catch (error) {
      exitCode = 1;
      const e = error as Error;
      await send({
        type: 'error',
        error: {
          code: error instanceof PipelineError ? error.code : 'PIPE_ERR_UNEXPECTED',
          message: error instanceof PipelineError ? e.message : (e.stack ?? String(error)),
          exitCode: error instanceof PipelineError ? error.exitCode : 1,
        },
      });
    }
    process.exit(exitCode);
  })();
});
