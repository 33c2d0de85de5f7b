// Shared by the data-path tests (not a test file itself): bytes cut into blocks by the real Framer, fed
// as the stream reader feeds it (copied into chunks of the pool, in pieces of a chosen size).
import { ChunkPool } from '../../src/data/chunks.js';
import { Framer, type FramerOptions } from '../../src/data/framer.js';
import type { Block } from '../../src/data/types.js';

export interface Framed {
  blocks: Block[];
  framer: Framer;
  pool: ChunkPool;
}

export function frameBytes(
  bytes: Uint8Array,
  options: Partial<FramerOptions> & {
    features: number;
    rowsPerBlock: number;
    chunkBytes?: number;
    pieceBytes?: number;
  },
): Framed {
  const pool = new ChunkPool(options.chunkBytes ?? 1 << 20);
  const framer = new Framer({ file: 'input.csv', maxRecordBytes: 65536, ...options });
  const pieceBytes = options.pieceBytes ?? pool.chunkBytes;
  const blocks: Block[] = [];
  let chunk = pool.acquire();
  let filled = 0;
  for (let from = 0; from < bytes.length && framer.failure === null && !framer.done; ) {
    if (filled === pool.chunkBytes) {
      chunk.release();
      chunk = pool.acquire();
      filled = 0;
    }
    const take = Math.min(bytes.length - from, pool.chunkBytes - filled, pieceBytes);
    chunk.bytes.set(bytes.subarray(from, from + take), filled);
    blocks.push(...framer.push({ chunk, start: filled, end: filled + take }));
    from += take;
    filled += take;
  }
  chunk.release();
  blocks.push(...framer.finish());
  return { blocks, framer, pool };
}

/** A block's bytes, joined. */
export function blockBytes(block: Block): Buffer {
  return Buffer.concat(block.segments.map(({ buffer, start, end }) => Buffer.from(buffer, start, end - start)));
}
