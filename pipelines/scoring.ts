// Turning the source's groups into pool tasks and their results into scored batches, in input order.
// A group that fails part-way gives its batches before the problem, then the problem (so that every row
// before it is counted, and the first problem is the one reported).
import { blockData, lastLineOf } from '../src/data/block-decoder.js';
import type { PooledBatch } from '../src/data/batcher.js';
import { decodeSpec, type Source, type SourceOptions, type WorkItem } from '../src/data/source.js';
import { describeLines, type Block, type DecodedBlock } from '../src/data/types.js';
import { type DataError, PipelineError } from '../src/errors.js';
import { runTask } from '../src/pool/faults.js';
import type { ForwardPool } from '../src/pool/forward-pool.js';
import { resultViews, ResultSlots } from '../src/pool/result-slots.js';
import type { ForwardResult, ForwardTask, Scored, ScoredBatch } from '../src/pool/task-types.js';

/** A group's scored batches in input order, and what ends the run after them, if anything. */
export interface ScoredGroup {
  batches: ScoredBatch[];
  error: Error | null;
}

export interface ScoringOptions {
  taskTimeoutMs: number;
  batchSize: number;
  onError: 'fail' | 'skip';
  /** Hand the rows' pixels on with each scored batch. */
  pixels: boolean;
  /** Hand every row's output values on (transferred from the worker: only when they are written). */
  probabilities: boolean;
}

const EMPTY = new Float32Array(0);

export class Scoring {
  private readonly slots: ResultSlots;
  /** What a scored batch holds until it has been consumed (its result slot, its pixels' buffer). */
  private readonly held = new Map<number, () => void>();

  constructor(
    private readonly pool: ForwardPool,
    private readonly source: Source,
    private readonly input: SourceOptions,
    private readonly options: ScoringOptions,
  ) {
    this.slots = new ResultSlots(options.batchSize);
  }

  /** Blocks decoded and scored in one task (every row is good or the run fails: blocks are exact batches). */
  async scoreBlocks(blocks: Block[]): Promise<ScoredGroup> {
    const started = performance.now();
    const outs = blocks.map((block) => this.slotFor(block.index));
    const task: ForwardTask = {
      kind: 'score-blocks',
      network: this.pool.shared,
      spec: decodeSpec(this.source, this.input),
      blocks: blocks.map(blockData),
      outs,
      want: { pixels: this.options.pixels, probabilities: this.options.probabilities },
    };
    try {
      const describe = () => describeBlocks(blocks);
      const result = this.scored(await this.run(task, describe), describe);
      const latencyMs = performance.now() - started;
      const batches: ScoredBatch[] = [];
      for (const [i, item] of result.items.entries()) {
        if (item.rowErrors.length > 0 && this.options.onError === 'fail')
          return { batches, error: this.dataError(item.rowErrors[0]) };
        // The block's good rows, in its slot (made for all its rows, good or bad).
        const views = resultViews(outs[i], blocks[i].rows, item.rows);
        batches.push({ ...item, ...views, x: item.x ?? EMPTY, latencyMs, kernel: result.kernel });
      }
      return { batches, error: result.failure === null ? null : this.dataError(result.failure) };
    } finally {
      for (const block of blocks) block.release();
    }
  }

  /** Batches already decoded, scored where they are (shared memory). */
  async scoreBatches(group: PooledBatch[]): Promise<ScoredGroup> {
    const started = performance.now();
    const batches = group.map((batch) => ({
      index: batch.index,
      rows: batch.rows,
      x: batch.x,
      out: this.slotFor(batch.index, batch.release),
    }));
    const task: ForwardTask = {
      kind: 'score-batches',
      network: this.pool.shared,
      batches,
      want: { probabilities: this.options.probabilities },
    };
    const which = group.length === 1 ? `batch ${group[0].index}` : `batches ${group[0].index}-${group.at(-1)!.index}`;
    const describe = () => `${which} (${describeLines(group[0].lines[0], group.at(-1)!.lines.at(-1)!)})`;
    const result = this.scored(await this.run(task, describe), describe);
    const latencyMs = performance.now() - started;
    const scored = result.items.map((item, i): ScoredBatch => {
      const { predicted, confidence } = resultViews(batches[i].out, item.rows);
      const { labels, lines, x } = group[i];
      return {
        ...item,
        predicted,
        confidence,
        labels,
        lines,
        x: this.options.pixels ? x : EMPTY,
        latencyMs,
        kernel: result.kernel,
      };
    });
    return { batches: scored, error: null };
  }

  /** Blocks decoded only (in a worker); their rows go on to exact batches. */
  async decodeBlocks(blocks: Block[]): Promise<DecodedBlock[]> {
    try {
      const result = await this.run(
        { kind: 'decode-blocks', spec: decodeSpec(this.source, this.input), blocks: blocks.map(blockData) },
        () => describeBlocks(blocks),
      );
      if (!result.ok) throw new PipelineError('PIPE_ERR_WORKER', `${describeBlocks(blocks)}: ${result.message}`);
      if (result.kind !== 'decoded') throw new TypeError('decodeBlocks: not a decoded result');
      return result.items.map(({ batch, rowErrors, failure }) => ({ batch, errors: rowErrors, failure }));
    } finally {
      for (const block of blocks) block.release();
    }
  }

  /** A scored batch has been consumed: what it held goes back. */
  done(batch: ScoredBatch): void {
    this.held.get(batch.index)?.();
    this.held.delete(batch.index);
  }

  /** An item taken but never scored. */
  drop(item: WorkItem): void {
    if (item.kind === 'blocks') for (const block of item.blocks) block.release();
    else for (const batch of item.batches) batch.release();
  }

  private run(task: ForwardTask, describe: () => string): Promise<ForwardResult> {
    return runTask(this.pool, task, { taskTimeoutMs: this.options.taskTimeoutMs, describe });
  }

  private scored(result: ForwardResult, describe: () => string): Scored {
    // The worker ran the task and says it cannot be done: the same on any worker (so not retried).
    if (!result.ok) throw new PipelineError('PIPE_ERR_WORKER', `${describe()}: ${result.message}`);
    if (result.kind !== 'scored') throw new TypeError('expected scored batches');
    return result;
  }

  /** A result slot for batch `index`, given back (with `also`) once the batch has been consumed. */
  private slotFor(index: number, also?: () => void): SharedArrayBuffer {
    const slot = this.slots.acquire();
    this.held.set(index, () => {
      this.slots.recycle(slot);
      also?.();
    });
    return slot;
  }

  private dataError({ line, message }: { line: number; message: string }): DataError {
    return this.source.lineMap.error(line, message);
  }
}

/** Scored groups, flattened: their batches in order, and a group's error after the batches before it. */
export async function* scoredBatches(groups: AsyncIterable<ScoredGroup>): AsyncGenerator<ScoredBatch, void, undefined> {
  for await (const { batches, error } of groups) {
    yield* batches;
    if (error !== null) throw error;
  }
}

function describeBlocks(blocks: Block[]): string {
  const first = blocks[0];
  const last = blocks.at(-1)!;
  const which = blocks.length === 1 ? `batch ${first.index}` : `batches ${first.index}-${last.index}`;
  return `${which} (${describeLines(first.firstLine, lastLineOf(blockData(last)))})`;
}
