import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { addRunCounts, insertFailures, type FailureRecord } from '../sql/runs.js';
import { markRemoved, selectUnstoredIds, upsertAliases, type StoreContext } from '../studies/store.js';
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
  await upsertAliases(client, aliases, ctx.observedAt);
  if (notFound.length === 0) return [];
  await markRemoved(client, ctx, [...notFound]);
  const neverStored = await selectUnstoredIds(client, notFound);
  const failures = neverStored.map((id) => failureOf(id, 'fetch', new Error(`${id} not found on ClinicalTrials.gov`)));
  if (failures.length > 0) {
    await insertFailures(client, ctx.runId, failures);
    await addRunCounts(client, ctx.runId, { failed: failures.length });
  }
  return failures;
}
