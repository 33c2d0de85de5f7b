// SIGINT / SIGTERM: the first one asks the run to stop reading and finish what is in flight; a second
// one exits at once (with the conventional 128 + signal number).
const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface StopSignals {
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | null;
  dispose(): void;
}

export function handleStopSignals(options: { onFirst?: (signal: NodeJS.Signals) => void } = {}): StopSignals {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) process.exit(exitCodes[signal] ?? 1);
    received = signal;
    options.onFirst?.(signal);
    controller.abort(new Error(`received ${signal}`));
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
    },
  };
}
