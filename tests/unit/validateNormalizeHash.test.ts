import { describe, expect, it } from 'vitest';
import { recordIdentity } from '../../src/ctgov/rawRecord.js';
import { peekNctId, peekNctIdAliases } from '../../src/ctgov/schema.js';
import { validateNormalizeHash } from '../../src/pipeline/validateNormalizeHash.js';
import { rawRecordText } from '../../src/studies/rawHash.js';
import { fixtureIds, readFixture } from '../support/ctgovFixtures.js';

type Raw = Record<string, any>;

const fixture = (): Raw => readFixture(fixtureIds()[0]!) as Raw;

describe('validateNormalizeHash', () => {
  it('keeps the text the record arrived as for its version, and not the parsed record', () => {
    const raw = fixture();
    const received = JSON.stringify(raw);
    const v = validateNormalizeHash({ raw, rawJson: received });
    if (!v.ok || v.observation.kind !== 'full') throw new Error(`expected a full observation, got ${JSON.stringify(v)}`);
    expect(v.observation.rawJson).toBe(received);
    expect(v.observation.rawHash).toBe(rawRecordText(raw, received)!.hash);
    expect(v.observation).not.toHaveProperty('raw');
  });

  it('serialises a record that came without its text once, for the hash and the version', () => {
    const raw = fixture();
    const v = validateNormalizeHash({ raw });
    if (!v.ok || v.observation.kind !== 'full') throw new Error(`expected a full observation, got ${JSON.stringify(v)}`);
    expect(v.observation.rawJson).toBe(JSON.stringify(raw));
  });

  it('quarantines a record that cannot be written as JSON, naming it, instead of failing the batch later', () => {
    const raw = fixture();
    raw.protocolSection.statusModule.extra = 10n;
    const v = validateNormalizeHash({ raw });
    expect(v).toMatchObject({
      ok: false,
      failure: { nctId: raw.protocolSection.identificationModule.nctId, stage: 'validate', error: expect.stringContaining('cannot be serialised as JSON') },
    });
  });

  it('takes a record given as bytes like its text: the same hash, the same version text', () => {
    const raw = fixture();
    // Characters outside Latin-1: the bytes are UTF-8, the text is not.
    raw.protocolSection.identificationModule.briefTitle = 'Étude ≥ 65 ans, 日本語 😀';
    const text = JSON.stringify(raw);
    const fromText = validateNormalizeHash({ raw, rawJson: text });
    const fromBytes = validateNormalizeHash({ json: Buffer.from(text) });
    if (!fromBytes.ok || fromBytes.observation.kind !== 'full') throw new Error(`expected a full observation, got ${JSON.stringify(fromBytes)}`);
    if (!fromText.ok || fromText.observation.kind !== 'full') throw new Error('expected a full observation');
    // The version text is kept as the bytes that came, equal to the text's UTF-8.
    const { rawJson: bytes, ...fromBytesRest } = fromBytes.observation;
    const { rawJson: text2, ...fromTextRest } = fromText.observation;
    expect(Buffer.isBuffer(bytes) && bytes.equals(Buffer.from(text2))).toBe(true);
    expect(fromBytesRest).toEqual(fromTextRest);
  });

  it('takes bytes whose hash is the stored one as unchanged without decoding them', () => {
    const raw = fixture();
    const text = JSON.stringify(raw);
    const nctId = raw.protocolSection.identificationModule.nctId as string;
    const stored = new Map([[nctId, rawRecordText(raw)!.hash]]);
    const bytes = Buffer.from(text);
    const v = validateNormalizeHash({ json: bytes }, stored);
    expect(v).toMatchObject({ ok: true, observation: { kind: 'quick', nctId, rawHash: stored.get(nctId) } });
    // Another versionHolder is the same record; anything else is not.
    raw.derivedSection.miscInfoModule.versionHolder = '2031-01-01';
    expect(validateNormalizeHash({ json: Buffer.from(JSON.stringify(raw)) }, stored)).toMatchObject({ ok: true, observation: { kind: 'quick' } });
    raw.protocolSection.statusModule.overallStatus = 'WITHDRAWN';
    expect(validateNormalizeHash({ json: Buffer.from(JSON.stringify(raw)) }, stored)).toMatchObject({ ok: true, observation: { kind: 'full' } });
  });

  it('quarantines bytes that are not JSON at parsing, named by the ID they carry and where they came from', () => {
    const raw = fixture();
    const nctId = raw.protocolSection.identificationModule.nctId as string;
    const broken = Buffer.from(JSON.stringify(raw).replace('"derivedSection":{', '"derivedSection":{,'));
    expect(validateNormalizeHash({ json: broken })).toMatchObject({
      ok: false,
      failure: { nctId, stage: 'parse', error: expect.stringMatching(/^the record: not valid JSON/) },
    });
    expect(validateNormalizeHash({ json: broken, source: 'bulk.zip:x.json' })).toMatchObject({
      ok: false,
      failure: { nctId, stage: 'parse', error: expect.stringMatching(/^bulk\.zip:x\.json: not valid JSON/) },
    });
  });
});

describe('recordIdentity', () => {
  it('reads the nctId and aliases from the bytes as parsing the whole record does', () => {
    for (const id of fixtureIds()) {
      const raw = readFixture(id);
      for (const text of [JSON.stringify(raw), JSON.stringify(raw, null, 2)]) {
        expect(recordIdentity({ json: Buffer.from(text) }), id).toEqual({ nctId: peekNctId(raw), aliases: peekNctIdAliases(raw) });
      }
    }
    const withAliases = { protocolSection: { identificationModule: { nctId: 'NCT01234567', nctIdAliases: ['NCT07654321'] } } };
    expect(recordIdentity({ json: Buffer.from(JSON.stringify(withAliases)) })).toEqual({ nctId: 'NCT01234567', aliases: ['NCT07654321'] });
    for (const text of ['', '[]', '{"protocolSection":1}', '{"protocolSection":{"identificationModule":{"nctId":}}}', '{"a":"b"}']) {
      expect(recordIdentity({ json: Buffer.from(text) }), text).toEqual({ nctId: undefined, aliases: [] });
    }
  });
});
