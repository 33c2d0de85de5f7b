// A progress bar on stderr while a run streams: bytes read against the file size (so an ETA) when
// the size is known; with --limit, rows against the limit (or the rows the file is estimated to hold,
// when fewer); otherwise a row counter. It ends at 100%. Only on a terminal; elsewhere it is a no-op so
// logs and machine-readable output stay clean.
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';

// cli-progress is only needed on a terminal; required on demand (start-up of unattended runs).
const require = createRequire(import.meta.url);

export interface ProgressSample {
  rows: number;
  bytesRead: number;
  totalBytes: number | null;
  /** The run is over: the bar ends full. */
  done?: boolean;
}

/** Where the bar stands (value of total), or null when there is no total to measure against. */
export function barPosition(
  sample: ProgressSample,
  limit: number | null = null,
): { value: number; total: number } | null {
  const known = sample.totalBytes !== null && sample.totalBytes > 0;
  if (limit !== null) {
    // Rows the whole file holds, from the bytes per row so far (read-ahead makes it a slight underestimate).
    const estimated =
      known && sample.bytesRead > 0 && sample.rows > 0
        ? Math.ceil((sample.rows / sample.bytesRead) * sample.totalBytes!)
        : Infinity;
    const total = sample.done ? Math.max(1, sample.rows) : Math.max(1, sample.rows, Math.min(limit, estimated));
    return { value: sample.done ? total : sample.rows, total };
  }
  if (!known) return null;
  return {
    value: sample.done ? sample.totalBytes! : Math.min(sample.bytesRead, sample.totalBytes!),
    total: sample.totalBytes!,
  };
}

export interface ProgressDisplay {
  update(sample: ProgressSample): void;
  stop(): void;
}

const noProgress: ProgressDisplay = { update: () => undefined, stop: () => undefined };

export function createProgress(options: {
  enabled: boolean;
  label: string;
  stream?: NodeJS.WriteStream;
  limit?: number | null;
}): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || !stream.isTTY) return noProgress;
  const started = Date.now();
  const cliProgress = require('cli-progress') as typeof cliProgressTypes;
  let bar: cliProgressTypes.SingleBar | null = null;
  const rate = (rows: number) => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? Math.round(rows / seconds).toLocaleString('en-US') : '0';
  };
  return {
    update(sample) {
      const position = barPosition(sample, options.limit ?? null);
      const known = position !== null;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            fps: 10,
            hideCursor: true,
            clearOnComplete: true,
            // cli-progress's ETA is the text 'NULL' or 'INF' when it has no rate yet (or at the end, 0/0),
            // which its own formatter cuts to "LLs": a dash instead.
            formatTime: (t, timeOptions, roundTo) =>
              typeof t === 'number' ? cliProgress.Format.TimeFormat(t, timeOptions, roundTo) : '--',
            format: known
              ? `${options.label} {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`
              : `${options.label} {rows} rows | {rate} rows/s | {duration_formatted}`,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(position?.total ?? 1, 0, { rows: '0', rate: '0' });
      }
      const payload = { rows: sample.rows.toLocaleString('en-US'), rate: rate(sample.rows) };
      if (position !== null && position.total !== bar.getTotal()) bar.setTotal(position.total);
      bar.update(position?.value ?? 0, payload);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
