import type pg from 'pg';
import { syncPlan } from '../pipeline/syncPlan.js';
import { hasCompletedRun } from '../sql/runs.js';
import { untrackedIds } from '../sql/tracking.js';
import { resultOf, type JobContext, type JobResult } from '../worker/job.js';
import { watchlistPlan } from './watchlistPlan.js';

/**
 * The start-up sync: the whole watchlist (IDs and queries) when the database has never synced
 * it, else only watchlist IDs that are not tracked yet (added to the configuration since), so
 * that the scheduled jobs, which work from what is tracked, cover them from now on.
 */
export async function startupSync(ctx: JobContext, signal: AbortSignal): Promise<JobResult | undefined> {
  const pool = ctx.app.db.pool;
  const watchlist = watchlistPlan(ctx.app.config);
  const plan = (await hasSyncedWatchlist(pool)) ? { ids: await untrackedIds(pool, watchlist.ids), queries: [] } : watchlist;
  if (plan.ids.length === 0 && plan.queries.length === 0) return undefined;
  ctx.log.info({ ids: plan.ids.length, queries: plan.queries.length }, 'syncing the watchlist');
  return resultOf(await syncPlan(ctx.app, ctx.ctgov(), plan, { source: 'config', trigger: ctx.trigger, signal, job: 'sync' }));
}

/** A sync run of the watchlist (the worker's at start-up, or the CLI's) has completed before. */
function hasSyncedWatchlist(pool: pg.Pool): Promise<boolean> {
  return hasCompletedRun(pool, ['sync', 'startup']);
}
