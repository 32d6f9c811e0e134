import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import PinoPretty from 'pino-pretty';

export type { Logger };

/** Paths pino masks in every log line: credentials must never reach a log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  'password',
  '*.token',
  '*.tokens',
  '*.password',
  '*.api_key',
  '*.bot_token',
  '*.routing_key',
  '*.authorization',
];

/** `log.format`: JSON lines, lines for people (pino-pretty), or people's on a terminal and JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** default `json` (`auto`: pretty when standard output is a terminal) */
  format?: LogFormat;
  /** where the lines go (default standard output); with `pretty`, where the pretty lines go */
  destination?: DestinationStream;
  /** `auto`: whether standard output is a terminal (default process.stdout.isTTY) */
  isTTY?: boolean;
}

/** Whether a format prints for people. */
export const prettyLogs = (format: LogFormat, isTTY: boolean = process.stdout.isTTY === true): boolean => format === 'pretty' || (format === 'auto' && isTTY);

/**
 * The one root logger of a process; components take `logger.child({ component })`. Pretty lines
 * (pino-pretty, written synchronously) carry the time, level, message and every field but the
 * process ones; colours on a terminal only. The same redaction applies to both formats.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const isTTY = options.isTTY ?? process.stdout.isTTY === true;
  const pretty = prettyLogs(options.format ?? 'json', isTTY);
  const destination = pretty
    ? PinoPretty({
        colorize: isTTY && options.destination === undefined,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
        sync: true,
        ...(options.destination === undefined ? {} : { destination: options.destination as unknown as NodeJS.WritableStream }),
      })
    : (options.destination ?? pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'vigil' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
