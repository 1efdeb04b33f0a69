import { createHash } from 'node:crypto';
import { resolveFields, projectRecord } from './fakeCtgovFields.js';
import { canonicalId, type FakeStudyStore, type StoredStudy } from './fakeCtgovStore.js';

/*
 * `/studies` of the fake CT.gov: parameter checking, filtering and paging as the real API does
 * them for what this project uses. Text search is a case-insensitive "every word appears"
 * match, which is enough to select fixtures (real Essie ranks and stems).
 */

export type Answer = { status: 200; json: string } | { status: 400; message: string };
export type RecordTransform = (raw: Record<string, unknown>) => unknown;

const IMPLEMENTED = new Set([
  'format', 'markupFormat', 'query.cond', 'query.term', 'query.locn', 'filter.ids', 'filter.advanced',
  'filter.overallStatus', 'fields', 'countTotal', 'pageSize', 'pageToken',
]);
const REAL_BUT_NOT_FAKED = new Set([
  'query.titles', 'query.intr', 'query.outc', 'query.spons', 'query.lead', 'query.id',
  'query.patient', 'filter.geo', 'filter.synonyms', 'aggFilters', 'geoDecay', 'sort',
]);
/** Paging parameters are the only ones a later page may change. */
const NOT_PART_OF_QUERY = new Set(['pageToken', 'countTotal', 'pageSize']);

/** Rejects unknown parameters the way CT.gov does (400, text/plain). */
export function checkParams(params: URLSearchParams, allowed: readonly string[]): string | undefined {
  for (const key of params.keys()) {
    if (allowed.includes(key)) continue;
    if (REAL_BUT_NOT_FAKED.has(key) || key.startsWith('postFilter.')) return `fake CT.gov does not implement \`${key}\``;
    return `\`${key}\` is unknown parameter`;
  }
  if ((params.get('format') ?? 'json') !== 'json') return 'fake CT.gov serves format=json only';
  return undefined;
}

export function answerStudies(store: FakeStudyStore, params: URLSearchParams, transformFirst?: RecordTransform): Answer {
  const bad = checkParams(params, [...IMPLEMENTED]);
  if (bad) return { status: 400, message: bad };
  const pageSize = parsePageSize(params.get('pageSize'));
  if (pageSize === undefined) return { status: 400, message: 'Parameter `pageSize` has incorrect format' };
  const fields = params.has('fields') ? resolveFields(params.get('fields')!) : undefined;
  if (fields && 'bad' in fields) return { status: 400, message: `Parameter 'fields' contains invalid field name: '${fields.bad}'` };
  const matching = filterStudies(store, params);
  if (typeof matching === 'string') return { status: 400, message: matching };

  const querySig = signature(params);
  const token = params.get('pageToken');
  const offset = token === null ? 0 : decodeToken(token, querySig);
  if (offset === undefined) return { status: 400, message: 'Parameter `pageToken` is invalid for this query' };
  const page = matching.slice(offset, offset + pageSize);
  const project = fields ? (s: StoredStudy) => JSON.stringify(projectRecord(s.raw, fields.paths)) : (s: StoredStudy) => s.json;
  const jsons = page.map((s, i) =>
    i === 0 && transformFirst ? JSON.stringify(transformFirst(structuredClone(s.raw))) : project(s),
  );
  const parts = [`"studies":[${jsons.join(',')}]`];
  if (offset + pageSize < matching.length) parts.push(`"nextPageToken":${JSON.stringify(encodeToken(offset + pageSize, querySig))}`);
  // CT.gov gives totalCount on the first page only, even when countTotal is repeated.
  if (params.get('countTotal') === 'true' && token === null) parts.push(`"totalCount":${matching.length}`);
  return { status: 200, json: `{${parts.join(',')}}` };
}

function parsePageSize(value: string | null): number | undefined {
  if (value === null || value === '') return 10;
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n === 0 ? 10 : Math.min(n, 1000);
}

