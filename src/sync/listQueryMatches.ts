import type { CtgovClient, SearchParams } from '../ctgov/client.js';
import { parseNctId, type NctId } from '../ctgov/nctId.js';
import { recordIdentity } from '../ctgov/rawRecord.js';

/**
 * The NCT IDs a /studies query returns, asking for the IDs (and aliases) only: small pages, and
 * the records themselves are then fetched by ID, once, however many queries name them.
 */
export async function listQueryMatches(client: CtgovClient, params: SearchParams, signal: AbortSignal, keep?: ReadonlySet<string>): Promise<NctId[]> {
  const ids = new Set<NctId>();
  for await (const page of client.searchStudies({ ...params, fields: ['NCTId', 'NCTIdAlias'] }, { signal })) {
    for (const record of page.records) {
      const { nctId, aliases } = recordIdentity(record);
      const id = canonical(nctId);
      if (!keep) {
        if (id) ids.add(id);
        continue;
      }
      // Matching a kept ID through an alias counts too (the record is fetched under the kept ID).
      for (const any of [id, ...aliases.map(canonical)]) if (any && keep.has(any)) ids.add(any);
    }
  }
  return [...ids].sort();
}

function canonical(id: string | undefined): NctId | undefined {
  if (id === undefined) return undefined;
  try {
    return parseNctId(id);
  } catch {
    return undefined;
  }
}
