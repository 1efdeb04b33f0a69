import { pino, type Logger } from 'pino';
import { createCtgovClient, type ClientEvent, type CtgovClient, type CtgovClientInit } from '../../src/ctgov/client.js';
import { seededRandom } from './fakeCtgovFaults.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger that keeps its lines in memory for assertions. */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/**
 * A client for the fake server with fast retries and no rate limit worth noticing, unless
 * overridden. Events are collected in `events`.
 */
export function createTestClient(
  baseUrl: string,
  overrides: Partial<CtgovClientInit> = {},
): { client: CtgovClient; events: ClientEvent[]; lines: LogLine[] } {
  const events: ClientEvent[] = [];
  const { logger, lines } = memoryLogger();
  const client = createCtgovClient({
    baseUrl,
    logger,
    rateLimitPerMinute: 10_000,
    concurrency: 4,
    timeoutMs: 5_000,
    userAgent: 'ctgov-sync-tests/1.0',
    random: seededRandom(7),
    onEvent: (e) => events.push(e),
    ...overrides,
    retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50, runBudget: 100, ...overrides.retry },
  });
  return { client, events, lines };
}
