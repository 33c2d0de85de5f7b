// The `--html` page's collected state in a report's `partial` block (`partial.page`), so that `nnpipe merge
// --html` and `nnpipe submit --html` can build the page of the whole input from its shards' reports. A run
// writes it when it has --html (docs/scale-out.md). Bounded: the images are what the collector holds at the
// end (at most T + k(k-1) for k classes: 330 for MNIST, mostly fewer), as the page's own fixed-size records
// (run-data.ts) deflated and in base64; the latency buckets as sparse [index, count] pairs; the throughput
// timeline as its points.
//
// Merged exactly: the images (mistakes.ts, mergeHeldImages, with absolute lines) and the latency buckets
// (summed). The throughput timeline cannot be: each shard's is on its own machine's clock. The merged line
// is the sum of the shards' own lines, each placed at its shard's start on the wall clock (the page says so).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { MergeError } from '../stats/merge.js';
import type { PipelineReport } from '../stats/report.js';
import type { ThroughputPoint } from '../stats/timeline.js';
import { mergeHeldImages, type HeldImages, type KeptImage } from './mistakes.js';
import { writeFileAtomic } from '../output/write-file.js';
import { decodeImageRecords, encodeImageRecords } from './run-data.js';
import { buildRunPage, type RunPageInput } from './run-page.js';

/** `partial.page`: JSON. */
export interface PageState {
  features: number;
  classes: number;
  /** T. */
  budget: number;
  mistakeCount: number;
  labeled: number;
  unlabeled: number;
  /** The held images' records (run-data.ts), deflated (raw), base64. Lines in the run's own numbering. */
  images: string;
  latency: {
    minMs: number;
    perDecade: number;
    buckets: number;
    batch: [number, number][];
    compute: [number, number][];
  };
  throughput: {
    maxPoints: number;
    windowMs: number;
    points: [seconds: number, imagesPerSecond: number, rows: number][];
  };
}

/** What a collector has at the end of a run (RunPageCollector.pageState gathers it). */
export interface PageStateInput {
  held: HeldImages;
  features: number;
  latency: { minMs: number; perDecade: number; batch: ArrayLike<number>; compute: ArrayLike<number> };
  throughput: { maxPoints: number; windowMs: number; points: ThroughputPoint[] };
}

export function encodePageState(input: PageStateInput): PageState {
  const { held, features, latency, throughput } = input;
  const sparse = (counts: ArrayLike<number>): [number, number][] =>
    Array.from(counts, (n, i): [number, number] => [i, n]).filter(([, n]) => n > 0);
  return {
    features,
    classes: held.classes,
    budget: held.budget,
    mistakeCount: held.mistakeCount,
    labeled: held.labeled,
    unlabeled: held.unlabeled,
    images: deflateRawSync(Buffer.from(encodeImageRecords(held.images, features), 'base64')).toString('base64'),
    latency: {
      minMs: latency.minMs,
      perDecade: latency.perDecade,
      buckets: latency.batch.length,
      batch: sparse(latency.batch),
      compute: sparse(latency.compute),
    },
    throughput: {
      maxPoints: throughput.maxPoints,
      windowMs: throughput.windowMs,
      points: throughput.points.map((p) => [p.seconds, p.imagesPerSecond, p.rows]),
    },
  };
}

const count = z.number().check(z.refine((n) => Number.isSafeInteger(n) && n >= 0, 'must be an integer >= 0'));
const positive = count.check(z.refine((n) => n >= 1, 'must be at least 1'));
const pairs = z.array(z.tuple([count, z.number()]));

/** What a merge accepts as `partial.page` (untrusted input, like the rest of the block). */
export const pageStateSchema = z.object({
  features: positive,
  classes: positive,
  budget: count,
  mistakeCount: count,
  labeled: count,
  unlabeled: count,
  images: z.string(),
  latency: z.object({ minMs: z.number(), perDecade: z.number(), buckets: positive, batch: pairs, compute: pairs }),
  throughput: z.object({
    maxPoints: positive,
    windowMs: z.number(),
    points: z.array(z.tuple([z.number(), z.number(), z.number()])),
  }),
});

/** A shard of a merge, as the page needs it. */
export interface PagePart {
  name: string;
  /** Its report's `partial.page` (undefined when the run kept none). */
  page: unknown;
  /** Rows it scored: a shard without rows needs no page state. */
  rows: number;
  lineOffset: number;
  /** Its start, ms after the merged run's start. */
  startMs: number;
}

/** A shard's page state, checked, its images decoded. */
export interface ReadPageState {
  state: PageState;
  held: HeldImages;
}

/** The parts' page states, checked; refuses (MergeError) naming every shard that has none, or a broken one. */
export function readPageStates(parts: PagePart[]): (ReadPageState | null)[] {
  const lacking: string[] = [];
  const states = parts.map((part) => {
    if (part.page === undefined) {
      if (part.rows > 0) lacking.push(part.name);
      return null;
    }
    const result = z.safeParse(pageStateSchema, part.page);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new MergeError(
        `${part.name}: cannot be merged into a page: partial.page.${issue.path.join('.')} ${issue.message}`,
      );
    }
    const state = result.data as PageState;
    return { state, held: heldOf(part.name, state) };
  });
  if (lacking.length > 0) {
    throw new MergeError(
      `--html: ${lacking.join(', ')} ${lacking.length > 1 ? 'have' : 'has'} no page data (partial.page): run the ` +
        `shards with --html (and an nnpipe that keeps it) to merge their page`,
    );
  }
  return states;
}

