import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';

/** A claimed row of ctgov.resync_requests. */
export interface ClaimedRequest {
  id: number;
  nctId: NctId;
}

export interface QueueTimings {
  /** A running row whose heartbeat is older than this is taken to be abandoned. */
  staleAfterMs: number;
  /** An abandoned row is claimed again at most this many times in all, then marked failed. */
  maxAttempts: number;
}

export const QUEUE_TIMINGS: QueueTimings = { staleAfterMs: 120_000, maxAttempts: 3 };

/** Whether there is anything to claim (cheap; checked before queueing for the CT.gov lane). */
export async function hasClaimableRequests(pool: pg.Pool, t: QueueTimings = QUEUE_TIMINGS): Promise<boolean> {
  const { rows } = await pool.query<{ yes: boolean }>(
    `select exists (select 1 from ctgov.resync_requests where status = 'pending')
         or exists (select 1 from ctgov.resync_requests
                     where status = 'running' and coalesce(heartbeat_at, claimed_at) < now() - make_interval(secs => $1)) as yes`,
    [t.staleAfterMs / 1000],
  );
  return rows[0]?.yes === true;
}

/**
 * Claims up to `limit` requests, oldest first: pending ones, and running ones whose worker
 * stopped heartbeating. SKIP LOCKED lets concurrent workers claim disjoint rows without
 * waiting for each other; the update makes the claim visible to everyone once committed.
 * Abandoned rows that have used up their attempts are marked failed instead.
 */
export async function claimRequests(pool: pg.Pool, claimer: string, limit: number, t: QueueTimings = QUEUE_TIMINGS): Promise<ClaimedRequest[]> {
  const stale = t.staleAfterMs / 1000;
  await pool.query(
    `update ctgov.resync_requests
        set status = 'failed', finished_at = now(), error = 'abandoned by its worker ' || attempts || ' time(s)'
      where status = 'running' and coalesce(heartbeat_at, claimed_at) < now() - make_interval(secs => $1) and attempts >= $2`,
    [stale, t.maxAttempts],
  );
  const { rows } = await pool.query<{ id: number; nct_id: NctId }>(
    `with picked as (
       select id from ctgov.resync_requests
        where status = 'pending'
           or (status = 'running' and coalesce(heartbeat_at, claimed_at) < now() - make_interval(secs => $3))
        order by requested_at, id
        limit $2
        for update skip locked
     )
     update ctgov.resync_requests r
        set status = 'running', claimed_at = now(), heartbeat_at = now(), claimed_by = $1,
            attempts = r.attempts + 1, error = null
       from picked
      where r.id = picked.id
     returning r.id, r.nct_id`,
    [claimer, limit, stale],
  );
  return rows.map((r) => ({ id: r.id, nctId: r.nct_id })).sort((a, b) => a.id - b.id);
}

/** Tells other workers that these rows are still being worked on. */
export async function heartbeatRequests(pool: pg.Pool, claimer: string, ids: readonly number[]): Promise<void> {
  await pool.query(
    `update ctgov.resync_requests set heartbeat_at = now()
      where id = any($1::bigint[]) and status = 'running' and claimed_by = $2`,
    [ids, claimer],
  );
}

/**
 * Closes claimed rows: done, or failed with the error given for their NCT ID, linked to the run
 * (found by its observed_at, so that a run that threw is linked too). Rows another worker has
 * re-claimed in the meantime (we were taken for dead) are left to it.
 */
export async function finishRequests(
  pool: pg.Pool,
  claimer: string,
  claimed: readonly ClaimedRequest[],
  runObservedAt: Date,
  errors: ReadonlyMap<string, string>,
): Promise<{ done: number; failed: number }> {
  const { rows } = await pool.query<{ status: 'done' | 'failed' }>(
    `update ctgov.resync_requests r
        set status = x.status, error = x.error, finished_at = now(), heartbeat_at = null,
            run_id = (select id from ctgov.sync_runs where job = 'resync' and observed_at = $4 order by id desc limit 1)
       from unnest($1::bigint[], $2::text[], $3::text[]) as x(id, status, error)
      where r.id = x.id and r.status = 'running' and r.claimed_by = $5
     returning r.status`,
    [
      claimed.map((c) => c.id),
      claimed.map((c) => (errors.has(c.nctId) ? 'failed' : 'done')),
      claimed.map((c) => errors.get(c.nctId) ?? null),
      runObservedAt,
      claimer,
    ],
  );
  return { done: rows.filter((r) => r.status === 'done').length, failed: rows.filter((r) => r.status === 'failed').length };
}

/** Hands claimed rows back (the worker is stopping before it could process them). */
export async function releaseRequests(pool: pg.Pool, claimer: string, ids: readonly number[]): Promise<void> {
  await pool.query(
    `update ctgov.resync_requests
        set status = 'pending', claimed_at = null, claimed_by = null, heartbeat_at = null, attempts = greatest(attempts - 1, 0)
      where id = any($1::bigint[]) and status = 'running' and claimed_by = $2`,
    [ids, claimer],
  );
}

/** Rows claimed by workers known to be gone go back to pending at once (instead of waiting to go stale). */
export async function releaseRequestsOf(pool: pg.Pool, claimers: readonly string[] | 'all'): Promise<number> {
  const { rowCount } = await pool.query(
    `update ctgov.resync_requests
        set status = 'pending', claimed_at = null, claimed_by = null, heartbeat_at = null
      where status = 'running' and ($1::text[] is null or claimed_by = any($1::text[]))`,
    [claimers === 'all' ? null : claimers],
  );
  return rowCount ?? 0;
}

/** The claimers of running rows, to find the dead among them. */
export async function runningClaimers(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ claimed_by: string }>(
    "select distinct claimed_by from ctgov.resync_requests where status = 'running' and claimed_by is not null",
  );
  return rows.map((r) => r.claimed_by);
}

export async function queueDepth(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from ctgov.resync_requests where status in ('pending', 'running') group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Queues resync requests through ctgov.request_resync (validation, canonical IDs, NOTIFY to the
 * listening workers). Returns the number of rows inserted.
 */
export async function requestResync(pool: pg.Pool, ids: readonly NctId[], reason: string | null): Promise<number> {
  const { rows } = await pool.query('select ctgov.request_resync($1::text[], $2) as id', [ids, reason]);
  return rows.length;
}
