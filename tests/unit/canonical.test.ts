import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hasValue, sameValue, studyContentHash } from '../../src/studies/canonical.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import type { Json } from '../../src/studies/model.js';
import { normalizeStudy, type CtgovStudyInput } from '../../src/studies/normalize.js';

type Raw = CtgovStudyInput & { protocolSection: Record<string, Record<string, unknown>> };

const goldenText = readFileSync(
  fileURLToPath(new URL('../fixtures/ctgov/seeds/NCT00855400.json', import.meta.url)),
  'utf8',
);
const golden = (): Raw => JSON.parse(goldenText) as Raw;
const hashOf = (raw: Raw) => studyContentHash(normalizeStudy(raw));
const listAt = (raw: Raw, module: string, key: string) => raw.protocolSection[module]![key] as unknown[];

function reorderDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderDeep).reverse();
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorderDeep(v)]));
}

describe('canonicalJson', () => {
  it('sorts object keys and list elements at every depth', () => {
    const value: Json = { b: 1, a: [3, 1, { y: [true, false], x: 'é' }], c: null };
    expect(canonicalJson(value)).toBe('{"a":[1,3,{"x":"é","y":[false,true]}],"b":1,"c":null}');
  });

  it('is the same for a deeply reordered copy', () => {
    const raw = golden() as unknown as Json;
    expect(canonicalJson(reorderDeep(raw) as Json)).toBe(canonicalJson(raw));
  });
});

describe('sameValue', () => {
  it('ignores key order and list order', () => {
    expect(sameValue({ a: [1, 2, { b: 1, c: 2 }] }, { a: [{ c: 2, b: 1 }, 2, 1] })).toBe(true);
  });

  it('compares lists as multisets', () => {
    expect(sameValue(['a', 'a', 'b'], ['a', 'b', 'b'])).toBe(false);
    expect(sameValue(['a', 'b'], ['a', 'b', 'b'])).toBe(false);
  });

  it('distinguishes types and values', () => {
    expect(sameValue(false, 0)).toBe(false);
    expect(sameValue('1', 1)).toBe(false);
    expect(sameValue(['x'], 'x')).toBe(false);
    expect(sameValue(null, 'null')).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue({ a: 1 }, { b: 1 })).toBe(false);
    expect(sameValue('2007-02', '2007-02')).toBe(true);
  });
});

describe('hasValue', () => {
  it('counts false and 0 and rejects empties', () => {
    expect([false, 0, 'x', [0], { a: null }].map(hasValue)).toEqual([true, true, true, true, true]);
    expect([undefined, null, '', [], {}].map(hasValue)).toEqual([false, false, false, false, false]);
  });
});

describe('studyContentHash', () => {
  it('is sha256 over the canonical NCT ID and fields', () => {
    const study = { nctId: 'NCT00000001' as NctId, fields: { 'b.x': [2, 1], 'a.y': false } };
    const expected = createHash('sha256')
      .update('{"fields":{"a.y":false,"b.x":[1,2]},"nctId":"NCT00000001"}')
      .digest('hex');
    expect(studyContentHash(study)).toBe(expected);
  });

  it('is equal for reordered, re-serialised and versionHolder-only variants', () => {
    const base = hashOf(golden());
    expect(hashOf(reorderDeep(golden()) as Raw)).toBe(base);
    expect(hashOf(JSON.parse(JSON.stringify(golden(), null, 7)) as Raw)).toBe(base);
    const refreshed = golden();
    (refreshed.derivedSection!.miscInfoModule as Record<string, unknown>).versionHolder = '2030-01-01';
    expect(hashOf(refreshed)).toBe(base);
  });

  const edits: Array<[string, (raw: Raw) => void]> = [
    ['overallStatus', (r) => void (r.protocolSection.statusModule!.overallStatus = 'TERMINATED')],
    ['enrollment count', (r) => void (r.protocolSection.designModule!.enrollmentInfo = { count: 12 })],
    ['a cleared field', (r) => void delete r.protocolSection.eligibilityModule!.maximumAge],
    ['a new field', (r) => void (r.protocolSection.statusModule!.whyStopped = 'Funding')],
    ['a location added', (r) => void listAt(r, 'contactsLocationsModule', 'locations').push({ city: 'Lyon' })],
    ['a duplicated list element', (r) => void listAt(r, 'conditionsModule', 'keywords').push('ALS')],
    ['hasResults', (r) => void (r.hasResults = true)],
    ['the NCT ID', (r) => void (r.protocolSection.identificationModule.nctId = 'NCT00855401')],
  ];
  it.each(edits)('changes when %s changes', (_name, edit) => {
    const edited = golden();
    edit(edited);
    expect(hashOf(edited)).not.toBe(hashOf(golden()));
  });
});

describe('canonicalJson with unusual keys', () => {
  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"a":1},"b":2}') as Json;
    expect(canonicalJson(value)).toBe('{"__proto__":{"a":1},"b":2}');
    expect(sameValue(value, { b: 2 })).toBe(false);
  });
});
