// The messages between the pipeline and the forward workers. A task carries several batches (the ones
// a read of the input completed, see src/data/source.ts): per-task costs (a message each way, waking a
// worker) are then paid once for all of them, while each forward pass still gets exactly its batch.
// Results are data rather than thrown errors: a thrown Error crosses postMessage with only
// name/message/stack, so codes and line numbers would be lost.
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

/** Blocks of lines to decode and score, each into its result slot (result-slots.ts). */
export interface ScoreBlocksTask {
  kind: 'score-blocks';
  network: SharedNetwork;
  spec: DecodeSpec;
  blocks: BlockData[];
  /** One result slot per block: its predictions, labels and lines go there. */
  outs: SharedArrayBuffer[];
  want: ResultOptions;
}

/** Blocks to decode only (their rows then go on to exact batches: --on-error skip). */
export interface DecodeBlocksTask {
  kind: 'decode-blocks';
  spec: DecodeSpec;
  blocks: BlockData[];
}

/** Batches already decoded; each `x` is a view of shared memory, read in place. */
export interface ScoreBatchesTask {
  kind: 'score-batches';
  network: SharedNetwork;
  batches: Array<{ index: number; rows: number; x: Float32Array; out: SharedArrayBuffer }>;
  want: ResultOptions;
}

export type ForwardTask = ScoreBlocksTask | DecodeBlocksTask | ScoreBatchesTask;

/** One scored batch: its predictions (and for a block its labels and lines) are in its result slot. */
export interface ScoredItem {
  index: number;
  rows: number;
  probabilities: Float32Array | null;
  /** The rows, normalised, when asked for (`want.pixels`) and only the worker has them; else null. */
  x: Float32Array | null;
  /** For a block: its bad rows, in order (the block's rows minus `rows`). */
  rowErrors: RowError[];
  /** Time spent in the worker on this batch (decoding and the forward pass), ms. */
  computeMs: number;
}

export interface Scored {
  ok: true;
  kind: 'scored';
  items: ScoredItem[];
  /** A line that could not be read, in the block after the last item: the read ends there. */
  failure: LineFailure | null;
  threadId: number;
  /** The forward engine that ran it. */
  kernel: EngineKind;
}

/** One decoded block. */
export interface DecodedItem {
  index: number;
  batch: Batch | null;
  rowErrors: RowError[];
  /** A line that could not be read (it ends the read; the rows before it are in `batch`). */
  failure: RowError | null;
}

export interface Decoded {
  ok: true;
  kind: 'decoded';
  items: DecodedItem[];
}

/** A line of a block that the decoder cannot read (see block-decoder.ts). */
export interface LineFailure {
  index: number;
  line: number;
  message: string;
}

/** A task the worker ran and cannot do at all: the same again on any worker, so never retried. */
export interface TaskFailure {
  ok: false;
  code: string;
  message: string;
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
  /** Dispatch -> result on the main thread, ms: of the task that carried it (queueing included). */
  latencyMs: number;
  /** Time spent in the worker on this batch, ms. */
  computeMs: number;
  kernel: string;
}
