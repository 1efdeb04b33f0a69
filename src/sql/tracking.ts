import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';

/*
 * Every statement on ctgov.tracked_studies lives in this file.
 */

export type TrackSource = 'config' | 'cli' | 'query' | 'import' | 'resync';

/** Adds studies to tracked_studies with this source, or makes them active again. */
export async function trackStudies(client: pg.ClientBase, ids: readonly NctId[], track: { source: TrackSource; reason: string | null }): Promise<void> {
  await client.query(
    `insert into ctgov.tracked_studies (nct_id, source, reason)
     select id, $2, $3 from unnest($1::text[]) as id
     on conflict (nct_id) do update set active = true where tracked_studies.active = false`,
    [ids, track.source, track.reason],
  );
}

/** Adds the IDs not tracked yet (source 'query', reason = the query). Returns those not stored yet. */
export async function trackQueryIds(pool: pg.Pool, ids: readonly NctId[], query: string): Promise<NctId[]> {
  if (ids.length === 0) return [];
  await pool.query(
    `insert into ctgov.tracked_studies (nct_id, source, reason)
     select distinct id, 'query', $2 from unnest($1::text[]) as id
     on conflict (nct_id) do nothing`,
    [ids, query],
  );
  const { rows } = await pool.query<{ id: NctId }>(
    `select distinct id from unnest($1::text[]) as id
      where not exists (select 1 from ctgov.studies s where s.nct_id = id)
      order by id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Every actively tracked study. */
export async function activeTrackedIds(pool: pg.Pool): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>('select nct_id from ctgov.tracked_studies where active order by nct_id');
  return rows.map((r) => r.nct_id);
}

/** These IDs plus every actively tracked study, sorted. */
export async function withActiveTracked(pool: pg.Pool, ids: readonly NctId[]): Promise<NctId[]> {
  const { rows } = await pool.query<{ id: NctId }>(
    `select id from unnest($1::text[]) as id
     union
     select nct_id from ctgov.tracked_studies where active
     order by 1`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Those of `ids` that are not tracked (in any state), sorted. */
export async function untrackedIds(pool: pg.Pool, ids: readonly NctId[]): Promise<NctId[]> {
  if (ids.length === 0) return [];
  const { rows } = await pool.query<{ id: NctId }>(
    `select id from unnest($1::text[]) as id
      where not exists (select 1 from ctgov.tracked_studies t where t.nct_id = id)
      order by id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** The active tracked studies seen or refreshed least recently (never-stored ones first). */
export async function leastRecentlySeen(pool: pg.Pool, limit: number): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>(
    `select t.nct_id
       from ctgov.tracked_studies t
       left join ctgov.studies s on s.nct_id = t.nct_id
      where t.active
      order by greatest(t.last_refreshed_at, s.last_seen_at) asc nulls first, t.nct_id
      limit $1`,
    [limit],
  );
  return rows.map((r) => r.nct_id);
}

/** Moves the rolling refresh's cursor past these studies. */
export async function markRefreshed(pool: pg.Pool, ids: readonly NctId[], at: Date): Promise<void> {
  await pool.query('update ctgov.tracked_studies set last_refreshed_at = $2 where nct_id = any($1::text[])', [ids, at]);
}
