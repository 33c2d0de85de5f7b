// The messages between the experiment (parent) and the child process that measures one configuration.
import type { Configuration, Measurement } from './types.js';

export interface MeasureRequest {
  type: 'measure';
  config: Configuration;
  /** Absolute CSV path. */
  input: string;
  /** Absolute model path. */
  model: string;
  minSamples: number;
  maxTimeS: number;
}

export type ChildMessage =
  | { type: 'pass'; passes: number; durationMs: number }
  | { type: 'result'; measurement: Measurement }
  | { type: 'error'; error: { code: string; message: string; exitCode: number } };
