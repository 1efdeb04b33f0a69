import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** Paths whose values never reach the log. */
const REDACT = [
  'password',
  '*.password',
  'databaseUrl',
  'connectionString',
  '*.connectionString',
  'config.database.url',
  'headers.authorization',
  'headers.cookie',
];

/**
 * One root logger per process. JSON by default; human-readable when stderr (where the logs go)
 * is a TTY or LOG_PRETTY=1. Logs go to stderr (or `destination`) so command output on stdout stays
 * machine-readable.
 */
export function createLogger(
  config: Config['log'],
  isTty = Boolean(process.stderr.isTTY),
  destination: pino.DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  const pretty = config.pretty ?? isTty;
  const options = { level: config.level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } };
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, colorize: isTty } } });
  }
  return pino(options, destination);
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages shown to people. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
