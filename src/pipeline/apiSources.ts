import type { CtgovClient, SearchParams } from '../ctgov/client.js';
import type { NctId } from '../ctgov/nctId.js';
import { QueryTooBroadError } from '../errors.js';
import { failureOf } from './failureOf.js';
import type { SourceBatch } from './runBatches.js';

/**
 * Batches for a list of NCT IDs fetched with filter.ids. IDs CT.gov rejects or answers with an
 * unreadable record become failures; IDs it does not know (404) are reported as removed (for a
 * study we have, that is a removal; for one we never had, runBatches reports it as not found).
 */
export async function* idSource(client: CtgovClient, ids: readonly NctId[], signal?: AbortSignal): AsyncGenerator<SourceBatch> {
  for await (const b of client.getStudiesByIds(ids, signal ? { signal } : {})) {
    yield {
      records: b.records,
      failures: [
        ...b.invalid.map((i) => failureOf(i.nctId, 'fetch', new Error(`CT.gov rejected the ID: ${i.message}`))),
        ...b.malformed.map((m) =>
          failureOf(m.requested, 'validate', new Error('CT.gov answered with a record that has no readable nctId'), JSON.stringify(m.raw)),
        ),
      ],
      removed: b.notFound,
      aliases: b.aliases,
    };
  }
}

/**
 * One batch per page of a /studies query (runBatches cuts a page's transactions by the studies
 * they write). With `limit`, the first page asks for totalCount and a query matching more
 * studies stops before anything is stored (a mistyped query can match most of the registry).
 */
export async function* querySource(
  client: CtgovClient,
  params: SearchParams,
  signal?: AbortSignal,
  limit?: { expr: string; maxStudies: number; onTotal?: (totalCount: number) => void },
): AsyncGenerator<SourceBatch> {
  const search = limit ? { ...params, countTotal: true } : params;
  for await (const page of client.searchStudies(search, signal ? { signal } : {})) {
    if (limit && page.totalCount !== undefined) {
      if (page.totalCount > limit.maxStudies) throw new QueryTooBroadError(limit.expr, page.totalCount, limit.maxStudies);
      limit.onTotal?.(page.totalCount);
    }
    yield { records: page.records, failures: [] };
  }
}

/**
 * A query as written on the command line or in the watchlist: `cond=Parkinson Disease`,
 * `query.term=stem cells&query.locn=Spain`, or plain words (searched as query.term).
 */
export function parseQueryExpression(expr: string): SearchParams {
  const text = expr.trim();
  // An empty query (often an unset shell variable) would page through the whole registry.
  if (text === '') throw new RangeError('empty query: expected words or key=value pairs (an empty query would match every study)');
  if (!text.includes('=')) return { query: { 'query.term': text } };
  const query: Record<string, string> = {};
  let filterAdvanced: string | undefined;
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RangeError(`query ${JSON.stringify(expr)}: expected key=value pairs joined by &`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (value === '') throw new RangeError(`query ${JSON.stringify(expr)}: ${key} has no value`);
    if (key === 'filter.advanced') filterAdvanced = value;
    else query[key.startsWith('query.') ? key : `query.${key}`] = value;
  }
  return { query, ...(filterAdvanced ? { filterAdvanced } : {}) };
}
