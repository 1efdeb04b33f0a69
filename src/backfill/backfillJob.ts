import type { JobContext, JobResult } from '../worker/job.js';
import { mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import { runBackfill } from './backfillRun.js';
import { studiesNeverBackfilled } from './selectStudies.js';

/**
 * The worker's backfill: up to `backfill.batchSize` tracked studies never backfilled, in NCT ID
 * order, through this run's CT.gov client (the CT.gov lane, the rate limit). A study is done
 * once its transaction commits, so a run that stops is resumed by the next tick.
 */
export async function backfillTracked(ctx: JobContext, signal: AbortSignal): Promise<JobResult | undefined> {
  const { config, db } = ctx.app;
  if (!config.backfill.enabled) return undefined;
  const ids = await studiesNeverBackfilled(db.pool, config.backfill.batchSize);
  if (ids.length === 0) return undefined;
  const client = ctx.ctgov();
  const mirror = mirrorToKeepInSync(config);
  const summary = await runBackfill(
    { pool: db.pool, log: ctx.log, history: client.history, ...(mirror ? { mirror } : {}) },
    { ids, trigger: ctx.trigger, observedAt: ctx.observedAt, signal, httpRequests: () => client.stats().requests },
  );
  return {
    status: summary.status,
    runId: summary.runId,
    counts: {
      requested: ids.length,
      fetched: summary.backfilled + summary.unchanged + summary.noHistory,
      inserted: 0,
      changed: summary.backfilled,
      unchanged: summary.unchanged + summary.noHistory,
      removed: 0,
      failed: summary.failures.length,
      http_requests: client.stats().requests,
    },
  };
}
