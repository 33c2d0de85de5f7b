// SIGINT / SIGTERM: the first one asks the run to stop reading and finish what is in flight; a second
// one exits at once (with the conventional 128 + signal number). `timeoutMs` bounds the wait after the
// first one: `onTimeout` runs when the batches in flight have not finished by then.
import { exitCodeForSignal } from '../jobs/exit-codes.js';

export interface StopSignals {
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | null;
  dispose(): void;
}

export interface StopSignalOptions {
  onFirst?: (signal: NodeJS.Signals) => void;
  /** Runs synchronously right before the process exits on a second signal (e.g. a last history line). */
  onSecond?: (signal: NodeJS.Signals, exitCode: number) => void;
  /** How long after the first signal the run may take to finish the batches in flight. */
  timeoutMs?: number;
  onTimeout?: (signal: NodeJS.Signals) => void;
}

export function handleStopSignals(options: StopSignalOptions = {}): StopSignals {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  let timer: NodeJS.Timeout | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      const code = exitCodeForSignal(signal);
      try {
        options.onSecond?.(signal, code);
      } finally {
        process.exit(code);
      }
    }
    received = signal;
    options.onFirst?.(signal);
    controller.abort(new Error(`received ${signal}`));
    if (options.timeoutMs !== undefined && options.onTimeout) {
      const onTimeout = options.onTimeout;
      timer = setTimeout(() => onTimeout(signal), options.timeoutMs);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      if (timer) clearTimeout(timer);
    },
  };
}
