// The experiment's CSV: a header and one row per measured configuration, full precision, for spreadsheets
// and plotting scripts. Whether the experiment was complete is repeated on every row (`experiment_status`,
// `experiment_partial`) so that a row read on its own still says so.
import type { ExperimentDocument, ExperimentResult } from './document.js';

const COLUMNS: [string, (r: ExperimentResult, doc: ExperimentDocument) => string | number | boolean | null][] = [
  ['id', (r) => r.config.id],
  ['pool', (r) => r.config.pool],
  ['fresh_probe', (r) => r.config.probe],
  ['batch_size', (r) => r.config.batchSize],
  ['threads', (r) => r.config.threads],
  ['max_in_flight', (r) => r.config.maxInFlight],
  ['max_in_flight_spec', (r) => r.config.maxInFlightSpec],
  ['samples', (r) => r.samples],
  ['passes', (r) => r.passes],
  ['rows', (r) => r.rows],
  ['images_per_second_mean', (r) => r.imagesPerSecond.mean],
  ['images_per_second_moe', (r) => r.imagesPerSecond.moe],
  ['rme_percent', (r) => r.imagesPerSecond.rme],
  ['images_per_second_median', (r) => r.imagesPerSecond.median],
  ['pass_seconds_mean', (r) => r.passSeconds.mean],
  ['pass_seconds_median', (r) => r.passSeconds.median],
  ['batch_latency_p50_ms', (r) => r.batchLatencyMs.p50],
  ['batch_latency_p90_ms', (r) => r.batchLatencyMs.p90],
  ['batch_latency_p99_ms', (r) => r.batchLatencyMs.p99],
  ['per_image_latency_ms', (r) => r.perImageLatencyMs],
  ['compute_latency_p50_ms', (r) => r.computeLatencyP50Ms],
  ['time_to_first_result_ms', (r) => r.timeToFirstResultMs],
  ['peak_rss_bytes', (r) => r.peakRssBytes],
  ['baseline_rss_bytes', (r) => r.baselineRssBytes],
  ['accuracy', (r) => r.accuracy],
  ['speedup', (r) => r.speedup],
  ['speedup_baseline_batch_size', (r) => r.speedupBaseline],
  ['best_throughput', (r) => r.bestThroughput],
  ['best_p99', (r) => r.bestP99],
  ['experiment_status', (_r, doc) => doc.status],
  ['experiment_partial', (_r, doc) => doc.partial],
];

export const CSV_HEADER = COLUMNS.map(([name]) => name);

/** RFC 4180: quote a field that holds a comma, a quote or a line break. */
function field(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function experimentCsv(doc: ExperimentDocument): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of doc.results) lines.push(COLUMNS.map(([, get]) => field(get(r, doc))).join(','));
  return `${lines.join('\n')}\n`;
}
