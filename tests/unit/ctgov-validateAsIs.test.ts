import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctgovStudySchema, parseCtgovStudy, validateCtgovStudy } from '../../src/ctgov/schema.js';
import { StudyValidationError } from '../../src/errors.js';
import { normalizeStudy, normalizeValidated } from '../../src/studies/normalize.js';
import { CTGOV_FIXTURE_DIR, CTGOV_SEED_DIR, readFixture } from '../support/ctgovFixtures.js';

type Raw = Record<string, any>;

const records: Array<[string, Raw]> = [
  ...readdirSync(CTGOV_FIXTURE_DIR)
    .filter((f) => /^NCT\d{8}\.json$/.test(f))
    .map((f): [string, Raw] => [f, readFixture(f)]),
  ...readdirSync(join(CTGOV_FIXTURE_DIR, 'versions')).map((f): [string, Raw] => [f, readFixture(f, join(CTGOV_FIXTURE_DIR, 'versions'))]),
  ['seed NCT00855400', readFixture('NCT00855400', CTGOV_SEED_DIR)],
];

describe('validateCtgovStudy', () => {
  it('returns the record itself exactly when zod would return an equal copy, and zod\'s copy otherwise', () => {
    let asIs = 0;
    for (const [name, raw] of records) {
      const v = validateCtgovStudy(raw);
      const copy = ctgovStudySchema.parse(raw);
      expect(v.record, name).toEqual(copy);
      if (v.asIs) {
        expect(v.record, name).toBe(raw);
        asIs++;
      }
    }
    // Most real records need nothing coerced; the collapsed-list exports among the fixtures do.
    expect(asIs).toBeGreaterThan(records.length * 0.8);
    expect(asIs).toBeLessThan(records.length);
  });

  it('hands a list collapsed to its only element to zod, which makes it a list again', () => {
    const raw = readFixture('NCT00855400', CTGOV_SEED_DIR) as Raw;
    raw.protocolSection.conditionsModule.conditions = 'Parkinson Disease';
    const v = validateCtgovStudy(raw);
    expect(v.asIs).toBe(false);
    expect(v.record.protocolSection.conditionsModule?.conditions).toEqual(['Parkinson Disease']);
  });

  it.each<[string, (raw: Raw) => void]>([
    ['a number where a string belongs', (r) => void (r.protocolSection.identificationModule.briefTitle = 5)],
    ['an invalid NCT ID', (r) => void (r.protocolSection.identificationModule.nctId = 'NCT1')],
    ['an infinite number', (r) => void (r.protocolSection.designModule.enrollmentInfo = { count: Infinity })],
    ['null where an object belongs', (r) => void (r.protocolSection.statusModule = null)],
    ['a hole in a list', (r) => void (r.protocolSection.conditionsModule.keywords = [, 'x'])],
  ])('rejects %s with the same error as parseCtgovStudy', (_name, edit) => {
    const raw = readFixture('NCT00855400', CTGOV_SEED_DIR) as Raw;
    edit(raw);
    const expected = (() => {
      try {
        parseCtgovStudy(raw);
      } catch (err) {
        return err;
      }
    })();
    expect(expected).toBeInstanceOf(StudyValidationError);
    expect(() => validateCtgovStudy(raw)).toThrow(expected as Error);
  });
});

describe('normalizeValidated', () => {
  it('gives the same study as normalizing zod\'s copy, for every fixture', () => {
    for (const [name, raw] of records) {
      expect(normalizeValidated(validateCtgovStudy(raw)), name).toEqual(normalizeStudy(parseCtgovStudy(raw)));
    }
  });

  it('normalizes zod\'s copy when two keys of the record fill one path, so key order cannot decide', () => {
    const raw = readFixture('NCT00855400', CTGOV_SEED_DIR) as Raw;
    // An unknown `startDate` ahead of startDateStruct: zod's copy puts the schema's keys first.
    const { startDateStruct, ...rest } = raw.protocolSection.statusModule;
    raw.protocolSection.statusModule = { startDate: '1999', ...rest, startDateStruct };
    const v = validateCtgovStudy(raw);
    expect(v.asIs).toBe(true);
    expect(normalizeStudy(raw).fields['status.startDate']).toBe(startDateStruct.date);
    const study = normalizeValidated(v);
    expect(study).toEqual(normalizeStudy(parseCtgovStudy(raw)));
    expect(study.fields['status.startDate']).toBe('1999');
  });
});
