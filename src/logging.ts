// How the logs are written: JSON lines for whatever reads them (a file, a pipe, a log collector), and
// human-readable lines (pino-pretty, in pino's worker thread) when a person watches a terminal.
import pino, { type Logger, type LoggerOptions } from 'pino';

export type LogFormat = 'json' | 'pretty';

/** Pretty for a terminal, JSON for anything else. */
export function logFormatFor(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * pino's options for `format`. `destination` is where pretty lines go: a file descriptor (1 stdout,
 * 2 stderr) or a file path; JSON goes to the stream pino is given.
 */
export function loggerOptions(level: string, format: LogFormat, destination: number | string = 1): LoggerOptions {
  if (format === 'json') return { level };
  return {
    level,
    transport: {
      target: 'pino-pretty',
      options: { destination, colorize: typeof destination === 'number', translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
    },
  };
}

/** A logger writing to stdout (fd 1) or stderr (fd 2), pretty when that is a terminal. */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  const format = logFormatFor(fd === 1 ? process.stdout : process.stderr);
  return format === 'json' ? pino(loggerOptions(level, format), pino.destination(fd)) : pino(loggerOptions(level, format, fd));
}
