// Number formatting shared by the experiment's table and page (the JSON and CSV keep full precision).
import type { Configuration } from './types.js';

/** 12,345 */
export const int = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** About three significant digits: 0.0123, 0.573, 2.14, 31.2, 562. */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return x.toFixed(a < 0.01 ? 4 : a < 1 ? 3 : a < 10 ? 2 : a < 100 ? 1 : 0);
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)}`;

export const percent = (ratio: number): string => `${(ratio * 100).toFixed(2)}%`;

export const rmeText = (rme: number | null): string => (rme === null ? 'n/a' : `±${rme.toFixed(1)}%`);

export const speedupText = (s: number | null): string => (s === null ? '-' : `${s.toFixed(2)}x`);

/** The speed-up column's head names its baseline: "vs batch 1", or "vs batch 10" when the grid starts there. */
export const speedupHead = (baseline: number | null): string =>
  baseline === null ? 'speed-up' : `vs batch ${baseline}`;

/** "the smallest batch size measured, 10," for the notes under the table and on the page. */
export const speedupNote = (baseline: number | null): string =>
  `${speedupHead(baseline)}: speed-up over ${
    baseline === null ? 'the smallest batch size measured' : `batch size ${baseline} (the smallest measured)`
  } at the same pool, threads and in-flight`;

/** "1 configuration", "3 configurations". */
export const configurations = (n: number): string => `${n} configuration${n === 1 ? '' : 's'}`;

export function bestText(row: { bestThroughput: boolean; bestP99: boolean }): string {
  return [row.bestThroughput ? 'best images/s' : '', row.bestP99 ? 'best p99' : ''].filter(Boolean).join(', ');
}

/** "warm" or "fresh (probe)". */
export const poolText = (c: Configuration): string => (c.probe ? `${c.pool} (probe)` : c.pool);

/** A series label for the charts: "warm, 2 threads, 4 in flight". */
export const seriesText = (pool: string, threads: number, maxInFlight: number): string =>
  `${pool}, ${threads} thread${threads === 1 ? '' : 's'}, ${maxInFlight} in flight`;
