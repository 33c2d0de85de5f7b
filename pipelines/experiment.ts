// The batch-size experiment: every configuration of the grid measured one after another, each in a child
// process of its own that runs the real inference pipeline under benchmark.js (pipelines/experiment-measure.ts);
// the accuracy of every pass is compared with the first as soon as it arrives (a difference is a bug and
// ends the experiment as failed); a stop signal ends it as interrupted with what was measured so far.
import { performance } from 'node:perf_hooks';
import { PipelineError } from '../src/errors.js';
import { accuracyMismatchMessage, findAccuracyMismatch } from '../src/experiment/aggregate.js';
import type { MeasureRequest } from '../src/experiment/child-protocol.js';
import { MeasurementInterrupted, measureInChild, type ChildMeasureOptions } from '../src/experiment/child-runner.js';
import { machineAtStart, withLoadAverageEnd } from '../src/experiment/machine.js';
import type { Configuration, ExperimentOutcome, ExperimentStatus, Measurement } from '../src/experiment/types.js';

export type { ExperimentOutcome } from '../src/experiment/types.js';

export interface ExperimentPlan {
  configurations: Configuration[];
  /** Absolute CSV path. */
  input: string;
  /** Absolute model path. */
  model: string;
  minSamples: number;
  maxTimeS: number;
}

/** Measures one configuration; the default runs it in a child process. Tests substitute their own. */
export type Measurer = (request: Omit<MeasureRequest, 'type'>, options: ChildMeasureOptions) => Promise<Measurement>;

export interface ExperimentProgress {
  config: Configuration;
  /** 0-based position of `config` in the plan. */
  index: number;
  total: number;
  /** Passes measured so far for `config`. */
  passes: number;
}

export interface ExperimentRunOptions {
  /** Aborting stops at once: the configuration being measured is dropped, the rest are not measured. */
  signal?: AbortSignal;
  measure?: Measurer;
  /** When a configuration starts (passes 0) and after each of its measured passes. */
  onProgress?: (progress: ExperimentProgress) => void;
  /** After each measured configuration, with everything measured so far (e.g. to write a checkpoint). */
  onMeasured?: (measurements: Measurement[], latest: Measurement) => Promise<void> | void;
}

export async function runExperiment(
  plan: ExperimentPlan,
  options: ExperimentRunOptions = {},
): Promise<ExperimentOutcome> {
  const measure = options.measure ?? measureInChild;
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = machineAtStart();
  const measurements: Measurement[] = [];
  const total = plan.configurations.length;
  let status: ExperimentStatus = 'complete';
  let error: ExperimentOutcome['error'] = null;

  for (const [index, config] of plan.configurations.entries()) {
    if (options.signal?.aborted) {
      status = 'interrupted';
      break;
    }
    options.onProgress?.({ config, index, total, passes: 0 });
    let measurement: Measurement;
    try {
      measurement = await measure(
        { config, input: plan.input, model: plan.model, minSamples: plan.minSamples, maxTimeS: plan.maxTimeS },
        { signal: options.signal, onPass: (passes) => options.onProgress?.({ config, index, total, passes }) },
      );
    } catch (caught) {
      if (caught instanceof MeasurementInterrupted || options.signal?.aborted) {
        status = 'interrupted';
      } else {
        status = 'failed';
        const e = caught as Error;
        error = {
          code: caught instanceof PipelineError ? caught.code : 'PIPE_ERR_UNEXPECTED',
          message: e.message,
          exitCode: caught instanceof PipelineError ? caught.exitCode : 1,
        };
      }
      break;
    }
    measurements.push(measurement);
    const mismatch = findAccuracyMismatch(measurements);
    if (mismatch) {
      status = 'failed';
      error = { code: 'PIPE_ERR_ACCURACY_MISMATCH', message: accuracyMismatchMessage(mismatch), exitCode: 1 };
    }
    try {
      await options.onMeasured?.(measurements, measurement);
    } catch (caught) {
      if (!error) {
        status = 'failed';
        const e = caught as Error;
        error = {
          code: caught instanceof PipelineError ? caught.code : 'PIPE_ERR_UNEXPECTED',
          message: e.message,
          exitCode: caught instanceof PipelineError ? caught.exitCode : 1,
        };
      }
    }
    if (error) break;
  }
  const measured = new Set(measurements.map((m) => m.config.id));
  return {
    status,
    error,
    measurements,
    notMeasured: plan.configurations.filter((c) => !measured.has(c.id)),
    startedAt,
    finishedAt: new Date(),
    wallTimeMs: performance.now() - t0,
    machine: withLoadAverageEnd(machine),
  };
}
