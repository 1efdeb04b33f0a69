import pg from 'pg';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';

export const RESYNC_CHANNEL = 'ctgov_resync';

export interface QueueWakeups {
  /** 'listening' while a LISTEN connection is up, else 'polling'. */
  readonly mode: 'listening' | 'polling';
  stop(): Promise<void>;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Calls `wake` when a resync request may be waiting: on every NOTIFY on ctgov_resync (a
 * dedicated connection, re-established after errors with backoff), on a poll every `pollMs`
 * whatever happens to that connection, and once at start (requests made while no worker ran).
 *
 * On the embedded database there is no LISTEN: PGlite is one session behind the socket, and a
 * notification is delivered to whichever connection ran the notifying statement, never to a
 * listening one. Polling alone serves it.
 */
export function startQueueWakeups(db: Database, pollMs: number, log: Logger, wake: () => void): QueueWakeups {
  let stopped = false;
  let client: pg.Client | undefined;
  let listening = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = RECONNECT_MIN_MS;
  let reconnecting = false;
  const poll = setInterval(wake, pollMs);

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new pg.Client(db.clientConfig);
    client = c;
    let failed = false;
    const fail = (err: Error) => {
      if (failed || stopped) return;
      failed = true;
      listening = false;
      log.warn({ err, retryInMs: delay }, 'resync listener connection lost');
      c.end().catch(() => undefined);
      retryTimer = setTimeout(() => void connect(), delay);
      delay = Math.min(RECONNECT_MAX_MS, delay * 2);
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('connection closed')));
    c.on('notification', (n) => {
      if (n.channel === RESYNC_CHANNEL) wake();
    });
    try {
      await c.connect();
      await c.query(`listen ${RESYNC_CHANNEL}`);
      if (stopped || failed) return;
      listening = true;
      delay = RECONNECT_MIN_MS;
      if (reconnecting) log.info('resync listener reconnected');
      else log.debug('resync listener connected');
      reconnecting = true;
      // Anything requested while we were not listening.
      wake();
    } catch (err) {
      fail(err as Error);
    }
  }

  if (db.kind === 'server') void connect();
  else log.debug({ pollMs }, 'embedded database: resync queue is polled (no LISTEN)');
  wake();

  return {
    get mode() {
      return listening ? 'listening' : 'polling';
    },
    async stop() {
      stopped = true;
      listening = false;
      clearInterval(poll);
      clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
    },
  };
}
