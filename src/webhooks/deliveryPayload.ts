import type pg from 'pg';

export interface DeliveryRow {
  id: number;
  hook: string;
  run_id: number;
  change_ids: number[];
  attempts: number;
}

/** The JSON body of one delivery; the same bytes on every attempt (see README "Webhooks"). */
export async function buildPayload(pool: pg.Pool, d: DeliveryRow): Promise<string> {
  const { rows } = await pool.query(
    `select c.id, c.nct_id as "nctId", s.brief_title as title, c.path, c.kind, c.old_value as "oldValue",
            c.new_value as "newValue", c.detected_at as "detectedAt"
       from ctgov.field_changes c
       left join ctgov.studies s using (nct_id)
      where c.id = any ($1::bigint[])
      order by c.id`,
    [d.change_ids],
  );
  return JSON.stringify({ deliveryId: d.id, hook: d.hook, runId: d.run_id, changes: rows });
}
