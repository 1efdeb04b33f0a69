import { canonicalJson, compareCodeUnits, hasValue } from './canonical.js';
import type { Json } from './model.js';
import { isPlainObject } from '../isPlainObject.js';

const KEY_PARTS = ['facility', 'city', 'state', 'country'] as const;

/** A site's natural key: lower-cased "facility|city|state|country", missing parts empty. */
export function locationKey(location: unknown): string {
  const record = isPlainObject(location) ? location : {};
  return KEY_PARTS.map((part) => {
    const value = record[part];
    return typeof value === 'string' ? value.trim().toLowerCase() : '';
  }).join('|');
}

/**
 * Keys every site (those with a value) of a `locations` list. Sites sharing a natural key get
 * `#2`, `#3`… in a content order, not list order, so a reordered list keeps its keys. The order
 * looks at zip and geoPoint first: a status or contact change at one of two same-named sites
 * should not swap their keys.
 */
export function keyLocations(locations: readonly unknown[]): Map<string, Json> {
  const groups = new Map<string, Json[]>();
  for (const location of locations) {
    if (!hasValue(location)) continue;
    const key = locationKey(location);
    const group = groups.get(key);
    if (group) group.push(location as Json);
    else groups.set(key, [location as Json]);
  }
  const keyed = new Map<string, Json>();
  for (const [key, group] of groups) {
    const ordered = group.length === 1 ? group : orderDuplicates(group);
    ordered.forEach((location, i) => keyed.set(i === 0 ? key : `${key}#${i + 1}`, location));
  }
  return keyed;
}

function orderDuplicates(group: Json[]): Json[] {
  return group
    .map((location) => ({ location, sortKey: duplicateSortKey(location) }))
    .sort((a, b) => compareCodeUnits(a.sortKey, b.sortKey))
    .map(({ location }) => location);
}

function duplicateSortKey(location: Json): string {
  const record = isPlainObject(location) ? location : {};
  const identity = { zip: record.zip ?? null, geoPoint: record.geoPoint ?? null } as Json;
  return `${canonicalJson(identity)}\u0000${canonicalJson(location)}`;
}
