// The human-readable end-of-run summary for a terminal (the JSON report is the machine-readable one).
// About 30-40 lines for 10 classes: figures, the confusion matrix with per-class rows under it (the
// columns line up with the matrix's), and the configuration. Colour is the caller's decision (NO_COLOR,
// TTY detection); this function only takes `color`.
import type { ClassStats } from './confusion.js';
import type { LatencySummary } from './latency.js';
import type { PipelineReport } from './report.js';

export interface SummaryOptions {
  /** Use ANSI colours (diagonal, status). Default false. */
  color?: boolean;
}

/** How many row errors the summary lists (the report keeps more). */
const SHOWN_ROW_ERRORS = 5;
/** Longest configuration line for options the summary has no special place for. */
const MAX_OTHER_CONFIG_CHARS = 110;

export function formatSummary(report: PipelineReport, options: SummaryOptions = {}): string {
  const paint = painter(options.color ?? false);
  const lines: string[] = [];

  lines.push(statusLine(report, paint));
  if (report.error) lines.push(`  ${paint('31', 'error')} ${report.error.code}: ${clean(report.error.message)}`);
  lines.push(
    `  rows ${int(report.rows)}   labeled ${int(report.labeled)}   skipped ${int(report.skipped)}   batches ` +
      `${int(report.batches)}`,
  );
  lines.push(
    report.accuracy === null
      ? '  accuracy not available (input has no labels)'
      : `  accuracy ${paint('1', percent(report.accuracy))} (${int(report.correct)} / ${int(report.labeled)} labeled ` +
          `rows correct)`,
  );
  const steady =
    report.imagesPerSecondAfterFirstResult === null ? 'n/a' : int(Math.round(report.imagesPerSecondAfterFirstResult));
  lines.push(
    `  throughput ${int(Math.round(report.imagesPerSecond))} images/s whole run, ${steady} images/s after the first ` +
      `result (excluding start-up)`,
  );
  lines.push(
    `  first result after ${report.timeToFirstResultMs === null ? 'n/a (no result)' : duration(report.timeToFirstResultMs)}` +
      `   peak RSS ${mib(report.peakRssBytes)}`,
  );
  lines.push(`  batch latency  ${latency(report.batchLatencyMs, ['p50', 'p90', 'p99', 'max'])}${perImage(report)}`);
  lines.push(`  worker compute ${latency(report.computeLatencyMs, ['p50', 'p99'])}`);

  if (report.skipped > 0) {
    const shown = report.errors.slice(0, SHOWN_ROW_ERRORS);
    lines.push(`  skipped rows (first ${shown.length} of ${int(report.skipped)}):`);
    for (const e of shown)
      lines.push(`    ${e.file === undefined ? 'line ' : `${clean(e.file)}:`}${e.line}: ${clean(e.message)}`);
  }

  if (report.confusionMatrix && report.perClass) {
    lines.push('', ...confusionTable(report.confusionMatrix, report.perClass, paint));
  }

  lines.push('', ...configuration(report));
  return `${lines.join('\n')}\n`;
}

/**
 * The run in one line, for a log or a schedule's output where the full summary would repeat every few
 * minutes: "complete: 10,000 rows in 0.32 s, accuracy 98.17%, 31,155 images/s (12 skipped)".
 */
export function formatSummaryLine(report: PipelineReport): string {
  const parts = [`${report.status}: ${int(report.rows)} rows in ${duration(report.durationMs)}`];
  parts.push(report.accuracy === null ? 'no labels' : `accuracy ${percent(report.accuracy)}`);
  parts.push(`${int(Math.round(report.imagesPerSecond))} images/s`);
  const skipped = report.skipped > 0 ? ` (${int(report.skipped)} skipped)` : '';
  const error = report.error ? `; ${report.error.code}: ${clean(report.error.message)}` : '';
  return `${parts.join(', ')}${skipped}${error}`;
}

type Paint = (code: string, text: string) => string;

function painter(color: boolean): Paint {
  // Each span resets everything it set, so padding applied outside stays aligned and uncoloured.
  return color ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}

function statusLine(report: PipelineReport, paint: Paint): string {
  const took = duration(report.durationMs) + (report.shards ? ` (${report.shards.length} shards merged)` : '');
  switch (report.status) {
    case 'complete':
      return `nnpipe: run ${paint('32', 'complete')}: ${int(report.rows)} rows in ${took}`;
    case 'failed':
      return `nnpipe: run ${paint('1;31', 'FAILED')} after ${took}: ${int(report.rows)} rows done before the failure`;
    case 'interrupted':
      return `nnpipe: run ${paint('33', 'interrupted')} after ${took}: ${int(report.rows)} rows done (partial results)`;
  }
}

