import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { requestResync } from '../sql/queue.js';
import { activeTrackedIds } from '../sql/tracking.js';

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
  const ids = target === 'all' ? await activeTrackedIds(pool) : target;
  if (ids.length === 0) return { queued: 0 };
  return { queued: await requestResync(pool, ids, reason) };
}
