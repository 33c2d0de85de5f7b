// What `submit` (and `result --wait`) shows while a distributed run goes on: shards done / running / failed
// and rows/s across the workers. A bar on a terminal; elsewhere a log line when the counts change (at most
// every 2 s), so that job logs stay readable.
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import type { RunProgress } from '../queue/run-watch.js';
import type { Logger } from './logger.js';

const require = createRequire(import.meta.url);
const LOG_EVERY_MS = 2_000;

export interface RunProgressDisplay {
  update(progress: RunProgress): void;
  stop(): void;
}

export function createRunProgress(options: {
  enabled: boolean;
  stream: NodeJS.WriteStream;
  log: Logger;
  runId: string;
}): RunProgressDisplay {
  if (!options.enabled) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  const rate = (rows: number) => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? Math.round(rows / seconds) : 0;
  };
  if (options.stream.isTTY) return barDisplay(options.stream, rate);
  let last = '';
  let lastAt = 0;
  return {
    update(p) {
      const key = `${p.done}/${p.running}/${p.failed}/${p.merging}`;
      if (key === last && Date.now() - lastAt < LOG_EVERY_MS * 5) return;
      if (Date.now() - lastAt < LOG_EVERY_MS && !p.merging) return;
      last = key;
      lastAt = Date.now();
      options.log.info(
        {
          run: options.runId,
          shards: p.shards,
          done: p.done,
          running: p.running,
          failed: p.failed,
          rows: p.rows,
          rowsPerSecond: rate(p.rows),
        },
        p.merging ? 'merging' : 'progress',
      );
    },
    stop: () => undefined,
  };
}

function barDisplay(stream: NodeJS.WriteStream, rate: (rows: number) => number): RunProgressDisplay {
  const cliProgress = require('cli-progress') as typeof cliProgressTypes;
  let bar: cliProgressTypes.SingleBar | null = null;
  return {
    update(p) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            fps: 10,
            hideCursor: true,
            clearOnComplete: true,
            format:
              'shards {bar} {value}/{total} done, {running} running, {failed} failed | {rows} rows | {rate} ' +
              'rows/s{merging}',
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.shards, 0, {});
      }
      bar.update(p.done, {
        running: p.running,
        failed: p.failed,
        rows: p.rows.toLocaleString('en-US'),
        rate: rate(p.rows).toLocaleString('en-US'),
        merging: p.merging ? ' | merging' : '',
      });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
