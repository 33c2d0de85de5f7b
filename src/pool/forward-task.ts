// What a forward worker does with a task: decode blocks of lines (src/data/block-decoder.ts) and/or run
// the forward pass on each batch. The same code scores in-process when a run needs no pool (see
// forward-pool.ts): one implementation, two places to run it.
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { decodeBlock } from '../data/block-decoder.js';
import type { Batch } from '../data/types.js';
import { createForwardEngineSync, type ForwardEngine, type KernelKind, type KernelLoad } from '../nn/kernels/index.js';
import { resultViews, type ResultViews } from './result-slots.js';
import { networkFromShared, type SharedNetwork } from './shared-network.js';
import type {
  Decoded,
  ForwardResult,
  ForwardTask,
  LineFailure,
  ResultOptions,
  Scored,
  ScoredItem,
} from './task-types.js';

export interface TaskRunnerOptions {
  /** Rows per forward pass the engine is sized for (the batch size). */
  batchSize: number;
  kernel: KernelKind;
  /** The compiled WebAssembly kernel (null: JavaScript only). */
  kernelLoad: KernelLoad | null;
}

export class TaskRunner {
  private engine: ForwardEngine | null = null;
  private networkId = '';

  constructor(private readonly options: TaskRunnerOptions) {}

  run(task: ForwardTask): ForwardResult {
    switch (task.kind) {
      case 'score-blocks':
        return this.scoreBlocks(task);
      case 'decode-blocks': {
        const items = task.blocks.map((block) => ({
          index: block.index,
          ...renamed(decodeBlock(block, task.spec, { copy: true })),
        }));
        const decoded: Decoded = { ok: true, kind: 'decoded', items };
        return decoded;
      }
      case 'score-batches': {
        const engine = this.engineFor(task.network);
        const items = task.batches.map(({ index, rows, x, out }) => {
          const started = performance.now();
          const batch: Batch = { index, rows, features: engine.inputs, x, labels: EMPTY_LABELS, lines: EMPTY_LINES };
          return this.score(engine, batch, resultViews(out, rows), task.want, started);
        });
        return { ok: true, kind: 'scored', items, failure: null, threadId, kernel: engine.kind };
      }
    }
  }

  /** Each block decoded and scored in turn; a line that cannot be read ends the task there. */
  private scoreBlocks(task: Extract<ForwardTask, { kind: 'score-blocks' }>): Scored {
    const engine = this.engineFor(task.network);
    const items: ScoredItem[] = [];
    let failure: LineFailure | null = null;
    for (let i = 0; i < task.blocks.length && failure === null; i++) {
      const started = performance.now();
      const block = task.blocks[i];
      // The rows are scored at once, so they can stay in the decoder's memory (no copy).
      const { batch, errors, failure: unreadable } = decodeBlock(block, task.spec, { copy: false });
      // A line that cannot be read ends the read, unless a bad row before it comes first.
      if (unreadable !== null && errors.length === 0) {
        failure = { index: block.index, ...unreadable };
        break;
      }
      const out = resultViews(task.outs[i], block.rows);
      if (batch !== null) {
        out.labels.set(batch.labels);
        out.lines.set(batch.lines);
      }
      const item = this.score(engine, batch ?? emptyBatch(block.index, engine.inputs), out, task.want, started);
      items.push({ ...item, x: task.want.pixels && batch ? batch.x.slice() : null, rowErrors: errors });
    }
    return { ok: true, kind: 'scored', items, failure, threadId, kernel: engine.kind };
  }

  private score(
    engine: ForwardEngine,
    batch: Batch,
    out: ResultViews,
    want: ResultOptions,
    started: number,
  ): ScoredItem {
    const { index, rows } = batch;
    const probabilities = want.probabilities ? new Float32Array(rows * engine.outputs) : null;
    if (rows > 0) {
      if (batch.x.length !== rows * engine.inputs)
        throw new RangeError(`batch ${index}: expected ${rows} x ${engine.inputs} floats, got ${batch.x.length}`);
      engine.predict(batch.x, rows, out.predicted, out.confidence, probabilities ?? undefined);
    }
    return { index, rows, probabilities, x: null, rowErrors: [], computeMs: performance.now() - started };
  }

  /** The engine for `network`, built once per network (the weights are read in shared memory). */
  private engineFor(network: SharedNetwork): ForwardEngine {
    if (this.engine === null || this.networkId !== network.id) {
      const { batchSize, kernel, kernelLoad } = this.options;
      this.engine = createForwardEngineSync(
        networkFromShared(network),
        { maxRows: batchSize, kind: kernel },
        kernelLoad,
      );
      this.networkId = network.id;
    }
    return this.engine;
  }
}

const EMPTY_LABELS = new Int16Array(0);
const EMPTY_LINES = new Uint32Array(0);
const emptyBatch = (index: number, features: number): Batch => ({
  index,
  rows: 0,
  features,
  x: new Float32Array(0),
  labels: EMPTY_LABELS,
  lines: EMPTY_LINES,
});
const renamed = ({ batch, errors, failure }: ReturnType<typeof decodeBlock>) => ({ batch, rowErrors: errors, failure });

/** The buffers of a result, to transfer back instead of copying. */
export function resultBuffers(result: ForwardResult): ArrayBuffer[] {
  if (!result.ok) return [];
  const views =
    result.kind === 'scored'
      ? result.items.flatMap((item) => [item.probabilities, item.x])
      : result.items.flatMap(({ batch }) => (batch ? [batch.x, batch.labels, batch.lines] : []));
  const buffers: ArrayBuffer[] = [];
  for (const view of views)
    if (view && view.buffer instanceof ArrayBuffer && !buffers.includes(view.buffer)) buffers.push(view.buffer);
  return buffers;
}
