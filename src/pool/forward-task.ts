// What a forward worker does with a task: decode a block of lines (src/data/block-decoder.ts) and/or
// run the forward pass on the rows. The same code scores in-process when a run needs no pool (see
// forward-pool.ts): one implementation, two places to run it.
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { decodeBlock } from '../data/block-decoder.js';
import type { Batch } from '../data/types.js';
import { createForwardEngineSync, type ForwardEngine, type KernelKind, type KernelLoad } from '../nn/kernels/index.js';
import { networkFromShared, type SharedNetwork } from './shared-network.js';
import { resultViews, type ResultViews } from './result-slots.js';
import type { Decoded, ForwardResult, ForwardTask, ResultOptions, Scored, TaskFailure } from './task-types.js';

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
    const started = performance.now();
    switch (task.kind) {
      case 'score-block': {
        // The rows are scored at once, so they can stay in the decoder's memory (no copy).
        const { batch, errors, failure } = decodeBlock(task.block, task.spec, { copy: false });
        // A line that cannot be read ends the read, unless a bad row before it comes first.
        if (failure !== null && errors.length === 0) return failed(task, 'PIPE_ERR_DATA', failure.message, failure.line);
        const out = resultViews(task.out, task.block.rows);
        if (batch !== null) {
          out.labels.set(batch.labels);
          out.lines.set(batch.lines);
        }
        const scored = this.score(task.network, task.block.index, batch, out, task.want, started);
        return { ...scored, x: task.want.pixels && batch ? batch.x.slice() : null, rowErrors: errors };
      }
      case 'decode-block': {
        const { batch, errors, failure } = decodeBlock(task.block, task.spec, { copy: true });
        const decoded: Decoded = { ok: true, kind: 'decoded', index: task.block.index, batch, rowErrors: errors, failure, computeMs: 0 };
        decoded.computeMs = performance.now() - started;
        return decoded;
      }
      case 'score-batch': {
        const { index, rows, x } = task;
        const batch: Batch = { index, rows, features: x.length / Math.max(rows, 1), x, labels: new Int16Array(0), lines: new Uint32Array(0) };
        return this.score(task.network, index, rows > 0 ? batch : null, resultViews(task.out, rows), task.want, started);
      }
    }
  }

  private score(network: SharedNetwork, index: number, batch: Batch | null, out: ResultViews, want: ResultOptions, started: number): Scored {
    const engine = this.engineFor(network);
    const rows = batch?.rows ?? 0;
    const probabilities = want.probabilities ? new Float32Array(rows * engine.outputs) : null;
    if (batch !== null && rows > 0) {
      if (batch.x.length !== rows * engine.inputs) {
        throw new RangeError(`batch ${index}: expected ${rows} x ${engine.inputs} floats, got ${batch.x.length}`);
      }
      engine.predict(batch.x, rows, out.predicted, out.confidence, probabilities ?? undefined);
    }
    return { ok: true, kind: 'scored', index, rows, probabilities, x: null, rowErrors: [], computeMs: performance.now() - started, threadId, kernel: engine.kind };
  }

  /** The engine for `network`, built once per network (the weights are read in shared memory). */
  private engineFor(network: SharedNetwork): ForwardEngine {
    if (this.engine === null || this.networkId !== network.id) {
      const { batchSize, kernel, kernelLoad } = this.options;
      this.engine = createForwardEngineSync(networkFromShared(network), { maxRows: batchSize, kind: kernel }, kernelLoad);
      this.networkId = network.id;
    }
    return this.engine;
  }
}

function failed(task: ForwardTask, code: string, message: string, line: number | null): TaskFailure {
  const index = task.kind === 'score-batch' ? task.index : task.block.index;
  return { ok: false, index, code, message, line };
}

/** The buffers of a result, to transfer back instead of copying. */
export function resultBuffers(result: ForwardResult): ArrayBuffer[] {
  const views =
    result.ok && result.kind === 'scored'
      ? [result.probabilities, result.x]
      : result.ok && result.batch
        ? [result.batch.x, result.batch.labels, result.batch.lines]
        : [];
  const buffers: ArrayBuffer[] = [];
  for (const view of views) if (view && view.buffer instanceof ArrayBuffer && !buffers.includes(view.buffer)) buffers.push(view.buffer);
  return buffers;
}
