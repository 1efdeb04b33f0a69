import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildHistory, type HistoryState } from '../../src/backfill/buildHistory.js';
import { canonicalText, decodeEntities, historyTextToMarkdown } from '../../src/backfill/canonicalText.js';
import { historyStudyToV2, isDerivedPath } from '../../src/backfill/historyRecord.js';
import { usedVersions } from '../../src/backfill/backfillStudy.js';
import { HistoryShapeError, parseHistoryIndex, parseHistoryVersion } from '../../src/ctgov/historySchema.js';
import { historyBaseUrl } from '../../src/ctgov/history.js';
import { validateCtgovStudy } from '../../src/ctgov/schema.js';
import { normalizeValidated } from '../../src/studies/normalize.js';
import { derivedReferencesOf, renderHistoryStudy } from '../support/fakeCtgovHistoryRender.js';
import { ADDED_SITE, OLD_MEASURE, SCENARIO_DATES, scenarioLive, scenarioVersions } from '../support/historyScenario.js';

const HISTORY_DIR = fileURLToPath(new URL('../fixtures/ctgov/history/', import.meta.url));
const readJson = (name: string) => JSON.parse(readFileSync(HISTORY_DIR + name, 'utf8')) as Record<string, any>;

describe('the real history bodies', () => {
  it('parses the ?history=true index (shape A) and its bare history object (shape B)', () => {
    const body = readJson('NCT03690141.index.history-true.json');
    const a = parseHistoryIndex('NCT03690141', body);
    expect(a.changes.map((c) => c.version)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a.changes[0]).toMatchObject({ version: 0, date: '2018-09-27', moduleLabels: [] });
    expect(a.changes[9]!.date).toBe('2020-04-27');
    expect(parseHistoryIndex('NCT03690141', body.history)).toEqual(a);
  });

  it('normalizes version 0 of NCT04280705 with its text decoded and today\'s derived data left out', () => {
    const body = readJson('NCT04280705.v0.json');
    const version = parseHistoryVersion('NCT04280705', 0, body);
    const raw = historyStudyToV2(version.study);
    const study = normalizeValidated(validateCtgovStudy(raw));
    const stored = JSON.stringify(study.fields);
    expect(readFileSync(HISTORY_DIR + 'NCT04280705.v0.json', 'utf8')).toContain('&#x2F;');
    for (const entity of ['&#x2F;', '&lt;', '&gt;', '&#x27;', '<li>', '<p>']) expect(stored).not.toContain(entity);
    expect(study.fields['eligibility.criteria']).toMatch(/^Inclusion Criteria:\n\n1\. Subject \(or legally authorized representative\) provides written informed consent/);
    expect(study.fields['eligibility.criteria']).toContain('Male or non-pregnant female adult \\>/=18 years of age');
    expect(study.fields['description.detailedDescription']).toContain('SpO2 </= 94%');
    // The ten DERIVED citations (2020-11 … 2024-09) are not part of a 2020-02-20 version.
    expect(JSON.stringify(study.fields['references.references'] ?? [])).not.toContain('DERIVED');
    expect(Object.keys(study.fields).some((p) => p.startsWith('conditionBrowse.') || p.startsWith('miscInfo.'))).toBe(false);
  });

  it('rejects a version body that is not the version asked for, or not a version at all', () => {
    const body = readJson('NCT04280705.v0.json');
    expect(() => parseHistoryVersion('NCT04280705', 1, body)).toThrow(/history version 1 body: it is version 0/);
    expect(() => parseHistoryVersion('NCT04280705', 0, { studyVersion: 0 })).toThrow(HistoryShapeError);
    expect(() => parseHistoryIndex('NCT04280705', { changes: [{ version: 0 }, { version: 2 }] })).toThrow(/not numbered 0…1/);
    expect(() => parseHistoryIndex('NCT04280705', { changes: 'none' })).toThrow(/history index body: changes/);
  });
});

