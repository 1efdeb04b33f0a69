import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { addRunCounts, insertFailures, type FailureRecord } from '../sql/runs.js';
import { markRemoved, type StoreContext } from '../studies/store.js';
import { failureOf } from './failureOf.js';

/**
 * What CT.gov did not return: a stored study is marked removed; an ID we never had is a
 * failure ("not found"), recorded and counted. Aliases are remembered. Returns the failures.
 */
export async function recordAbsences(
  client: pg.ClientBase,
  ctx: StoreContext,
  notFound: readonly NctId[],
  aliases: ReadonlyArray<{ requested: NctId; canonical: NctId }>,
): Promise<FailureRecord[]> {
  if (aliases.length > 0) {
    await client.query(
      `insert into ctgov.study_aliases (alias, nct_id, first_seen_at)
       select a, c, $3 from unnest($1::text[], $2::text[]) as x(a, c)
       on conflict (alias) do update set nct_id = excluded.nct_id`,
      [aliases.map((a) => a.requested), aliases.map((a) => a.canonical), ctx.observedAt],
    );
  }
  if (notFound.length === 0) return [];
  await markRemoved(client, ctx, [...notFound]);
  const { rows } = await client.query<{ id: NctId }>(
    'select id from unnest($1::text[]) as id where not exists (select 1 from ctgov.studies s where s.nct_id = id)',
    [notFound],
  );
  const failures = rows.map((r) => failureOf(r.id, 'fetch', new Error(`${r.id} not found on ClinicalTrials.gov`)));
  if (failures.length > 0) {
    await insertFailures(client, ctx.runId, failures);
    await addRunCounts(client, ctx.runId, { failed: failures.length });
  }
  return failures;
}
