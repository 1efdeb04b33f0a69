import pg from 'pg';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';

export interface JobLock {
  /** Called once if the lock is lost before release (its connection dropped): stop the job. */
  onLost(fn: (err: Error) => void): void;
  release(): Promise<void>;
}

export interface JobLocks {
  /** The job's lock, or undefined when another worker holds it. */
  tryAcquire(job: string): Promise<JobLock | undefined>;
}

// Keeps job locks apart from the per-study transaction locks (hashtextextended(id, 7311)).
const JOB_LOCK_SEED = 7312;

/**
 * Cluster-wide job locks: a session advisory lock held on a connection of its own for as long as
 * the job runs (a pooled connection would carry it to whoever uses the connection next). The
 * embedded database is one session in which advisory locks always succeed, and only one process
 * can open it: the runner's in-process guard is all the exclusion it needs, so no lock is taken.
 */
export function createJobLocks(db: Database, log: Logger): JobLocks {
  if (db.kind === 'embedded') return { tryAcquire: async () => inProcessOnly() };
  return { tryAcquire: (job) => tryAdvisoryLock(db.clientConfig, job, log) };
}

function inProcessOnly(): JobLock {
  return { onLost: () => undefined, release: async () => undefined };
}

async function tryAdvisoryLock(config: pg.ClientConfig, job: string, log: Logger): Promise<JobLock | undefined> {
  const client = new pg.Client(config);
  let lost: ((err: Error) => void) | undefined;
  let released = false;
  const onError = (err: Error) => {
    if (released) return;
    log.warn({ job, err }, 'job lock connection lost');
    const fn = lost;
    lost = undefined;
    fn?.(err);
  };
  client.on('error', onError);
  client.on('end', () => onError(new Error('job lock connection closed')));
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, $2)) as ok', [
      `ctgov-sync job ${job}`,
      JOB_LOCK_SEED,
    ]);
    if (!rows[0]?.ok) {
      released = true;
      await client.end().catch(() => undefined);
      return undefined;
    }
  } catch (err) {
    released = true;
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    onLost(fn) {
      lost = fn;
    },
    async release() {
      if (released) return;
      released = true;
      // Ending the session releases the lock; no unlock round trip needed.
      await client.end().catch(() => undefined);
    },
  };
}
