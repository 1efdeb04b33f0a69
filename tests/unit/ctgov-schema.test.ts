import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCtgovStudy, parseStudiesPage, peekNctId } from '../../src/ctgov/schema.js';
import { StudyValidationError } from '../../src/errors.js';
import { CTGOV_FIXTURE_DIR, CTGOV_SEED_DIR, readFixture } from '../support/ctgovFixtures.js';

const studyFiles = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => /^NCT\d{8}\.json$/.test(f));
const versionFiles = readdirSync(join(CTGOV_FIXTURE_DIR, 'versions'));
const pageFiles = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => f.startsWith('studies-page-'));

function fail(raw: unknown): StudyValidationError {
  try {
    parseCtgovStudy(raw);
  } catch (err) {
    if (err instanceof StudyValidationError) return err;
    throw err;
  }
  throw new Error('expected a StudyValidationError');
}

describe('parseCtgovStudy', () => {
  it('accepts all 172 fixture studies, their older versions and the seeds', () => {
    expect(studyFiles).toHaveLength(172);
    expect(versionFiles.length).toBeGreaterThan(0);
    const records = [
      ...studyFiles.map((f) => readFixture(f)),
      ...versionFiles.map((f) => readFixture(f, join(CTGOV_FIXTURE_DIR, 'versions'))),
      readFixture('NCT00855400', CTGOV_SEED_DIR),
      readFixture('NCT02286011', CTGOV_SEED_DIR),
    ];
    for (const raw of records) {
      expect(parseCtgovStudy(raw).protocolSection.identificationModule.nctId).toBe(peekNctId(raw));
    }
  });

  it('accepts every study inside the captured /studies pages and the website download', () => {
    for (const f of pageFiles) {
      for (const raw of parseStudiesPage(readFixture(f)).studies) expect(() => parseCtgovStudy(raw)).not.toThrow();
    }
    const download = readFixture('website-download-ctg-studies-array-10.json') as unknown as unknown[];
    for (const raw of download) expect(() => parseCtgovStudy(raw)).not.toThrow();
  });

  it('keeps keys it does not know, at every level', () => {
    const raw = readFixture('NCT00000410');
    (raw.protocolSection as Record<string, unknown>).futureModule = { x: 1 };
    raw.brandNewSection = true;
    const study = parseCtgovStudy(raw) as Record<string, unknown>;
    expect(study.brandNewSection).toBe(true);
    expect((study.protocolSection as Record<string, unknown>).futureModule).toEqual({ x: 1 });
    expect(study.derivedSection).toEqual(raw.derivedSection);
  });

  it('reads collapsed lists from ctrdata-era records as lists', () => {
    // NCT00617929 has conditions: "Cancer", phases: "PHASE2", collaborators: {}.
    const study = parseCtgovStudy(readFixture('NCT00617929'));
    expect(study.protocolSection.conditionsModule?.conditions).toEqual(['Cancer']);
    expect(study.protocolSection.designModule?.phases).toEqual(['PHASE2']);
    expect(study.protocolSection.sponsorCollaboratorsModule?.collaborators).toEqual([]);
  });

  it('requires an nctId and names the study and the bad paths', () => {
    const noId = fail({ protocolSection: { identificationModule: { briefTitle: 'x' } } });
    expect(noId.nctId).toBeUndefined();
    expect(noId.issues.map((i) => i.path)).toContain('protocolSection.identificationModule.nctId');

    const raw = readFixture('NCT00162175');
    const ps = raw.protocolSection as Record<string, Record<string, unknown>>;
    (ps.contactsLocationsModule!.locations as Record<string, unknown>[])[3]!.geoPoint = { lat: 'north', lon: 1 };
    ps.statusModule!.overallStatus = 42;
    const err = fail(raw);
    expect(err.nctId).toBe('NCT00162175');
    expect(err.issues.map((i) => i.path)).toEqual([
      'protocolSection.statusModule.overallStatus',
      'protocolSection.contactsLocationsModule.locations[3].geoPoint.lat',
    ]);
    expect(err.message).toContain('NCT00162175');
  });

  it('rejects an nctId that is not NCT plus 8 digits', () => {
    expect(fail({ protocolSection: { identificationModule: { nctId: 'nct123' } } }).issues[0]?.message).toMatch(/NCT ID/);
  });

  it('rejects a record that is not an object', () => {
    expect(fail(null).issues[0]?.path).toBe('');
    expect(fail([]).nctId).toBeUndefined();
  });
});

describe('parseStudiesPage', () => {
  it('reads totalCount only where CT.gov sent it (first page) and the next token', () => {
    const p1 = parseStudiesPage(readFixture('studies-page-fields-subset-p1-totalCount.json'));
    const p2 = parseStudiesPage(readFixture('studies-page-fields-subset-p2.json'));
    expect(p1.totalCount).toBe(21);
    expect(p1.studies).toHaveLength(5);
    expect(p2.totalCount).toBeUndefined();
    expect(p2.nextPageToken).toMatch(/^ZVt07cGH/);
    expect(parseStudiesPage(readFixture('studies-page-last-no-nextPageToken.json')).nextPageToken).toBeUndefined();
  });

  it('rejects what is not a page', () => {
    expect(() => parseStudiesPage({ studies: 'x' })).toThrow(/studies/);
    expect(() => parseStudiesPage([])).toThrow(/not a \/studies page/);
  });
});