/**
 * The page input of the merged run: its report, the images and latency merged, the throughput summed on the wall clock.
 */
export function mergedPageInput(report: PipelineReport, parts: PagePart[]): RunPageInput {
  const states = readPageStates(parts);
  const kept = parts.flatMap((part, i) => (states[i] === null ? [] : [{ part, ...states[i]! }]));
  if (kept.length === 0) throw new MergeError('--html: no shard has page data (partial.page) to merge');
  const first = kept[0].state;
  for (const { part, state } of kept) {
    const same =
      state.features === first.features &&
      state.classes === first.classes &&
      state.budget === first.budget &&
      state.latency.buckets === first.latency.buckets &&
      state.latency.minMs === first.latency.minMs &&
      state.latency.perDecade === first.latency.perDecade &&
      state.throughput.maxPoints === first.throughput.maxPoints;
    if (!same)
      throw new MergeError(
        `${part.name}` +
          `: its page data has another shape (features, classes, image budget, latency scale or timeline points) ` +
          `than ${kept[0].part.name}'s`,
      );
  }
  const images = mergeHeldImages(kept.map(({ part, held }) => ({ held, lineOffset: part.lineOffset })));
  const sumBuckets = (key: 'batch' | 'compute') => {
    const counts = new Float64Array(first.latency.buckets);
    for (const { state } of kept) for (const [i, n] of state.latency[key]) if (i < counts.length) counts[i] += n;
    return counts;
  };
  const { maxPoints } = first.throughput;
  return {
    report,
    images,
    features: first.features,
    throughput: summedTimeline(
      kept.map(({ part, state }) => ({ startMs: part.startMs, points: state.throughput.points })),
      maxPoints,
    ),
    throughputWindowMs: Math.max(...kept.map(({ state }) => state.throughput.windowMs)),
    timelinePoints: maxPoints,
    latency: {
      minMs: first.latency.minMs,
      perDecade: first.latency.perDecade,
      batch: sumBuckets('batch'),
      compute: sumBuckets('compute'),
    },
    mergedShards: parts.length,
  };
}

/** Writes a run page atomically (the merged run's: mergedPageInput). */
export async function writePageInput(path: string, input: RunPageInput): Promise<void> {
  await writeFileAtomic(path, buildRunPage(input));
}

function heldOf(name: string, state: PageState): HeldImages {
  let records: Buffer;
  try {
    records = inflateRawSync(Buffer.from(state.images, 'base64'));
  } catch {
    throw new MergeError(`${name}: cannot be merged into a page: partial.page.images is not deflated image records`);
  }
  let images: KeptImage[];
  try {
    images = decodeImageRecords(records.toString('base64'), state.features);
  } catch (error) {
    throw new MergeError(`${name}: cannot be merged into a page: partial.page.images: ${(error as Error).message}`);
  }
  return {
    classes: state.classes,
    budget: state.budget,
    images,
    mistakeCount: state.mistakeCount,
    labeled: state.labeled,
    unlabeled: state.unlabeled,
  };
}

type Timeline = { startMs: number; points: PageState['throughput']['points'] };

/**
 * `maxPoints` points evenly spaced up to the last shard's end: at each, the sum over the shards of their
 * own rate and rows at that moment (linear between their points, from 0 at their start; rate 0 and every
 * row after their end).
 */
export function summedTimeline(timelines: Timeline[], maxPoints: number): ThroughputPoint[] {
  const shifted = timelines
    .filter((t) => t.points.length > 0)
    .map((t) => ({ startMs: t.startMs, points: [[0, 0, 0] as const, ...t.points] }));
  if (shifted.length === 0) return [];
  const end = Math.max(...shifted.map((t) => t.startMs + 1000 * t.points[t.points.length - 1][0]));
  const out: ThroughputPoint[] = [];
  for (let j = 1; j <= maxPoints; j++) {
    const at = j === maxPoints ? end : (end * j) / maxPoints;
    let rate = 0;
    let rows = 0;
    for (const { startMs, points } of shifted) {
      // At or after the shard's end, compared with the very sum `end` was the maximum of (no rounding).
      const last = points[points.length - 1];
      const endMs = startMs + 1000 * last[0];
      const [r, n] = at >= endMs ? [at === endMs ? last[1] : 0, last[2]] : valueAt(points, (at - startMs) / 1000);
      rate += r;
      rows += n;
    }
    out.push({ seconds: at / 1000, imagesPerSecond: rate, rows });
  }
  return out;
}

/** [rate, rows] of one timeline at `seconds` after its start. */
function valueAt(points: readonly (readonly [number, number, number])[], seconds: number): [number, number] {
  if (seconds <= 0) return [0, 0];
  const last = points[points.length - 1];
  if (seconds >= last[0]) return seconds === last[0] ? [last[1], last[2]] : [0, last[2]];
  let i = 1;
  while (points[i][0] < seconds) i += 1;
  const [a, b] = [points[i - 1], points[i]];
  const share = b[0] === a[0] ? 1 : (seconds - a[0]) / (b[0] - a[0]);
  return [a[1] + share * (b[1] - a[1]), a[2] + share * (b[2] - a[2])];
}
