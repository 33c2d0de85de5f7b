// Logs go to stderr: one JSON object per line when stderr is not a terminal (for job runners and log
// collectors), human-readable lines when it is (--log-format auto); --log-format pretty / json choose.
// stdout stays for the command's own output.
import { choice } from './option-table.js';
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// pino-pretty is only needed on a terminal; required on demand so that unattended runs (and every
// run's start-up) do not pay for loading it.
const require = createRequire(import.meta.url);

/**
 * One destination per stream for the whole process: a process that creates many loggers (the scheduler
 * runs the pipeline, and so creates a logger, every few minutes for months) must not add a pino-pretty
 * transform, and its listeners on the stream, per logger.
 */
const destinations = {
  pretty: new WeakMap<NodeJS.WritableStream, DestinationStream>(),
  json: new WeakMap<NodeJS.WritableStream, DestinationStream>(),
};

/** --log-format: readable lines, JSON lines, or auto (readable on a terminal). */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The --log-format option of every command that logs (`whose`: whose log lines, when not only the command's). */
export function logFormatOption(whose?: string) {
  const lines = whose === undefined ? 'log lines on stderr' : `log lines on stderr (${whose})`;
  return choice(
    '--log-format <format>',
    `${lines}: pretty = readable, json = one JSON object per line, auto = pretty when stderr is a terminal, else json`,
    LOG_FORMATS,
    { default: 'auto' },
  );
}

function destinationFor(stream: NodeJS.WriteStream, readable: boolean): DestinationStream {
  const known = readable ? destinations.pretty : destinations.json;
  let destination: DestinationStream | undefined = known.get(stream);
  if (destination === undefined) {
    if (readable) {
      const pretty = require('pino-pretty') as typeof import('pino-pretty');
      // CommonJS: the module itself is the factory.
      destination = pretty({
        destination: stream,
        sync: true,
        colorize: Boolean(stream.isTTY) && !process.env.NO_COLOR,
        ignore: 'pid,hostname,name',
        translateTime: 'HH:MM:ss',
        singleLine: true,
      });
    } else {
      // The process's own stderr by file descriptor (synchronous: lines survive an exit right after
      // them); another stream (a test's, or an embedding program's) as it is.
      destination = stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : stream;
    }
    known.set(stream, destination);
  }
  return destination;
}

/** Whether log lines on this stream are readable ones (else JSON lines). */
export function isPretty(format: LogFormat | undefined, stream: NodeJS.WriteStream = process.stderr): boolean {
  return format === 'pretty' || ((format ?? 'auto') === 'auto' && Boolean(stream.isTTY));
}

export function createLogger(options: {
  quiet?: boolean;
  name: string;
  stream?: NodeJS.WriteStream;
  format?: LogFormat;
}): Logger {
  const stream = options.stream ?? process.stderr;
  const level = options.quiet ? 'warn' : 'info';
  if (isPretty(options.format, stream)) return pino({ name: options.name, level }, destinationFor(stream, true));
  return pino({ name: options.name, level, base: { name: options.name } }, destinationFor(stream, false));
}
