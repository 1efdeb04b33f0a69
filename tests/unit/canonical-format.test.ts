import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCtgovStudy } from '../../src/ctgov/schema.js';
import { canonicalJson } from '../../src/studies/canonical.js';
import type { Json } from '../../src/studies/model.js';
import { normalizeStudy } from '../../src/studies/normalize.js';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { seededRandom } from '../support/fakeCtgovFaults.js';

/*
 * Stored content hashes depend on canonicalJson's exact text. The implementation was made faster
 * (ordinary objects instead of null-prototype ones, native sort for lists of strings); this is
 * the original, kept as the oracle the fast one must match byte for byte.
 */
function referenceCanonicalJson(value: Json): string {
  return JSON.stringify(referenceCopy(value));
}

function referenceCopy(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = value.map(referenceCopy);
    return items.length > 1 ? items.sort(referenceCompare) : items;
  }
  const out = Object.create(null) as { [key: string]: Json };
  for (const key of Object.keys(value).sort()) {
    const child = value[key];
    if (child !== undefined) out[key] = referenceCopy(child);
  }
  return out;
}

const RANKS: Record<string, number> = { boolean: 1, number: 2, string: 3 };

function rank(value: Json): number {
  if (value === null) return 0;
  if (typeof value !== 'object') return RANKS[typeof value] ?? 0;
  return Array.isArray(value) ? 4 : 5;
}

function referenceCompare(a: Json, b: Json): number {
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
    const c = referenceCompare(a[i] as Json, b[i] as Json);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareObjects(a: Record<string, Json>, b: Record<string, Json>): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = ka[i] as string;
    const y = kb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
    const c = referenceCompare(a[x] as Json, b[y] as Json);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

/** Random JSON with the awkward parts: duplicates, mixed types, integer-like and `__proto__` keys. */
function randomJson(random: () => number, depth: number): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const r = random();
  if (depth <= 0 || r < 0.35) return pick<Json>([null, true, false, 0, -1, 1.5, 10, 9, '', 'a', 'B', 'b', 'é', 'a"b', '\u2028', '10', '9']);
  if (r < 0.65) return Array.from({ length: Math.floor(random() * 5) }, () => randomJson(random, depth - 1));
  const out: Record<string, Json> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) out[pick(['a', 'b', 'B', 'aa', 'z', '1', '10', '2', 'é', 'constructor'])] = randomJson(random, depth - 1);
  if (random() >= 0.1) return out;
  // JSON.parse keeps `__proto__` as an own key, as a CT.gov record parsed from text would.
  const rest = JSON.stringify(out).slice(1, -1);
  return JSON.parse(`{"__proto__":${JSON.stringify(randomJson(random, depth - 1))}${rest ? `,${rest}` : ''}}`) as Json;
}

describe('canonicalJson keeps the stored format', () => {
  it('matches the original implementation on every fixture study', () => {
    const files = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => /^NCT\d{8}\.json$/.test(f));
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) {
      const study = normalizeStudy(parseCtgovStudy(JSON.parse(readFileSync(join(CTGOV_FIXTURE_DIR, f), 'utf8'))));
      const value = { nctId: study.nctId, fields: study.fields } as Json;
      expect(canonicalJson(value), f).toBe(referenceCanonicalJson(value));
    }
  });

  it('matches the original implementation on random values', () => {
    const random = seededRandom(42);
    for (let i = 0; i < 3000; i++) {
      const value = randomJson(random, 4);
      expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
    }
  });
});
