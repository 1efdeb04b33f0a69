export interface SearchParams {
  /** Essie queries by area: `{ cond: 'Parkinson Disease' }` or `{ 'query.term': '…' }`. */
  query?: Record<string, string>;
  /** An Essie expression for filter.advanced, e.g. `AREA[Phase]PHASE3`. */
  filterAdvanced?: string;
  /** `yyyy-MM-dd`: only studies whose LastUpdatePostDate is on or after it. */
  lastUpdateFrom?: string;
  /** Defaults to the client's pageSize; capped at 1000 like CT.gov does. */
  pageSize?: number;
  /** Ask for totalCount (on the first page only). */
  countTotal?: boolean;
  /** Pieces to return (`NCTId`, `LastUpdatePostDate`, …) instead of whole records. */
  fields?: readonly string[];
}

/** Query-string parameters for /studies from SearchParams. */
export function buildSearchParams(params: SearchParams, defaultPageSize: number): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(params.query ?? {})) {
    out[key.startsWith('query.') ? key : `query.${key}`] = value;
  }
  const advanced = [params.filterAdvanced, lastUpdateRange(params.lastUpdateFrom)].filter((x): x is string => !!x);
  if (advanced.length === 1) out['filter.advanced'] = advanced[0];
  if (advanced.length === 2) out['filter.advanced'] = `(${advanced[0]}) AND ${advanced[1]}`;
  if (params.fields?.length) out.fields = params.fields.join(',');
  const pageSize = params.pageSize ?? defaultPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  out.pageSize = String(Math.min(pageSize, 1000));
  if (params.countTotal) out.countTotal = 'true';
  return out;
}

function lastUpdateRange(from: string | undefined): string | undefined {
  if (from === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) throw new RangeError(`lastUpdateFrom must be yyyy-MM-dd, got ${JSON.stringify(from)}`);
  return `AREA[LastUpdatePostDate]RANGE[${from},MAX]`;
}
