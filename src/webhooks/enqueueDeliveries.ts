import type pg from 'pg';
import { idRange } from '../ctgov/nctId.js';
import type { WebhookMatch } from './hookMatch.js';

/** Changes per delivery: a first load writes ~80 rows per study, and a receiver takes bounded bodies. */
export const MAX_CHANGES_PER_DELIVERY = 1000;

/**
 * Writes the outbox rows for the change rows this transaction wrote for these studies: one
 * delivery per matching hook (split every MAX_CHANGES_PER_DELIVERY changes). Called once, inside
 * the transaction that wrote the changes, so both commit or neither does, and a change row (which
 * one transaction writes) is carried by one delivery per hook.
 */
export async function enqueueDeliveries(
  client: pg.ClientBase,
  runId: number,
  nctIds: readonly string[],
  hooks: readonly WebhookMatch[],
): Promise<number> {
  if (hooks.length === 0 || nctIds.length === 0) return 0;
  const { rowCount } = await client.query(ENQUEUE, enqueueParams(runId, nctIds, hooks));
  return rowCount ?? 0;
}

/**
 * The outbox statement's parameters for these studies, their IDs bounded by their range (see
 * idRange: without it, field_changes never analyzed is scanned whole once per batch).
 */
export function enqueueParams(runId: number, nctIds: readonly string[], hooks: readonly WebhookMatch[]): unknown[] {
  return [runId, nctIds, JSON.stringify(hooks), MAX_CHANGES_PER_DELIVERY, ...idRange(nctIds)];
}

export const ENQUEUE = `
with h as (
  select * from jsonb_to_recordset($3::jsonb) as h(key text, "pathPatterns" text[], "nctIds" text[], kinds text[])
), matched as (
  select h.key, c.id, (row_number() over (partition by h.key order by c.id) - 1) / $4 as chunk
    from ctgov.field_changes c
    join h on (h."pathPatterns" is null or c.path like any (h."pathPatterns"))
          and (h."nctIds" is null or c.nct_id = any (h."nctIds"))
          and (h.kinds is null or c.kind = any (h.kinds))
   -- Rows inserted by this transaction carry its id as xmin (the store uses no savepoints).
   where c.run_id = $1 and c.nct_id = any ($2::text[]) and c.nct_id between $5 and $6
     and c.xmin = pg_current_xact_id()::xid
)
insert into ctgov.webhook_deliveries (hook, run_id, change_ids)
select key, $1, array_agg(id order by id) from matched group by key, chunk order by key, chunk`;
