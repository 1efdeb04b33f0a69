import type pg from 'pg';
import type { Logger } from '../log.js';
import { recordFailedRun, type RunTrigger } from '../sql/runs.js';

export interface FailedRun {
  job: string;
  trigger: RunTrigger;
  /** With the job, identifies the run's row (the runner fixes the clock for the run). */
  observedAt: Date;
  error: string;
}

export interface FailedRunLog {
  /** Remembers a run that ended with an error, and records it now if the database answers. */
  add(run: FailedRun): Promise<void>;
  /** Records the remembered failures; those the database refuses stay for the next call. */
  flush(): Promise<void>;
  readonly pending: number;
}

// Only so many are kept while the database is away; the oldest go first (they were logged).
const MAX_PENDING = 1000;

/**
 * Makes sure a run that failed is recorded as failed even when the failure was the database
 * itself: the pipeline's own attempt to close the run then fails too, and the row stays
 * `running` (or was never inserted). Once the database answers again the row is closed as
 * failed, or a failed row is inserted for a run that never got one.
 */
export function createFailedRunLog(pool: pg.Pool, log: Logger): FailedRunLog {
  const pending: FailedRun[] = [];
  let flushing: Promise<void> | undefined;

  async function flushNow(): Promise<void> {
    while (pending.length > 0) {
      const run = pending[0]!;
      await recordFailedRun(pool, run);
      pending.shift();
    }
  }

  const self: FailedRunLog = {
    get pending() {
      return pending.length;
    },
    async add(run) {
      pending.push(run);
      if (pending.length > MAX_PENDING) pending.shift();
      await self.flush();
    },
    async flush() {
      if (pending.length === 0) return;
      flushing ??= flushNow()
        .catch((err: unknown) => log.warn({ err, pending: pending.length }, 'failed run not recorded yet'))
        .finally(() => (flushing = undefined));
      await flushing;
    },
  };
  return self;
}
