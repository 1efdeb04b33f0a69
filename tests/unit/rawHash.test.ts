import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RAW_HASH_VERSION, rawRecordHash, rawRecordText } from '../../src/studies/rawHash.js';
import { fixtureIds, readFixture } from '../support/ctgovFixtures.js';

type Raw = Record<string, any>;

const fixture = (): Raw => readFixture(fixtureIds()[0]!) as Raw;

describe('rawRecordText', () => {
  it('returns the record as JSON.stringify writes it, and a hash that the versionHolder does not move', () => {
    const raw = fixture();
    const before = rawRecordText(raw)!;
    expect(before.json).toBe(JSON.stringify(raw));
    raw.derivedSection.miscInfoModule.versionHolder = '2031-12-31';
    const after = rawRecordText(raw)!;
    expect(after.json).toBe(JSON.stringify(raw));
    expect(after.json).not.toBe(before.json);
    expect(after.hash).toBe(before.hash);
    // Like normalization, which never reads it, the hash does not see the key at all.
    delete raw.derivedSection.miscInfoModule.versionHolder;
    expect(rawRecordHash(raw)).toBe(before.hash);
  });

  it('moves with any other change: a value, a key, the order of a list or of keys', () => {
    const base = rawRecordHash(fixture());
    const edits: Array<(r: Raw) => void> = [
      (r) => (r.protocolSection.statusModule.overallStatus = 'WITHDRAWN'),
      (r) => (r.protocolSection.statusModule.extraKey = 1),
      (r) => r.protocolSection.conditionsModule.conditions.push('Another'),
      (r) => r.protocolSection.conditionsModule.conditions.reverse(),
      (r) => {
        const { identificationModule, ...rest } = r.protocolSection;
        r.protocolSection = { ...rest, identificationModule };
      },
      // A versionHolder CT.gov would not send counts like any other value.
      (r) => (r.derivedSection.miscInfoModule.versionHolder = 20311231),
      (r) => (r.protocolSection.descriptionModule.briefSummary = '"versionHolder":"x"'),
    ];
    const hashes = edits.map((edit) => {
      const raw = fixture();
      if (raw.protocolSection.conditionsModule.conditions.length < 2) raw.protocolSection.conditionsModule.conditions.push('Second');
      const reference = rawRecordHash(raw);
      edit(raw);
      return rawRecordHash(raw) === reference;
    });
    expect(hashes).toEqual(edits.map(() => false));
    expect(base).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('includes the rules version, so that new rules read every study again', () => {
    expect(RAW_HASH_VERSION).toMatch(/\S/);
    const raw = fixture();
    const json = JSON.stringify({ ...raw, derivedSection: { ...raw.derivedSection, miscInfoModule: { ...raw.derivedSection.miscInfoModule, versionHolder: undefined } } });
    expect(rawRecordHash(raw)).not.toBe(createHash('sha256').update(json).digest('base64url'));
  });

  it('hashes the text a record arrived as: minified like JSON.stringify, the same hash as before', () => {
    const raw = fixture();
    const minified = JSON.stringify(raw);
    // Hashes stored before records came with their text stay valid for CT.gov's minified pages.
    expect(rawRecordText(raw, minified)).toEqual(rawRecordText(raw));
    const received = rawRecordText(raw, minified)!;
    expect(received.json).toBe(minified);
    // The text is what is hashed, not the record: other text, another hash.
    const pretty = JSON.stringify(raw, null, 2);
    expect(rawRecordHash(raw, pretty)).not.toBe(received.hash);
    expect(rawRecordText(raw, pretty)!.json).toBe(pretty);
  });

  it('leaves the versionHolder member out of received text however it is spaced', () => {
    for (const space of [undefined, 2, '\t']) {
      const raw = fixture();
      const before = rawRecordHash(raw, JSON.stringify(raw, null, space));
      raw.derivedSection.miscInfoModule.versionHolder = '2031-12-31';
      expect(rawRecordHash(raw, JSON.stringify(raw, null, space)), String(space)).toBe(before);
      // Anything else in the text still counts.
      raw.protocolSection.identificationModule.briefTitle += '.';
      expect(rawRecordHash(raw, JSON.stringify(raw, null, space))).not.toBe(before);
    }
  });

  it('gives up (undefined) on what cannot be serialised', () => {
    const cyclic: Raw = { protocolSection: {} };
    cyclic.protocolSection.self = cyclic;
    expect(rawRecordText(cyclic)).toBeUndefined();
    expect(rawRecordText(undefined)).toBeUndefined();
  });
});