describe('canonical text', () => {
  it('turns history HTML into v2 Markdown', () => {
    const html = '<p>Inclusion Criteria:</p><ul><li>Age &gt;&#x2F;= 18</li><li>Signed consent<ul><li>or a guardian&#x27;s</li></ul></li></ul><p>Exclusion Criteria:</p><ol><li>None</li></ol>';
    expect(historyTextToMarkdown(html)).toBe(
      "Inclusion Criteria:\n\n* Age \\>/= 18\n* Signed consent\n  * or a guardian's\n\nExclusion Criteria:\n\n1. None",
    );
    expect(decodeEntities('SpO2 &lt;&#x2F;= 94% &amp; &#47;')).toBe('SpO2 </= 94% & /');
  });

  it('gives markup, escaping and line breaks one form, and keeps real edits apart', () => {
    const v2 = 'Inclusion Criteria:\n\n* Age \\>= 18 (Oakland, CA)\n* Signed consent';
    const html = '<p>Inclusion Criteria:</p><ul><li><p>Age &gt;= 18 (Oakland,\nCA)</p></li><li>Signed consent</li></ul>';
    expect(canonicalText(html)).toBe(canonicalText(v2));
    expect(canonicalText(html.replace('18', '21'))).not.toBe(canonicalText(v2));
  });

  it('derives the history base URL from the v2 one unless it is set', () => {
    expect(historyBaseUrl('https://clinicaltrials.gov/api/v2')).toBe('https://clinicaltrials.gov/api/int');
    expect(historyBaseUrl('http://127.0.0.1:8090/api/v2/')).toBe('http://127.0.0.1:8090/api/int');
    expect(historyBaseUrl('https://clinicaltrials.gov/api/v2', 'https://www.clinicaltrials.gov/api/int/')).toBe('https://www.clinicaltrials.gov/api/int');
  });
});

/** The scenario's versions as the history endpoint renders them, back through the backfill's conversion. */
function scenarioStates(): HistoryState[] {
  const live = scenarioLive();
  return scenarioVersions().map((v, version) => {
    const rendered = renderHistoryStudy(v.study!, derivedReferencesOf(live), v.markup);
    const raw = historyStudyToV2(JSON.parse(JSON.stringify(rendered)));
    return { version, date: v.date, study: normalizeValidated(validateCtgovStudy(raw)), raw, postDate: null };
  });
}

describe('buildHistory', () => {
  const live = normalizeValidated(validateCtgovStudy(scenarioLive()));

  it('records v1 and v2 edits, nothing for a re-marked-up v3, and only derived paths at the live observation', () => {
    const built = buildHistory(scenarioStates(), live);
    const [v0, v1, v2, v3] = built.versions;
    expect(v0!.changes.every((c) => c.kind === 'added')).toBe(true);
    expect(v0!.changes.map((c) => c.path)).toContain('eligibility.criteria');
    // Unchanged since v0, the text is stored exactly as API v2 gives it.
    expect(v0!.changes.find((c) => c.path === 'eligibility.criteria')!.newValue).toBe(live.fields['eligibility.criteria']);
    expect(v1!.changes.map((c) => c.path)).toEqual(['outcomes.primary', 'status.lastUpdatePostDate', 'status.lastUpdatePostDateType', 'status.lastUpdateSubmitDate']);
    const outcome = v1!.changes[0]!;
    expect((outcome.oldValue as any[])[0].measure).toBe(OLD_MEASURE);
    expect(outcome.newValue).toEqual(live.fields['outcomes.primary']);
    expect(v2!.changes.filter((c) => c.path === `locations.${ADDED_SITE}` || c.path === 'status.overallStatus')).toEqual([
      { path: `locations.${ADDED_SITE}`, kind: 'added', oldValue: null, newValue: live.fields[`locations.${ADDED_SITE}`] },
      { path: 'status.overallStatus', kind: 'changed', oldValue: 'RECRUITING', newValue: 'COMPLETED' },
    ]);
    expect(v3!.changes).toEqual([]);
    expect(v3!.hash).toBe(v2!.hash);
    const bridged = built.bridge.map((c) => c.path);
    expect(bridged).toEqual(Object.keys(live.fields).filter(isDerivedPath).sort());
    expect(bridged).toContain('references.references');
    expect(built.bridge.every((c) => c.kind === 'added')).toBe(true);
  });

  it('without canonical text, the re-marked-up v3 would read as changes (what the canonical form prevents)', () => {
    const built = buildHistory(scenarioStates(), live, { canonical: false });
    expect(built.versions[3]!.changes.map((c) => c.path)).toContain('eligibility.criteria');
    expect(built.bridge.length).toBeGreaterThan(4);
  });

  it('uses versions dated before the first live observation, the last of each date', () => {
    const changes = [
      { version: 0, date: '2020-01-01' },
      { version: 1, date: '2020-01-01' },
      { version: 2, date: '2020-03-01' },
      { version: 3, date: '2026-11-21' },
    ];
    const used = usedVersions(changes, new Date('2026-11-20T06:00:00Z'));
    expect('versions' in used && used.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(usedVersions([{ version: 0 }], new Date())).toEqual({ error: 'the history index gives no date for version 0' });
  });
});

it('the scenario dates are ascending', () => {
  expect([...SCENARIO_DATES].sort()).toEqual([...SCENARIO_DATES]);
});
