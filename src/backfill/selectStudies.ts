import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';

/**
 * Tracked studies that a sync has stored and no backfill has covered yet, in NCT ID order (a
 * run that stops is resumed by the next one from where it stopped).
 */
export async function studiesNeverBackfilled(pool: pg.Pool, limit?: number): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>(
    `select t.nct_id
       from ctgov.tracked_studies t
       join ctgov.studies s on s.nct_id = t.nct_id
      where t.active and not exists (select 1 from ctgov.history_backfills b where b.nct_id = t.nct_id)
      order by t.nct_id
      limit $1`,
    [limit ?? null],
  );
  return rows.map((r) => r.nct_id);
}

/** Every actively tracked study that a sync has stored. */
export async function trackedStoredStudies(pool: pg.Pool): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>(
    `select t.nct_id from ctgov.tracked_studies t join ctgov.studies s on s.nct_id = t.nct_id where t.active order by t.nct_id`,
  );
  return rows.map((r) => r.nct_id);
}
