import { createHash } from 'node:crypto';
import type { Json, Study } from './model.js';

/**
 * Whether a value counts as a value of a field (DESIGN §3.3): undefined, null, '', [] and {} do
 * not; false and 0 do.
 */
export function hasValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') {
    for (const _ in value) return true;
    return false;
  }
  return true;
}

/**
 * Canonical JSON: object keys sorted, list elements sorted (lists compare as multisets: CT.gov
 * reorders lists between data refreshes without meaning anything), at every depth. Keys come out
 * in JavaScript's own property order after sorted insertion, so integer-like keys (never seen in
 * CT.gov data) come first. Stored content hashes depend on this exact format: never change it.
 */
export function canonicalJson(value: Json): string {
  return JSON.stringify(canonicalCopy(value));
}

// One native stringify of a sorted copy beats building strings level by level (~1.3x). The
// copies are ordinary objects built in sorted key order: V8 keeps them in fast mode (shared
// shapes), which both stringify and the list comparisons below read much faster than
// null-prototype dictionaries (~1.5x overall). Property order is the same for both kinds.
function canonicalCopy(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return canonicalList(value);
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort()) {
    const child = value[key];
    if (child === undefined) continue;
    // Assigning `__proto__` would set the prototype: define it as data, as a copy must hold it.
    if (key === '__proto__') Object.defineProperty(out, key, { value: canonicalCopy(child), enumerable: true, writable: true, configurable: true });
    else out[key] = canonicalCopy(child);
  }
  return out;
}

// A list of strings sorts natively (no comparator calls) in the same code-unit order.
function canonicalList(value: Json[]): Json[] {
  if (value.length < 2) return value.map(canonicalCopy);
  if (value.every((item) => typeof item === 'string')) return value.slice().sort();
  return value.map(canonicalCopy).sort(compareJson);
}

const RANKS: Record<string, number> = { boolean: 1, number: 2, string: 3 };

function rank(value: Json): number {
  if (value === null) return 0;
  if (typeof value !== 'object') return RANKS[typeof value] ?? 0;
  return Array.isArray(value) ? 4 : 5;
}

// A total order whose ties are exactly the deep-equal values of canonical copies.
function compareJson(a: Json, b: Json): number {
  if (a === b) return 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra < 4) return (a as string) < (b as string) ? -1 : 1;
  if (ra === 4) return compareLists(a as Json[], b as Json[]);
  return compareObjects(a as Record<string, Json>, b as Record<string, Json>);
}

function compareLists(a: Json[], b: Json[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareJson(a[i] as Json, b[i] as Json);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

// Lexicographic over (key, value) pairs in the copies' (canonical) key order.
function compareObjects(a: Record<string, Json>, b: Record<string, Json>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = ka[i] as string;
    const y = kb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
    const c = compareJson(a[x] as Json, b[y] as Json);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

/** Equal up to object key order and list order at any depth. */
export function sameValue(a: Json, b: Json): boolean {
  return orderedEqual(a, b) || canonicalJson(a) === canonicalJson(b);
}

/** sha256 hex over the study's NCT ID and the canonical form of all its fields. */
export function studyContentHash(study: Study): string {
  const fields = study.fields as { [path: string]: Json };
  return createHash('sha256')
    .update(canonicalJson({ nctId: study.nctId, fields }))
    .digest('hex');
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Cheap exact check first: an unchanged re-sync almost always has lists in the same order.
function orderedEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => orderedEqual(item, b[i] as Json));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && orderedEqual(a[key] as Json, b[key] as Json));
}
