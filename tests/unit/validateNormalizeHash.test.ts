import { describe, expect, it } from 'vitest';
import { validateNormalizeHash } from '../../src/pipeline/validateNormalizeHash.js';
import { rawRecordText } from '../../src/studies/rawHash.js';
import { fixtureIds, readFixture } from '../support/ctgovFixtures.js';

type Raw = Record<string, any>;

const fixture = (): Raw => readFixture(fixtureIds()[0]!) as Raw;

describe('validateNormalizeHash', () => {
  it('keeps the text the record arrived as for its version, and not the parsed record', () => {
    const raw = fixture();
    const received = JSON.stringify(raw);
    const v = validateNormalizeHash(raw, received);
    if (!v.ok || v.observation.kind !== 'full') throw new Error(`expected a full observation, got ${JSON.stringify(v)}`);
    expect(v.observation.rawJson).toBe(received);
    expect(v.observation.rawHash).toBe(rawRecordText(raw, received)!.hash);
    expect(v.observation).not.toHaveProperty('raw');
  });

  it('serialises a record that came without its text once, for the hash and the version', () => {
    const raw = fixture();
    const v = validateNormalizeHash(raw);
    if (!v.ok || v.observation.kind !== 'full') throw new Error(`expected a full observation, got ${JSON.stringify(v)}`);
    expect(v.observation.rawJson).toBe(JSON.stringify(raw));
  });

  it('quarantines a record that cannot be written as JSON, naming it, instead of failing the batch later', () => {
    const raw = fixture();
    raw.protocolSection.statusModule.extra = 10n;
    const v = validateNormalizeHash(raw);
    expect(v).toMatchObject({
      ok: false,
      failure: { nctId: raw.protocolSection.identificationModule.nctId, stage: 'validate', error: expect.stringContaining('cannot be serialised as JSON') },
    });
  });
});
