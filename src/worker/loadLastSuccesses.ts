import type pg from 'pg';
import { selectLastSuccesses } from '../sql/runs.js';
import type { WorkerMetrics } from './metrics.js';

/** Seeds the last-success gauge from sync_runs, so that a restart does not reset it. */
export async function loadLastSuccesses(pool: pg.Pool, metrics: WorkerMetrics): Promise<void> {
  for (const r of await selectLastSuccesses(pool)) metrics.lastSuccess(r.job, r.at);
}
