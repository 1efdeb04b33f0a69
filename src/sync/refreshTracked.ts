import { syncPlan } from '../pipeline/syncPlan.js';
import { leastRecentlySeen, markRefreshed } from '../sql/tracking.js';
import { resultOf, type JobContext, type JobResult } from '../worker/job.js';

/**
 * The rolling refresh: re-fetches the `sync.refreshBatchSize` tracked studies seen or refreshed
 * least recently (never-stored ones first). It catches what does not bump LastUpdatePostDate
 * (MeSH re-indexing) and deletions: a study CT.gov no longer returns gets a `removed` change and
 * removed_at, one that comes back an `added`. The cursor (tracked_studies.last_refreshed_at)
 * moves only when the run completes, so a failed run's batch is tried again next tick.
 */
export async function refreshTracked(ctx: JobContext, signal: AbortSignal): Promise<JobResult | undefined> {
  const pool = ctx.app.db.pool;
  const ids = await leastRecentlySeen(pool, ctx.app.config.sync.refreshBatchSize);
  if (ids.length === 0) return undefined;
  const summary = await syncPlan(ctx.app, ctx.ctgov(), { ids, queries: [] }, { source: 'config', trigger: ctx.trigger, signal, job: 'refresh' });
  await markRefreshed(pool, ids, ctx.observedAt);
  return resultOf(summary);
}
