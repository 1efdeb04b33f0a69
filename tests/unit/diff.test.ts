import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diffStudies } from '../../src/studies/diff.js';
import type { Json } from '../../src/studies/model.js';
import { normalizeStudy, type CtgovStudyInput } from '../../src/studies/normalize.js';

type Raw = CtgovStudyInput & { protocolSection: Record<string, Record<string, unknown>> };
type Loc = Record<string, string | undefined>;

const RAW = fileURLToPath(new URL('../fixtures/ctgov/raw/', import.meta.url));
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Raw;
const golden = () => read(fileURLToPath(new URL('../fixtures/ctgov/seeds/NCT00855400.json', import.meta.url)));
const raw = (id: string) => read(join(RAW, `${id}.json`));
const diffRaw = (before: Raw, after: Raw) => diffStudies(normalizeStudy(before), normalizeStudy(after));
const locationsOf = (r: Raw) => r.protocolSection.contactsLocationsModule!.locations as Loc[];
const siteKey = (l: Loc) =>
  `locations.${[l.facility, l.city, l.state, l.country].map((s) => (s ?? '').trim().toLowerCase()).join('|')}`;

function reorderDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderDeep).reverse();
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reorderDeep(v)]));
}

// Independent of canonical.ts: sort a copy structurally, then stringify.
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) {
    const keyed = value.map(sortedCopy).map((v) => [JSON.stringify(v), v] as const);
    return keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, sortedCopy(record[k])]));
}
const comparable = (value: unknown) => (value === undefined ? undefined : JSON.stringify(sortedCopy(value)));

describe('diffStudies on unchanged content', () => {
  it('returns nothing for the same record', () => {
    expect(diffRaw(golden(), golden())).toEqual([]);
  });

  it('returns nothing when every list at every depth is reordered', () => {
    for (const id of ['NCT00567567', 'NCT03798535', 'NCT00203242']) {
      expect(diffRaw(raw(id), reorderDeep(raw(id)) as Raw), id).toEqual([]);
    }
  });

  it('returns nothing when only versionHolder changed', () => {
    const refreshed = golden();
    (refreshed.derivedSection!.miscInfoModule as Record<string, unknown>).versionHolder = '2031-01-01';
    expect(diffRaw(golden(), refreshed)).toEqual([]);
    const older = read(join(RAW, 'versions/NCT00567567.versionHolder-2026-03-03.json'));
    expect(diffRaw(older, raw('NCT00567567'))).toEqual([]);
  });
});

describe('diffStudies on a first sighting', () => {
  it('adds every path with a value, sorted by path', () => {
    const study = normalizeStudy(golden());
    const changes = diffStudies(undefined, study);
    const paths = Object.keys(study.fields).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(changes.map((c) => c.path)).toEqual(paths);
    expect(changes.every((c) => c.kind === 'added' && c.oldValue === null)).toBe(true);
    expect(changes.find((c) => c.path === 'eligibility.healthyVolunteers')?.newValue).toBe(false);
  });
});

describe('diffStudies on one edit', () => {
  it('records one change when overallStatus changes', () => {
    const next = golden();
    next.protocolSection.statusModule!.overallStatus = 'TERMINATED';
    expect(diffRaw(golden(), next)).toEqual([
      { path: 'status.overallStatus', kind: 'changed', oldValue: 'COMPLETED', newValue: 'TERMINATED' },
    ]);
  });

  it('records one change when the enrollment count changes', () => {
    const next = golden();
    next.protocolSection.designModule!.enrollmentInfo = { count: 12, type: 'ACTUAL' };
    expect(diffRaw(golden(), next)).toEqual([
      { path: 'design.enrollmentCount', kind: 'changed', oldValue: 11, newValue: 12 },
    ]);
  });

  it('records a removal when a field is cleared', () => {
    const next = golden();
    delete next.protocolSection.eligibilityModule!.maximumAge;
    next.protocolSection.descriptionModule!.detailedDescription = '';
    const before = golden().protocolSection.descriptionModule!.detailedDescription as Json;
    expect(diffRaw(golden(), next)).toEqual([
      { path: 'description.detailedDescription', kind: 'removed', oldValue: before, newValue: null },
      { path: 'eligibility.maxAge', kind: 'removed', oldValue: '65 Years', newValue: null },
    ]);
  });

  it('records an addition when a field is newly set', () => {
    const next = golden();
    next.protocolSection.statusModule!.whyStopped = 'Funding';
    expect(diffRaw(golden(), next)).toEqual([
      { path: 'status.whyStopped', kind: 'added', oldValue: null, newValue: 'Funding' },
    ]);
  });

  it('records one removal when one of many locations goes away', () => {
    const next = raw('NCT00831909');
    const [gone] = locationsOf(next).splice(5, 1);
    expect(diffRaw(raw('NCT00831909'), next)).toEqual([
      { path: siteKey(gone!), kind: 'removed', oldValue: gone, newValue: null },
    ]);
  });

  it('records one addition when a location is added', () => {
    const site = { facility: 'Centre Léon Bérard', city: 'Lyon', country: 'France' };
    const next = golden();
    locationsOf(next).unshift(site);
    expect(diffRaw(golden(), next)).toEqual([
      { path: 'locations.centre léon bérard|lyon||france', kind: 'added', oldValue: null, newValue: site },
    ]);
  });

  it('records one change when one element of a list changes', () => {
    const next = golden();
    const outcomes = next.protocolSection.outcomesModule!.secondaryOutcomes as Array<Record<string, string>>;
    outcomes[1]!.timeFrame = 'Monthly';
    const changes = diffRaw(golden(), next);
    expect(changes.map((c) => [c.path, c.kind])).toEqual([['outcomes.secondary', 'changed']]);
    expect(changes[0]!.newValue).toEqual(outcomes);
  });
});

describe('diffStudies against older fixture versions', () => {
  const versions = readdirSync(join(RAW, 'versions')).filter((f) => f.endsWith('.json'));

  it.each(versions)('%s: changes exactly the paths whose values differ', (file) => {
    const before = normalizeStudy(read(join(RAW, 'versions', file)));
    const after = normalizeStudy(raw(file.split('.')[0]!));
    const paths = [...new Set([...Object.keys(before.fields), ...Object.keys(after.fields)])];
    const expected = paths
      .filter((p) => comparable(before.fields[p]) !== comparable(after.fields[p]))
      .map((p) => ({ path: p, kind: !(p in before.fields) ? 'added' : !(p in after.fields) ? 'removed' : 'changed' }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(diffStudies(before, after).map(({ path, kind }) => ({ path, kind }))).toEqual(expected);
  });

  it('finds the known MeSH and status differences', () => {
    const paths = (file: string) =>
      diffStudies(normalizeStudy(read(join(RAW, 'versions', file))), normalizeStudy(raw(file.split('.')[0]!))).map(
        (c) => c.path,
      );
    expect(paths('NCT01125800.versionHolder-2023-11-22.json')).toEqual([
      'conditionBrowse.browseLeaves',
      'miscInfo.modelPredictions',
    ]);
    expect(paths('NCT01483820.versionHolder-2023-12-01.json')).toEqual([
      'conditionBrowse.browseLeaves',
      'miscInfo.modelPredictions',
      'status.lastUpdatePostDate',
      'status.lastUpdateSubmitDate',
      'status.statusVerifiedDate',
    ]);
  });
});
