// The messages between the pipeline and the forward workers. Results are a discriminated union rather
// than thrown errors: a thrown Error crosses postMessage with only name/message/stack, so codes and
// line numbers would be lost.
import type { BlockData } from '../data/block-decoder.js';
import type { Batch, DecodeSpec, RowError } from '../data/types.js';
import type { EngineKind } from '../nn/kernels/engine-types.js';
import type { SharedNetwork } from './shared-network.js';

/** What a scored batch carries besides the predicted class and its confidence. */
export interface ResultOptions {
  /** The full output rows (rows x outputs). */
  probabilities?: boolean;
  /** The normalised rows themselves (to draw them again, e.g. for the HTML report). */
  pixels?: boolean;
}

/** Lines of the input to decode and score (the usual task: the worker does both). */
export interface ScoreBlockTask {
  kind: 'score-block';
  network: SharedNetwork;
  spec: DecodeSpec;
  block: BlockData;
  /** The result slot (result-slots.ts) for the block's rows: predictions, labels and lines go there. */
  out: SharedArrayBuffer;
  want: ResultOptions;
}

/** Lines to decode only (the rows then go on to exact batches: --on-error skip). */
export interface DecodeBlockTask {
  kind: 'decode-block';
  spec: DecodeSpec;
  block: BlockData;
}

/** Rows already decoded; `x` is a view of shared memory, read in place. */
export interface ScoreBatchTask {
  kind: 'score-batch';
  network: SharedNetwork;
  index: number;
  rows: number;
  x: Float32Array;
  /** The result slot (result-slots.ts) for the batch's predictions. */
  out: SharedArrayBuffer;
  want: ResultOptions;
}

export type ForwardTask = ScoreBlockTask | DecodeBlockTask | ScoreBatchTask;

/** A scored batch: its predictions (and for a block its labels and lines) are in the task's result slot. */
export interface Scored {
  ok: true;
  kind: 'scored';
  index: number;
  rows: number;
  probabilities: Float32Array | null;
  /** The rows, normalised, when asked for (`want.pixels`) and only the worker has them; else null. */
  x: Float32Array | null;
  /** For a block: its bad rows, in order (the block's rows minus `rows`). */
  rowErrors: RowError[];
  /** Time spent in the worker (decoding and the forward pass), ms. */
  computeMs: number;
  threadId: number;
  /** The forward engine that ran it. */
  kernel: EngineKind;
}

export interface Decoded {
  ok: true;
  kind: 'decoded';
  index: number;
  batch: Batch | null;
  rowErrors: RowError[];
  /** A line that could not be read (it ends the read; the rows before it are in `batch`). */
  failure: RowError | null;
  computeMs: number;
}

/** A task the worker ran and cannot complete: the same again on any worker, so never retried. */
export interface TaskFailure {
  ok: false;
  index: number;
  code: string;
  message: string;
  /** The input line it is about, when there is one (a record the decoder cannot read). */
  line: number | null;
}

export type ForwardResult = Scored | Decoded | TaskFailure;

/** A scored batch as the pipeline hands it on, in input order. */
export interface ScoredBatch {
  index: number;
  rows: number;
  predicted: Int32Array;
  confidence: Float32Array;
  probabilities: Float32Array | null;
  /** Label (-1: none) and input line per scored row. */
  labels: Int16Array;
  lines: Uint32Array;
  /** The rows' normalised pixels when they were asked for (else empty); valid until the next batch. */
  x: Float32Array;
  /** Bad rows found while decoding this batch's lines (fast path). */
  rowErrors: RowError[];
  /** Dispatch -> result on the main thread, ms (queueing, decoding and the forward pass). */
  latencyMs: number;
  /** Time spent in the worker, ms. */
  computeMs: number;
  kernel: string;
}
