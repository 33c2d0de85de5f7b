// The messages between the pipeline and the forward-pass workers.
// Results are a discriminated union rather than thrown errors: a thrown Error crosses postMessage with
// only name/message/stack, so codes would be lost.
import type { BlockSpec } from '../data/fast-csv/block.js';
import type { RowError } from '../data/types.js';
import type { EngineKind } from '../nn/kernels/engine-types.js';
import type { SharedNetwork } from './shared-network.js';

/** A batch already decoded and normalised on the main thread. */
export interface FloatsTask {
  kind: 'floats';
  network: SharedNetwork;
  batchIndex: number;
  rows: number;
  /** rows x features, normalised; transferred (not copied) to the worker. */
  x: Float32Array;
  want: ResultOptions;
}

/** What a result carries besides the predicted class and its confidence. */
export interface ResultOptions {
  /** The full probability rows (rows x outputs). */
  probabilities?: boolean;
  /** The normalised rows themselves (to look at the pixels again, e.g. for the HTML report). */
  pixels?: boolean;
}

/** Raw CSV lines for the worker to decode (so that both cores decode), then score. */
export interface BlockTask {
  kind: 'block';
  network: SharedNetwork;
  batchIndex: number;
  /** 1-based input line of the block's first byte. */
  firstLine: number;
  /** Whole lines of the input; transferred (not copied) to the worker. */
  bytes: Uint8Array;
  spec: BlockSpec;
  want: ResultOptions;
}

export type ForwardTask = FloatsTask | BlockTask;

export interface ForwardSuccess {
  ok: true;
  batchIndex: number;
  rows: number;
  predicted: Int32Array;
  confidence: Float32Array;
  probabilities: Float32Array | null;
  /** Time spent in the worker (decoding a block, and the forward pass), ms. */
  computeMs: number;
  threadId: number;
  /** The forward engine that ran it. */
  kernel: EngineKind;
  /** The rows, normalised, handed back (transferred) when asked for (`want.pixels`); else empty. */
  x: Float32Array;
  /** For a block: the labels and input lines of the rows that were scored (good rows, in order). */
  labels: Int16Array | null;
  lines: Uint32Array | null;
  /** For a block: its bad rows, in order (a block's rows minus `rows`). */
  rowErrors: RowError[];
}

export interface ForwardFailure {
  ok: false;
  batchIndex: number;
  code: string;
  message: string;
  threadId: number;
}

export type ForwardResult = ForwardSuccess | ForwardFailure;
