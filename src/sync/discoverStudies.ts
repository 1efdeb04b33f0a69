import type { NctId } from '../ctgov/nctId.js';
import { syncPlan } from '../pipeline/syncPlan.js';
import { resultOf, type JobContext, type JobResult } from '../worker/job.js';
import { trackQueryIds } from '../sql/tracking.js';
import { listQueryMatches } from './listQueryMatches.js';
import { watchlistPlan } from './watchlistPlan.js';

/**
 * Discovery: runs each configured query (NCT IDs only), adds the IDs not tracked yet to
 * tracked_studies (source 'query', reason = the query), and syncs the studies found that the
 * database does not have yet. Studies already stored are the incremental and refresh jobs' work.
 */
export async function discoverStudies(ctx: JobContext, signal: AbortSignal): Promise<JobResult | undefined> {
  const { queries } = watchlistPlan(ctx.app.config);
  if (queries.length === 0) return undefined;
  const client = ctx.ctgov();
  const toSync = new Set<NctId>();
  for (const q of queries) {
    const ids = await listQueryMatches(client, q.params, signal);
    const fresh = await trackQueryIds(ctx.app.db.pool, ids, q.expr);
    ctx.log.info({ query: q.expr, found: ids.length, new: fresh.length }, 'discovery query');
    for (const id of fresh) toSync.add(id);
  }
  const plan = { ids: [...toSync].sort(), queries: [] };
  return resultOf(await syncPlan(ctx.app, client, plan, { source: 'query', trigger: ctx.trigger, signal, job: 'discover' }));
}
