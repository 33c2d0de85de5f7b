// The messages between the pipeline and the forward-pass workers.
// Results are a discriminated union rather than thrown errors: a thrown Error crosses postMessage with
// only name/message/stack, so codes would be lost.

export interface ForwardTask {
  batchIndex: number;
  rows: number;
  /** rows x features, normalised; transferred (not copied) to the worker. */
  x: Float32Array;
  /** Also return the full probability rows (rows x outputs). */
  wantProbabilities: boolean;
}

export interface ForwardSuccess {
  ok: true;
  batchIndex: number;
  rows: number;
  predicted: Int32Array;
  confidence: Float32Array;
  probabilities: Float32Array | null;
  /** Time spent in the forward pass inside the worker, ms. */
  computeMs: number;
  threadId: number;
  /** The forward engine that ran it. */
  kernel: 'js' | 'wasm';
  /** The task's input, handed back (transferred) so the main thread can look at the pixels again. */
  x: Float32Array;
}

export interface ForwardFailure {
  ok: false;
  batchIndex: number;
  code: string;
  message: string;
  threadId: number;
}

export type ForwardResult = ForwardSuccess | ForwardFailure;
