import { compareCodeUnits, hasValue, sameValue } from './canonical.js';
import type { FieldChange, Json, Study } from './model.js';

/**
 * The per-path changes from `previous` to `next` (DESIGN §3.3), sorted by path. A first sighting
 * (`previous` undefined) adds every path with a value. Pure.
 */
export function diffStudies(previous: Study | undefined, next: Study): FieldChange[] {
  const before = previous?.fields ?? {};
  const after = next.fields;
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes: FieldChange[] = [];
  for (const path of [...paths].sort(compareCodeUnits)) {
    const change = diffPath(path, before[path], after[path]);
    if (change) changes.push(change);
  }
  return changes;
}

function diffPath(
  path: string,
  oldValue: Json | undefined,
  newValue: Json | undefined,
): FieldChange | undefined {
  const had = hasValue(oldValue);
  const has = hasValue(newValue);
  if (!had && !has) return undefined;
  if (!had) return { path, kind: 'added', oldValue: null, newValue: newValue as Json };
  if (!has) return { path, kind: 'removed', oldValue: oldValue as Json, newValue: null };
  if (sameValue(oldValue as Json, newValue as Json)) return undefined;
  return { path, kind: 'changed', oldValue: oldValue as Json, newValue: newValue as Json };
}
