// The `history` command's views of a run history: trends against the previous run, a table for people,
// and a JSON document for machines.
import type { HistoryContents } from './history-file.js';
import type { RunRecord } from './run-record.js';

export interface Trend {
  /** Accuracy minus the previous run's (a fraction: 0.0012 = +0.12 percentage points); null without both. */
  accuracyDelta: number | null;
  /** images/s minus the previous run's; null without both. */
  imagesPerSecondDelta: number | null;
  /** images/s relative to the previous run's, minus 1 (0.05 = 5 % faster); null without both. */
  imagesPerSecondChange: number | null;
  /** The model file's content changed since the previous run (different sha256). */
  modelChanged: boolean;
}

export type RunWithTrend = RunRecord & { line: number; trend: Trend };

/**
 * Each run against the previous run that has the same figure: a run without an accuracy (failed before
 * scoring, unlabeled input) is skipped over, so one failure does not hide the next run's trend.
 */
export function withTrends(records: HistoryContents['records']): RunWithTrend[] {
  let accuracy: number | null = null;
  let speed: number | null = null;
  let model: string | null = null;
  return records.map((record) => {
    // A run that scored nothing has no throughput worth comparing.
    const ips = record.rows > 0 ? record.imagesPerSecond : null;
    const trend: Trend = {
      accuracyDelta: record.accuracy !== null && accuracy !== null ? record.accuracy - accuracy : null,
      imagesPerSecondDelta: ips !== null && speed !== null ? ips - speed : null,
      imagesPerSecondChange: ips !== null && speed !== null && speed > 0 ? ips / speed - 1 : null,
      modelChanged: record.model.sha256 !== null && model !== null && record.model.sha256 !== model,
    };
    if (record.accuracy !== null) accuracy = record.accuracy;
    if (ips !== null) speed = ips;
    if (record.model.sha256 !== null) model = record.model.sha256;
    return { ...record, trend };
  });
}

const EPSILON_PP = 0.005; // accuracy changes below 0.005 percentage points print as "="
const EPSILON_CHANGE = 0.0005; // throughput changes below 0.05 % print as "="

function arrow(value: number, epsilon: number): string {
  if (Math.abs(value) < epsilon) return '=';
  return value > 0 ? '▲' : '▼';
}

const integer = (n: number) => Math.round(n).toLocaleString('en-US');

function accuracyCell(run: RunWithTrend): string {
  if (run.accuracy === null) return '—';
  const value = `${(run.accuracy * 100).toFixed(2)}%`;
  const delta = run.trend.accuracyDelta;
  if (delta === null) return value;
  const pp = delta * 100;
  if (Math.abs(pp) < EPSILON_PP) return `${value} =`;
  return `${value} ${arrow(pp, EPSILON_PP)} ${pp > 0 ? '+' : ''}${pp.toFixed(2)} pp`;
}

function speedCell(run: RunWithTrend): string {
  if (run.imagesPerSecond === null || run.rows === 0) return '—';
  const value = integer(run.imagesPerSecond);
  const change = run.trend.imagesPerSecondChange;
  if (change === null) return value;
  if (Math.abs(change) < EPSILON_CHANGE) return `${value} =`;
  const percent = change * 100;
  return `${value} ${arrow(change, EPSILON_CHANGE)} ${percent > 0 ? '+' : ''}${percent.toFixed(1)}%`;
}

function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

/** What a person wants to know about a run that did not simply complete. */
function note(run: RunWithTrend): string {
  const parts: string[] = [];
  if (run.forced) parts.push('forced exit');
  if (run.error) parts.push(run.error.message);
  else if (run.signal && run.status === 'interrupted') parts.push(`stopped by ${run.signal}`);
  const text = parts.join('; ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

const started = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function formatHistoryTable(runs: RunWithTrend[]): string {
  const header = [
    'line',
    'started (UTC)',
    'status',
    'exit',
    'rows',
    'accuracy',
    'images/s',
    'p99 ms',
    'took',
    'model',
    'note',
  ];
  const right = new Set([0, 3, 4, 7, 8]);
  const rows = runs.map((run) => [
    String(run.line),
    started(run.startedAt),
    run.status,
    String(run.exitCode),
    integer(run.rows),
    accuracyCell(run),
    speedCell(run),
    run.batchP99Ms === null ? '—' : run.batchP99Ms.toFixed(1),
    duration(run.durationMs),
    run.model.sha256 === null ? '—' : `${run.model.sha256.slice(0, 8)}${run.trend.modelChanged ? '*' : ''}`,
    note(run),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (runs.some((r) => r.trend.modelChanged)) out.push('', '* the model file changed since the previous run');
  return out.join('\n');
}

export interface HistoryDocument {
  file: string;
  /** Runs in the file (all of them, before --last). */
  total: number;
  runs: RunWithTrend[];
  /** The incomplete last line, skipped (the next run's append repairs it). */
  tornTail: HistoryContents['tornTail'];
  /** Other lines that are not run records, skipped. */
  problems: HistoryContents['problems'];
}

export function historyDocument(file: string, contents: HistoryContents, last: number | null): HistoryDocument {
  const runs = withTrends(contents.records);
  return {
    file,
    total: runs.length,
    runs: last === null ? runs : runs.slice(-last),
    tornTail: contents.tornTail,
    problems: contents.problems,
  };
}