/** The matching studies, or an error message. */
function filterStudies(store: FakeStudyStore, params: URLSearchParams): StoredStudy[] | string {
  let studies = store.all();
  const ids = params.get('filter.ids');
  if (ids !== null) {
    const items = ids.split(/[,|]/).map((s) => s.trim());
    const canonical = items.map(canonicalId);
    const badIndex = canonical.indexOf(undefined);
    if (badIndex >= 0) return `Parameter \`filter.ids\` has incorrect format: \`${items[badIndex]}\``;
    const wanted = store.byIds(canonical as string[]);
    studies = studies.filter((s) => wanted.has(s.id));
  }
  const status = params.get('filter.overallStatus');
  if (status !== null) {
    const allowed = new Set(status.split(/[,|]/).map((s) => s.trim().toUpperCase()));
    studies = studies.filter((s) => allowed.has(String(dig(s.raw, 'protocolSection', 'statusModule', 'overallStatus'))));
  }
  const cond = params.get('query.cond');
  if (cond !== null) studies = studies.filter((s) => matchesWords(conditionText(s), cond));
  const term = params.get('query.term');
  if (term !== null) studies = studies.filter((s) => matchesWords(s.json.toLowerCase(), term));
  const locn = params.get('query.locn');
  if (locn !== null) studies = studies.filter((s) => matchesWords(locationText(s), locn));
  const advanced = params.get('filter.advanced');
  if (advanced !== null) {
    const ranges = parseAdvanced(advanced);
    if (typeof ranges === 'string') return ranges;
    studies = studies.filter((s) => ranges.every((r) => inRange(lastUpdate(s), r)));
  }
  return studies;
}

function matchesWords(haystack: string, query: string): boolean {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => haystack.includes(w));
}

/** Where a study's sites are (facility, city, state, country), as `query.locn` searches. */
function locationText(s: StoredStudy): string {
  const sites = dig(s.raw, 'protocolSection', 'contactsLocationsModule', 'locations');
  if (!Array.isArray(sites)) return '';
  return JSON.stringify(sites.map((l: Record<string, unknown>) => [l.facility, l.city, l.state, l.country])).toLowerCase();
}

function conditionText(s: StoredStudy): string {
  const mod = dig(s.raw, 'protocolSection', 'conditionsModule') as Record<string, unknown> | undefined;
  return JSON.stringify([mod?.conditions ?? [], mod?.keywords ?? []]).toLowerCase();
}

interface Range {
  from: string;
  to: string;
}

const RANGE = /^AREA\[LastUpdatePostDate\]RANGE\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `AREA[LastUpdatePostDate]RANGE[a,b]` terms joined by AND (parentheses allowed); a, b dates or MIN/MAX. */
function parseAdvanced(expr: string): Range[] | string {
  const ranges: Range[] = [];
  for (const part of expr.replace(/[()]/g, ' ').split(/\s+AND\s+/i)) {
    const m = RANGE.exec(part.trim());
    const from = m?.[1]?.toUpperCase() === 'MIN' ? '0000-00-00' : m?.[1];
    const to = m?.[2]?.toUpperCase() === 'MAX' ? '9999-99-99' : m?.[2];
    if (!from || !to || !(DATE.test(from) || from === '0000-00-00') || !(DATE.test(to) || to === '9999-99-99')) {
      return `Error parsing query in advanced filter: fake CT.gov understands only AREA[LastUpdatePostDate]RANGE[yyyy-MM-dd|MIN,yyyy-MM-dd|MAX], got \`${part.trim()}\``;
    }
    ranges.push({ from, to });
  }
  return ranges;
}

function lastUpdate(s: StoredStudy): string | undefined {
  const d = dig(s.raw, 'protocolSection', 'statusModule', 'lastUpdatePostDateStruct', 'date');
  return typeof d === 'string' ? d : undefined;
}

function inRange(date: string | undefined, r: Range): boolean {
  return date !== undefined && date >= r.from && date <= r.to;
}

function dig(raw: unknown, ...path: string[]): unknown {
  let at = raw;
  for (const k of path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[k] : undefined;
  return at;
}

/** Tokens are opaque to clients; this one carries the offset and a hash of the query it belongs to. */
function signature(params: URLSearchParams): string {
  const entries = [...params].filter(([k]) => !NOT_PART_OF_QUERY.has(k)).sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 12);
}

function encodeToken(offset: number, sig: string): string {
  return Buffer.from(`${offset}:${sig}`).toString('base64url');
}

function decodeToken(token: string, sig: string): number | undefined {
  const [offset, tokenSig] = Buffer.from(token, 'base64url').toString().split(':');
  return tokenSig === sig && /^\d+$/.test(offset ?? '') ? Number(offset) : undefined;
}
