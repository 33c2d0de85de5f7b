// Shared bits of the model tests: temp folders, the tiny-network fixture, and a check that an error is a
// ModelError naming the file (and whatever else the test cares about).
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ModelError } from '../../src/errors.js';
import type { Tensor } from '../../src/nn/types.js';
import { fixture } from '../helpers/paths.js';

/** A fresh temp folder, removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-nn-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const modelFixture = (name: string): string => fixture(`models/${name}`);

export interface TinyFixture {
  tensors: Map<string, Tensor>;
  probe: { rows: number; x: Float32Array; probabilities: Float32Array };
}

/** The tiny 4-3-2 network's values and probe, as numpy wrote them to tiny.json. */
export function loadTinyFixture(): TinyFixture {
  const json = JSON.parse(readFileSync(modelFixture('tiny.json'), 'utf8')) as {
    tensors: Record<string, { shape: number[]; data: number[] }>;
    probe: { rows: number; x: number[]; probabilities: number[] };
  };
  const tensors = new Map<string, Tensor>(
    Object.entries(json.tensors).map(([name, { shape, data }]) => [name, { shape, data: Float32Array.from(data) }]),
  );
  return {
    tensors,
    probe: {
      rows: json.probe.rows,
      x: Float32Array.from(json.probe.x),
      probabilities: Float32Array.from(json.probe.probabilities),
    },
  };
}

/**
 * Asserts that `run` rejects with a ModelError (code PIPE_ERR_MODEL) whose message names `file` and matches every
 * pattern.
 */
export async function assertModelError(
  t: ExecutionContext,
  run: () => unknown,
  file: string,
  ...patterns: RegExp[]
): Promise<ModelError | undefined> {
  const error = await t.throwsAsync(async () => run(), { instanceOf: ModelError, code: 'PIPE_ERR_MODEL' });
  if (!error) return undefined;
  t.is(error.file, file);
  t.true(error.message.startsWith(`${file}: `), `message names the file: ${error.message}`);
  for (const pattern of patterns) t.regex(error.message, pattern);
  return error;
}

/** Bit-for-bit equality of two float32 arrays (NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((value, i) => value === ub[i]);
}
