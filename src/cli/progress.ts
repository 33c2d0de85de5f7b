// A progress bar on stderr while a run streams: bytes read against the file size (so an ETA) when
// the size is known, otherwise a row counter. Only on a terminal; elsewhere it is a no-op so logs and
// machine-readable output stay clean.
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';

// cli-progress is only needed on a terminal; required on demand (start-up of unattended runs).
const require = createRequire(import.meta.url);

export interface ProgressSample {
  rows: number;
  bytesRead: number;
  totalBytes: number | null;
}

export interface ProgressDisplay {
  update(sample: ProgressSample): void;
  stop(): void;
}

const noProgress: ProgressDisplay = { update: () => undefined, stop: () => undefined };

export function createProgress(options: { enabled: boolean; label: string; stream?: NodeJS.WriteStream }): ProgressDisplay {
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
      const known = sample.totalBytes !== null && sample.totalBytes > 0;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            fps: 10,
            hideCursor: true,
            clearOnComplete: true,
            format: known
              ? `${options.label} {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}`
              : `${options.label} {rows} rows | {rate} rows/s | {duration_formatted}`,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(known ? sample.totalBytes! : 1, 0, { rows: '0', rate: '0' });
      }
      const payload = { rows: sample.rows.toLocaleString('en-US'), rate: rate(sample.rows) };
      bar.update(known ? Math.min(sample.bytesRead, sample.totalBytes!) : 0, payload);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
