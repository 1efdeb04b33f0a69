import type pg from 'pg';
import type { CtgovClient } from '../ctgov/client.js';
import type { NctId } from '../ctgov/nctId.js';
import { finishRun, mergeRunParams, startRun } from '../sql/runs.js';
import { syncPlan } from '../pipeline/syncPlan.js';
import { resultOf, type JobContext, type JobResult } from '../worker/job.js';
import { trackQueryIds, withActiveTracked } from '../sql/tracking.js';
import { listQueryMatches } from './listQueryMatches.js';
import { readSyncState, writeSyncState } from './syncState.js';
import { watchlistPlan } from './watchlistPlan.js';
import { DAY_MS } from '../days.js';

export const WATERMARK_KEY = 'incremental.watermark';

/** sync_state[incremental.watermark]: how far the last completed incremental run got. */
export interface Watermark {
  /** yyyy-MM-dd: the next run asks for LastUpdatePostDate from this date minus the overlap. */
  date: string;
  /** CT.gov's /version dataTimestamp the run saw; while it stays, there is nothing new. */
  dataTimestamp: string;
  runId: number;
}

/**
 * The incremental sync: what changed on CT.gov since the watermark. CT.gov lists the IDs of the
 * studies with LastUpdatePostDate ≥ watermark − overlap (IDs only: small pages), once for all
 * studies, kept when tracked or watchlisted, and once per watchlist query (new matches are
 * tracked); the union is fetched by ID, each study once. Skipped (and recorded as such) when
 * /version's dataTimestamp has not moved since the last completed run. The first run, with no
 * watermark yet, covers every tracked study and every query match. The watermark moves only
 * after the run has completed (succeeded, or partial: the failed studies are recorded in
 * sync_failures and the rolling refresh fetches them again).
 */
export async function incrementalSync(ctx: JobContext, signal: AbortSignal): Promise<JobResult> {
  const { app } = ctx;
  const pool = app.db.pool;
  const client = ctx.ctgov();
  const { dataTimestamp } = await client.getVersion({ signal });
  const mark = await readSyncState<Watermark>(pool, WATERMARK_KEY);
  if (mark?.dataTimestamp === dataTimestamp) return recordSkipped(ctx, dataTimestamp);

  const from = mark ? shiftDate(mark.date, -app.config.sync.incrementalOverlapDays) : undefined;
  const watchlist = watchlistPlan(app.config);
  const known = await withActiveTracked(pool, watchlist.ids);
  const ids = new Set<NctId>(from === undefined ? known : await updatedAmong(client, known, from, signal));
  for (const q of watchlist.queries) {
    const matches = await listQueryMatches(client, from === undefined ? q.params : { ...q.params, lastUpdateFrom: from }, signal);
    await trackQueryIds(pool, matches, q.expr);
    for (const id of matches) ids.add(id);
  }
  const plan = { ids: [...ids].sort(), queries: [] };
  ctx.log.info({ from: from ?? null, dataTimestamp, ids: plan.ids.length }, 'incremental sync');
  const summary = await syncPlan(app, client, plan, { source: 'config', trigger: ctx.trigger, signal, job: 'incremental' });
  await mergeRunParams(pool, summary.runId, { lastUpdateFrom: from ?? null, dataTimestamp, queries: watchlist.queries.map((q) => q.expr) });
  const next: Watermark = { date: watermarkDate(dataTimestamp, ctx.observedAt), dataTimestamp, runId: summary.runId };
  await writeSyncState(pool, WATERMARK_KEY, next);
  return resultOf(summary);
}

async function recordSkipped(ctx: JobContext, dataTimestamp: string): Promise<JobResult> {
  const pool = ctx.app.db.pool;
  const runId = await startRun(pool, {
    job: 'incremental',
    trigger: ctx.trigger,
    observedAt: ctx.observedAt,
    params: { skipped: 'dataTimestamp unchanged', dataTimestamp },
  });
  const counts = await finishRun(pool, runId, { status: 'skipped', httpRequests: ctx.ctgov().stats().requests });
  return { status: 'skipped', runId, counts };
}

/** Which of `ids` CT.gov lists with LastUpdatePostDate ≥ `from` (one pass over the updated studies' IDs). */
export async function updatedAmong(client: CtgovClient, ids: readonly NctId[], from: string, signal: AbortSignal): Promise<NctId[]> {
  if (ids.length === 0) return [];
  return listQueryMatches(client, { lastUpdateFrom: from }, signal, new Set<string>(ids));
}

/** The data's date (dataTimestamp is UTC), never later than the run's own date. */
export function watermarkDate(dataTimestamp: string, observedAt: Date): string {
  const observed = observedAt.toISOString().slice(0, 10);
  const data = /^\d{4}-\d{2}-\d{2}/.exec(dataTimestamp)?.[0];
  return data !== undefined && data < observed ? data : observed;
}

export function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
