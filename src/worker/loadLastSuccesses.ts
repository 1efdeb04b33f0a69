import type pg from 'pg';
import type { WorkerMetrics } from './metrics.js';

/** Seeds the last-success gauge from sync_runs, so that a restart does not reset it. */
export async function loadLastSuccesses(pool: pg.Pool, metrics: WorkerMetrics): Promise<void> {
  const { rows } = await pool.query<{ job: string; at: Date }>(
    `select job, max(finished_at) as at from ctgov.sync_runs
      where status in ('succeeded', 'partial', 'skipped') and finished_at is not null
      group by job`,
  );
  for (const r of rows) metrics.lastSuccess(r.job, r.at);
}
