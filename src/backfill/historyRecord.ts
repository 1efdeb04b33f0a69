import { canonicalJson } from '../studies/canonical.js';
import { LOCATION_PREFIX, type Json } from '../studies/model.js';
import { canonicalText, historyTextToMarkdown } from './canonicalText.js';

type Obj = Record<string, unknown>;

/**
 * A study as a history version renders it, turned into an API v2 record: every text decoded and
 * converted to v2's Markdown (see historyTextToMarkdown), and the data CT.gov derives today left
 * out. History versions are rendered with today's enrichment: `derivedSection` (MeSH terms,
 * misc info) and references of type DERIVED (citations PubMed linked years later) would
 * otherwise read as changes made in a version that predates them. Those paths keep the history
 * they get from live syncs. (`geoPoint` is kept but never compared, see comparableValue.)
 */
export function historyStudyToV2(study: Obj): Obj {
  const record = mapStrings(study, historyTextToMarkdown) as Obj;
  delete record.derivedSection;
  const refs = dig(record, ['protocolSection', 'referencesModule']);
  if (refs && Array.isArray(refs.references)) {
    const kept = (refs.references as unknown[]).filter((r) => !(isObject(r) && r.type === 'DERIVED'));
    if (kept.length > 0) refs.references = kept;
    else delete refs.references;
  }
  return record;
}

/**
 * The form two values of a path are compared on: strings by their canonical text, and a site
 * without its geocoding (CT.gov geocodes at render time, so old versions carry today's
 * coordinates). Equal forms mean no change.
 */
export function comparableValue(path: string, value: Json, canonical = true): string {
  let v = value;
  if (path.startsWith(LOCATION_PREFIX) && isObject(v) && 'geoPoint' in v) {
    const { geoPoint: _geo, ...rest } = v as { [key: string]: Json };
    v = rest;
  }
  return canonicalJson(canonical ? (mapStrings(v, canonicalText) as Json) : v);
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isObject(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) {
      // Defined as data: a key such as `__proto__` must stay a key.
      Object.defineProperty(out, k, { value: mapStrings(v, fn), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function dig(raw: unknown, path: string[]): Obj | undefined {
  let at = raw;
  for (const key of path) {
    if (!isObject(at)) return undefined;
    at = at[key];
  }
  return isObject(at) ? at : undefined;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Paths that hold data CT.gov derives (derivedSection's modules) or that history versions carry
 * only in part (references: DERIVED citations are left out). Their history comes from live syncs.
 */
export function isDerivedPath(path: string): boolean {
  return /^(conditionBrowse|interventionBrowse|miscInfo)\./.test(path) || path === 'references.references';
}
