// Logs go to stderr: one JSON object per line when stderr is not a terminal (for job runners and log
// collectors), human-readable lines when it is. stdout stays for the command's own output.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(options: { quiet?: boolean; name: string; stream?: NodeJS.WriteStream }): Logger {
  const stream = options.stream ?? process.stderr;
  const level = options.quiet ? 'warn' : 'info';
  if (stream.isTTY) {
    return pino(
      { name: options.name, level },
      pretty({ destination: stream, sync: true, colorize: !process.env.NO_COLOR, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss', singleLine: true }),
    );
  }
  return pino({ name: options.name, level, base: { name: options.name } }, pino.destination({ fd: 2, sync: true }));
}
