// Progress on stderr while the experiment runs: which configuration, which pass, how many are left, the
// time so far; a line per finished configuration above the bar. Only on a terminal (and not --quiet):
// elsewhere it is a no-op so that logs and machine-readable output stay clean.
import cliProgress from 'cli-progress';
import { describeConfiguration } from './grid.js';
import { int, rmeText } from './format.js';
import type { Configuration, ResultRow } from './types.js';

export interface ExperimentProgressDisplay {
  configuration(config: Configuration, index: number, total: number, passes: number): void;
  measured(row: ResultRow, index: number, total: number): void;
  stop(): void;
}

const none: ExperimentProgressDisplay = {
  configuration: () => undefined,
  measured: () => undefined,
  stop: () => undefined,
};

export function createExperimentProgress(options: {
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}): ExperimentProgressDisplay {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || !stream.isTTY) return none;
  const multi = new cliProgress.MultiBar(
    {
      stream,
      fps: 5,
      hideCursor: true,
      clearOnComplete: true,
      gracefulExit: false,
      format:
        'experiment {bar} {value}/{total} measured, {left} left | #{id} {config}, pass {passes} | elapsed ' +
        '{duration_formatted}',
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  return {
    configuration(config, index, total, passes) {
      const payload = {
        id: config.id,
        config: describeConfiguration(config),
        passes: passes === 0 ? 'starting (warm-up)' : String(passes),
        left: total - index,
      };
      if (!bar) bar = multi.create(total, index, payload);
      else bar.update(index, payload);
    },
    measured(row, index, total) {
      const c = row.config;
      multi.log(
        `#${c.id} ${describeConfiguration(c)}: ${int(row.imagesPerSecond.mean)} images/s ` +
          `${rmeText(row.imagesPerSecond.rme)}` +
          ` (${row.samples} samples)\n`,
      );
      bar?.update(index + 1, { left: total - index - 1 });
    },
    stop() {
      multi.stop();
      bar = null;
    },
  };
}
