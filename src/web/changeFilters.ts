import { parseNctId } from '../ctgov/nctId.js';

export type ChangeKindFilter = 'added' | 'changed' | 'removed';
export type ChangeSourceFilter = 'live' | 'history';

/** The filters shared by the change feed page, the Atom feed and /api/changes. */
export interface ChangeFilters {
  /** A field path, or a prefix ending in `.*` (`status.*`, `locations.*`). */
  path?: string;
  kind?: ChangeKindFilter;
  /** `live` (syncs and imports) or `history` (rows the backfill made from CT.gov's versions). */
  source?: ChangeSourceFilter;
  /** detected_at ≥ since, < until (dates are whole UTC days: until 2026-11-21 includes that day). */
  since?: Date;
  until?: Date;
  /** since and until as given, for links and forms. */
  sinceText?: string;
  untilText?: string;
  nct?: string;
  /** Words that must all appear in the study's brief title (case-insensitive). */
  q?: string;
}

export interface ChangeQuery {
  filters: ChangeFilters;
  cursor?: Cursor;
  limit: number;
}

/** Position after the last row of a page: (detected_at, id), newest first. */
export interface Cursor {
  detectedAt: string;
  id: number;
}

export class FilterError extends Error {}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;
const KNOWN = new Set(['path', 'kind', 'source', 'since', 'until', 'nct', 'q', 'cursor', 'limit']);
const PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[^\u0000-\u001f*]+)?(\.\*)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads the query string; empty parameters are absent. Anything unknown or malformed is a
 * FilterError whose message says which parameter and what was expected (answered with 400).
 */
export function parseChangeQuery(params: URLSearchParams): ChangeQuery {
  const get = (name: string): string | undefined => {
    const all = params.getAll(name);
    if (all.length > 1) throw new FilterError(`parameter ${name} is given ${all.length} times; expected once`);
    const v = all[0]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  for (const name of params.keys()) {
    if (!KNOWN.has(name)) throw new FilterError(`unknown parameter ${name}; expected one of ${[...KNOWN].join(', ')}`);
  }
  const filters: ChangeFilters = {};
  const path = get('path');
  if (path !== undefined) {
    if (path.length > 200 || !PATH.test(path)) throw new FilterError('path: expected a field path such as status.overallStatus or a prefix such as status.*');
    filters.path = path;
  }
  const kind = get('kind');
  if (kind !== undefined) {
    if (kind !== 'added' && kind !== 'changed' && kind !== 'removed') throw new FilterError('kind: expected added, changed or removed');
    filters.kind = kind;
  }
  const source = get('source');
  if (source !== undefined) {
    if (source !== 'live' && source !== 'history') throw new FilterError('source: expected live or history');
    filters.source = source;
  }
  const since = get('since');
  if (since !== undefined) {
    filters.since = parseInstant('since', since, false);
    filters.sinceText = since;
  }
  const until = get('until');
  if (until !== undefined) {
    filters.until = parseInstant('until', until, true);
    filters.untilText = until;
  }
  if (filters.since && filters.until && filters.since >= filters.until) throw new FilterError('since: must be before until');
  const nct = get('nct');
  if (nct !== undefined) {
    try {
      filters.nct = parseNctId(nct);
    } catch {
      throw new FilterError('nct: expected an NCT ID (NCT followed by 8 digits)');
    }
  }
  const q = get('q');
  if (q !== undefined) {
    if (q.length > 200) throw new FilterError('q: at most 200 characters');
    filters.q = q;
  }
  const limitText = get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    limit = /^\d+$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new FilterError(`limit: expected a whole number from 1 to ${MAX_LIMIT}`);
  }
  const cursorText = get('cursor');
  return { filters, limit, ...(cursorText !== undefined ? { cursor: decodeCursor(cursorText) } : {}) };
}

/** Whole days are UTC; `until` as a day means up to the end of that day. */
function parseInstant(name: string, text: string, endOfDay: boolean): Date {
  const day = DAY.test(text);
  const d = new Date(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime()) || (!day && !/^\d{4}-\d{2}-\d{2}T/.test(text))) {
    throw new FilterError(`${name}: expected a date (YYYY-MM-DD) or an ISO 8601 instant`);
  }
  if (day && endOfDay) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.detectedAt, c.id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && !Number.isNaN(Date.parse(v[0]))) {
      return { detectedAt: v[0], id: v[1] as number };
    }
  } catch {
    // fall through
  }
  throw new FilterError('cursor: not a cursor from a previous page');
}

/** The filters (and optionally limit and cursor) as a query string, for links and forms. */
export function filterParams(filters: ChangeFilters, extra: { limit?: number; cursor?: string } = {}): URLSearchParams {
  const p = new URLSearchParams();
  if (filters.path) p.set('path', filters.path);
  if (filters.kind) p.set('kind', filters.kind);
  if (filters.source) p.set('source', filters.source);
  if (filters.sinceText) p.set('since', filters.sinceText);
  if (filters.untilText) p.set('until', filters.untilText);
  if (filters.nct) p.set('nct', filters.nct);
  if (filters.q) p.set('q', filters.q);
  if (extra.limit !== undefined && extra.limit !== DEFAULT_LIMIT) p.set('limit', String(extra.limit));
  if (extra.cursor) p.set('cursor', extra.cursor);
  return p;
}
