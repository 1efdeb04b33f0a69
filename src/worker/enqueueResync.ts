import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';

/** IDs to resync, or every actively tracked study. */
export type ResyncTarget = NctId[] | 'all';

export interface Enqueued {
  /** Rows inserted into ctgov.resync_requests. */
  queued: number;
}

/**
 * Queues resync requests through ctgov.request_resync (validation, canonical IDs, NOTIFY to
 * the listening workers). Shared by the `resync` command and the worker's POST /resync.
 */
export async function enqueueResync(pool: pg.Pool, target: ResyncTarget, reason: string | null): Promise<Enqueued> {
  const ids = target === 'all' ? await activeTracked(pool) : target;
  if (ids.length === 0) return { queued: 0 };
  const { rows } = await pool.query('select ctgov.request_resync($1::text[], $2) as id', [ids, reason]);
  return { queued: rows.length };
}

async function activeTracked(pool: pg.Pool): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>('select nct_id from ctgov.tracked_studies where active order by nct_id');
  return rows.map((r) => r.nct_id);
}