/** The matrix with true labels down and predictions across, then per-class rows under the same columns. */
function confusionTable(matrix: number[][], perClass: ClassStats[], paint: Paint): string[] {
  const classes = matrix.length;
  const ratio = (x: number | null): string => (x === null ? '-' : (x * 100).toFixed(1));
  const footer: [string, string[]][] = [
    ['support', perClass.map((c) => String(c.support))],
    ['predicted', perClass.map((c) => String(c.predicted))],
    ['acc/recall %', perClass.map((c) => ratio(c.recall))],
    ['precision %', perClass.map((c) => ratio(c.precision))],
  ];
  const corner = 'true\\pred';
  const labelWidth = Math.max(corner.length, ...footer.map(([label]) => label.length));
  const cells = [...matrix.flat().map(String), ...footer.flatMap(([, values]) => values), String(classes - 1)];
  const width = Math.max(...cells.map((c) => c.length)) + 2;

  const row = (label: string, values: string[], highlight = -1): string =>
    `  ${label.padStart(labelWidth)}` +
    values.map((v, i) => ' '.repeat(width - v.length) + (i === highlight ? paint('1;32', v) : v)).join('');

  return [
    '  Confusion matrix (rows: true label, columns: predicted) and per-class results (accuracy = recall)',
    row(
      corner,
      matrix.map((_, i) => String(i)),
    ),
    ...matrix.map((counts, t) => row(String(t), counts.map(String), t)),
    ...footer.map(([label, values]) => row(label, values)),
  ];
}

function configuration(report: PipelineReport): string[] {
  const { config, model, input } = report;
  // Shown with the model and input (or duplicates of them), so not repeated under "other".
  const used = new Set<string>(['model', 'input', 'modelPath', 'inputPath', 'activation', 'output']);
  const pick = (label: string, ...keys: string[]): string | null => {
    for (const key of keys) {
      if (key in config) {
        used.add(key);
        return `${label} ${scalar(config[key])}`;
      }
    }
    return null;
  };
  const known = [
    pick('batch size', 'batchSize', 'batch-size'),
    pick('threads', 'threads', 'workers'),
    pick('max in flight', 'maxInFlight', 'max-in-flight'),
    pick('normalize', 'normalize', 'normalization'),
    pick('on error', 'onError', 'on-error'),
  ].filter((s): s is string => s !== null);

  const modelDetails = [
    model.format,
    `sha256 ${model.sha256.slice(0, 12)}`,
    model.layerSizes.join('-'),
    `${model.activation} -> ${model.output}`,
    ...(model.transposed && model.transposed.length > 0 ? [`transposed ${model.transposed.join(' ')}`] : []),
  ];
  const inputDetails = [
    input.bytes === null ? null : mib(input.bytes),
    input.hasHeader === null ? null : input.hasHeader ? 'header' : 'no header',
    input.labeled === null ? null : input.labeled ? 'labeled' : 'unlabeled',
    `parser ${input.parser}`,
    input.decode === undefined ? null : `decoded in ${input.decode === 'workers' ? 'the workers' : 'the main thread'}`,
  ].filter((s): s is string => s !== null);

  const lines = ['  Configuration'];
  if (known.length > 0) lines.push(`    ${known.join('   ')}`);
  lines.push(`    model ${clean(model.path)} (${modelDetails.join(', ')})`);
  if (input.files === undefined) lines.push(`    input ${clean(input.path)} (${inputDetails.join(', ')})`);
  else {
    lines.push(`    input ${input.files.length} files (${inputDetails.join(', ')})`);
    for (const file of input.files)
      lines.push(
        `      ${clean(file.path)} (${int(file.rows)} rows${file.skipped > 0 ? `, ${int(file.skipped)} skipped` : ''})`,
      );
  }

  const others = Object.entries(config)
    .filter(([key, value]) => !used.has(key) && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => `${key}=${scalar(value)}`);
  if (others.length > 0) {
    const text = `other: ${others.join(', ')}`;
    lines.push(
      `    ${text.length > MAX_OTHER_CONFIG_CHARS ? `${text.slice(0, MAX_OTHER_CONFIG_CHARS - 3)}...` : text}`,
    );
  }
  return lines;
}

function latency(summary: LatencySummary, fields: (keyof LatencySummary)[]): string {
  if (summary.count === 0) return 'n/a (no batches)';
  return fields.map((f) => `${f} ${milliseconds(summary[f])}`).join('  ');
}

function perImage(report: PipelineReport): string {
  return report.perImageLatencyMs === null ? '' : `  (${milliseconds(report.perImageLatencyMs)} per image)`;
}

function scalar(value: unknown): string {
  return clean(value === null || typeof value !== 'object' ? String(value) : JSON.stringify(value));
}

/**
 * One line of plain text: messages can quote raw input fields, and control characters (newlines, ANSI
 * escapes) from a hostile or broken file must not break the layout or drive the terminal.
 */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' || c === '\t' ? ' ' : '?'));
}

/** Integer with thousands separators, independent of the locale: 12,345. */
function int(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

/** Milliseconds with about three significant digits. */
function milliseconds(ms: number): string {
  if (ms === 0) return '0 ms';
  const decimals = ms < 0.01 ? 4 : ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${ms.toFixed(decimals)} ms`;
}

/** A duration: milliseconds below a second, seconds above. */
function duration(ms: number): string {
  return ms < 1000 ? milliseconds(ms) : `${(ms / 1000).toFixed(2)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
