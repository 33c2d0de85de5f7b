// Measures one configuration in a child process of its own (workers/experiment-measure.ts) and returns its measurement.
// Stopping (the experiment's AbortSignal) kills the child at once: a configuration is either measured in
// full or not at all, so there is nothing in it worth waiting for.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { errorCodeOf, PipelineError } from '../errors.js';
import { workerFile } from '../pool/worker-files.js';
import type { ChildMessage, MeasureRequest } from './child-protocol.js';
import { describeConfiguration } from './grid.js';
import type { Measurement } from './types.js';

export const measureChildFile = workerFile('experiment-measure.js');

/** The experiment was stopped while this configuration was being measured. */
export class MeasurementInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MeasurementInterrupted';
  }
}

export interface ChildMeasureOptions {
  signal?: AbortSignal;
  /** After every measured pass: how many passes so far and how long the last one took. */
  onPass?: (passes: number, durationMs: number) => void;
}

/** The tail of the child's stderr kept for error messages. */
const STDERR_TAIL = 4000;

export function measureInChild(
  request: Omit<MeasureRequest, 'type'>,
  options: ChildMeasureOptions = {},
): Promise<Measurement> {
  const { signal } = options;
  const name = describeConfiguration(request.config);
  if (signal?.aborted) return Promise.reject(new MeasurementInterrupted(`${name}: not measured (stopped)`));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = fork(measureChildFile, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    let result: Measurement | null = null;
    let failure: PipelineError | null = null;
    const kill = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', kill, { once: true });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'pass') options.onPass?.(message.passes, message.durationMs);
      else if (message.type === 'result') result = message.measurement;
      else if (message.type === 'error')
        failure = new PipelineError(errorCodeOf(message.error.code), message.error.message);
    });
    let spawnError: Error | null = null;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) return reject(new MeasurementInterrupted(`${name}: not measured (stopped)`));
      if (result && code === 0) return resolve({ ...(result as Measurement), wallTimeMs: performance.now() - started });
      if (failure) return reject(failure);
      const how = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`;
      const detail = spawnError
        ? `: ${(spawnError as Error).message}`
        : stderr.trim()
          ? `; its stderr ended with:\n${stderr.trim()}`
          : '';
      reject(new PipelineError('PIPE_ERR_MEASURE', `${name}: the measuring process ${how}${detail}`));
    });
    child.send({ type: 'measure', ...request } satisfies MeasureRequest);
  });
}
