import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitStudiesPage } from '../../src/ctgov/splitStudiesPage.js';
import { CTGOV_FIXTURE_DIR, fixtureIds, readFixture } from '../support/ctgovFixtures.js';

/*
 * A page split into its studies' texts must give exactly what parsing the page whole gives: the
 * same records (each parsed from its own text) and the same envelope. Anything it cannot split
 * soundly is left to the whole-page parse (undefined), never guessed.
 */

const split = (text: string) => {
  const page = splitStudiesPage(Buffer.from(text));
  return page && { envelope: page.envelope, studies: page.studies.map((s) => s.toString('utf8')) };
};

/** The page's value as split: the envelope with each study parsed from its own text put back. */
function reassembled(text: string): unknown {
  const s = split(text);
  if (!s) return undefined;
  const envelope = JSON.parse(s.envelope) as Record<string, unknown>;
  expect(envelope.studies).toEqual([]);
  return { ...envelope, studies: s.studies.map((t): unknown => JSON.parse(t)) };
}

describe('splitStudiesPage', () => {
  it('splits every captured /studies page into the records a whole parse gives, text for text', () => {
    const pages = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => f.startsWith('studies-page-'));
    expect(pages.length).toBeGreaterThan(3);
    for (const file of pages) {
      const text = readFileSync(join(CTGOV_FIXTURE_DIR, file), 'utf8');
      const whole = JSON.parse(text) as { studies: unknown[] };
      expect(reassembled(text), file).toEqual(whole);
      // Each text is the study's own bytes: minified pages give what JSON.stringify writes.
      const minified = JSON.stringify(whole);
      expect(split(minified)!.studies).toEqual(whole.studies.map((s) => JSON.stringify(s)));
    }
  });

  it('finds the boundaries whatever the strings hold and however the page is spaced', () => {
    const studies = fixtureIds()
      .slice(0, 5)
      .map((id) => readFixture(id));
    (studies[0] as any).protocolSection.descriptionModule.briefSummary = 'brackets ] } [ { and "quotes", a backslash \\ and \\" too: ",{"x":[1]}';
    (studies[1] as any).protocolSection.identificationModule.briefTitle = 'ends in a backslash \\';
    (studies[2] as any).protocolSection.identificationModule.acronym = 'Ünïcödé 日本語 😀';
    const page = { totalCount: 5, studies, nextPageToken: 'N0\\"t{[' };
    for (const text of [JSON.stringify(page), JSON.stringify(page, null, 2), ` \n${JSON.stringify(page, null, '\t')}\r\n`]) {
      expect(reassembled(text)).toEqual(page);
      expect(split(text)!.studies.map((t) => JSON.parse(t))).toEqual(studies);
    }
    // Studies of any JSON type, and an empty list, are elements like any other.
    expect(reassembled('{"studies":[1,"a",null,[],{},true]}')).toEqual({ studies: [1, 'a', null, [], {}, true] });
    expect(reassembled('{"nextPageToken":"x","studies":[ ]}')).toEqual({ nextPageToken: 'x', studies: [] });
    expect(reassembled('{"studies":[{"a":"}"}],"more":{"studies":[1]}}')).toEqual({ studies: [{ a: '}' }], more: { studies: [1] } });
  });

  it('ends every string where JSON.parse does, escapes at any distance from its opening quote', () => {
    for (let at = 0; at < 140; at += 3) {
      for (const escape of ['\\"', '\\\\', '\\\\\\"', 'é😀']) {
        const value = `${'x'.repeat(at)}${escape}"${'y'.repeat(at % 7)}`;
        const studies = [{ a: value, b: [value, { [value]: value }] }, { c: value }];
        const text = JSON.stringify({ studies, after: value });
        expect(reassembled(text), `${at} ${escape}`).toEqual({ studies, after: value });
      }
    }
  });

  it('leaves to a whole parse what it cannot split soundly', () => {
    for (const text of [
      '',
      '[]',
      '{}',
      '{"totalCount":1}',
      '{"studies":{}}',
      '{"studies":[1],"studies":[2]}', // JSON.parse keeps the last
      '{"studies":[{"a":1}]', // truncated
      '{"studies":[{"a":"1}]}', // an unclosed string
      '{"studies":[{"a":1}]} x', // trailing text
      '{"studies":[{"a":1} {"b":2}]}', // no comma
      '\uFEFF{"studies":[]}', // a byte-order mark: JSON.parse refuses it too
    ]) {
      expect(split(text), text).toBeUndefined();
    }
  });
});
