import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseNctId } from '../../src/ctgov/nctId.js';
import { type MirrorChange, renderMirrorPage } from '../../src/mirror/render.js';
import { renderMirrorIndex } from '../../src/mirror/renderIndex.js';
import type { Json, Study } from '../../src/studies/model.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import { type CtgovStudyInput, normalizeStudy } from '../../src/studies/normalize.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/ctgov');
const OBSERVED = new Date('2026-05-12T07:19:35.732Z');
const DAY = 86_400_000;

function loadStudy(file: string): { record: CtgovStudyInput; study: Study } {
  const record = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as CtgovStudyInput;
  return { record, study: normalizeStudy(record) };
}

/** What the first sighting records: one `added` per path with a value (mirrored or not). */
function firstSeen(study: Study, at: Date): MirrorChange[] {
  return Object.keys(study.fields).map((path) => ({ path, kind: 'added', detectedAt: at }));
}

function render(study: Study, changes: MirrorChange[] = [], now = OBSERVED): string {
  return renderMirrorPage({ study, changes, lastSeenAt: now, now, settings: DEFAULT_MIRROR_SETTINGS });
}

function frontMatter(page: string, version: '1.1' | '1.2' = '1.2'): Record<string, unknown> {
  expect(page.startsWith('---\n')).toBe(true);
  const end = page.indexOf('\n---\n', 3);
  expect(end).toBeGreaterThan(0);
  return parse(page.slice(4, end + 1), { version }) as Record<string, unknown>;
}

function minimal(fields: Record<string, Json>): Study {
  return { nctId: parseNctId('NCT01234567'), fields: { 'identification.briefTitle': 'A study', ...fields } };
}

describe('renderMirrorPage', () => {
  it('reproduces the golden page byte for byte', () => {
    const { study } = loadStudy('seeds/NCT00855400.json');
    const golden = readFileSync(join(FIXTURES, 'seeds/mirror-NCT00855400.md'), 'utf8');
    expect(render(study, firstSeen(study, OBSERVED))).toBe(golden);
  });

  const raw = readdirSync(join(FIXTURES, 'raw')).filter((f) => /^NCT\d{8}\.json$/.test(f));

  it('has raw fixtures to check', () => {
    expect(raw.length).toBeGreaterThan(100);
  });

  it.each(raw)('renders %s with front matter that parses back to the source values', (file) => {
    const { record, study } = loadStudy(join('raw', file));
    const page = render(study, firstSeen(study, OBSERVED));
    const id = record.protocolSection.identificationModule as { nctId: string; briefTitle?: string };
    const status = (record.protocolSection['statusModule'] as { overallStatus?: string } | undefined)?.overallStatus;
    for (const version of ['1.1', '1.2'] as const) {
      const fm = frontMatter(page, version);
      expect(fm['nct_id']).toBe(id.nctId);
      expect(fm['title']).toBe(id.briefTitle);
      expect(fm['overall_status']).toBe(status);
      expect(fm['last_seen_at']).toBe(OBSERVED.toISOString());
    }
    expect(page).toContain(`\n# ${id.briefTitle}\n`);
    expect(page.endsWith(`*${DEFAULT_MIRROR_SETTINGS.footerNote}*\n`)).toBe(true);
  });

  const hostileTitles = [
    'Phase 2: "A" #1 --- test',
    '- dash', '* star', '&anchor', '!tag', '%TAG', '@at', '`code`', '? key', '| block', '> fold',
    "'single'", '"double"', '{a: 1}', '[1, 2]', 'a: b', 'a #b', ' padded ', 'colon:', 'yes', 'null', '~',
    '1.0', '2010-12-02', 'first line\nsecond line', 'before\n---\nafter', '---', '...', 'tab\tx',
    'ctrl\x01\x7f', 'back\\slash \\" quote', 'Lariboisière: étude', 'line\r\nbreak', 'ls\u2028ps',
  ];

  it.each(hostileTitles)('writes a title that parses back to exactly %j', (title) => {
    const page = render(minimal({ 'identification.briefTitle': title }));
    for (const version of ['1.1', '1.2'] as const) expect(frontMatter(page, version)['title']).toBe(title);
    const heading = page.split('\n').find((line) => line.startsWith('# '));
    expect(heading).toBe(`# ${title.replace(/\s*[\r\n\u2028]+\s*/g, ' ').trim()}`);
  });

  it('quotes hostile values in the other front matter keys too', () => {
    const nasty = 'Sponsor: "X" #1';
    const page = render(
      minimal({
        'status.overallStatus': 'yes',
        'design.phases': ['- PHASE1'],
        'sponsor.lead': nasty,
        'design.studyType': 'null',
        'conditions.conditions': ['#tag', 'other'],
        'locations.x||| spain': { facility: 'X', country: '--- Spain' },
        'status.lastUpdatePostDate': '2010-12-02: x',
      }),
    );
    expect(frontMatter(page)).toMatchObject({
      overall_status: 'yes',
      phase: '- PHASE1',
      sponsor: nasty,
      study_type: 'null',
      primary_condition: '#tag',
      countries: '--- Spain',
      ct_last_update_post_date: '2010-12-02: x',
    });
  });

  it('puts criteria containing ``` and ```` inside a longer fence', () => {
    const criteria = 'Use:\n```\ncode\n```\nand\n````\nmore\n````';
    const page = render(minimal({ 'eligibility.criteria': criteria }));
    expect(page).toContain(`## Eligibility\n\n\`\`\`\`\`\n${criteria}\n\`\`\`\`\`\n`);
  });

  it('uses a three-backtick fence for criteria without backticks', () => {
    const page = render(minimal({ 'eligibility.criteria': 'Adults\n' }));
    expect(page).toContain('## Eligibility\n\n```\nAdults\n```\n');
  });

  it('leaves out empty sections and missing optional parts', () => {
    const page = render(
      minimal({
        'armsInterventions.arms': [{ label: 'Control' }, { label: 'Drug', type: 'EXPERIMENTAL' }],
        'armsInterventions.interventions': [{ name: 'Placebo', description: 'Sugar pill' }],
        'outcomes.primary': [{ measure: 'Pain' }],
        'eligibility.healthyVolunteers': true,
        'design.enrollmentCount': 0,
        'locations.a|||': { facility: 'A' },
        'locations.|b||c': { city: 'B', country: 'C' },
      }),
    );
    expect(page).toContain('## Arms\n\n- **Control**\n- **Drug** (EXPERIMENTAL)\n\n');
    expect(page).toContain('## Interventions\n\n- **Placebo** — Sugar pill\n\n');
    expect(page).toContain('## Primary Outcomes\n\n- **Pain**\n\n');
    expect(page).toContain('## Eligibility\n\n- **Healthy Volunteers:** Yes\n\n');
    expect(page).toContain('## Key Facts\n\n- **Target Enrollment:** 0\n\n');
    expect(page).toContain('## Locations (2)\n\n- A\n- B, C\n\n');
    expect(frontMatter(page)['countries']).toBe('C');
    for (const absent of ['Official Title', 'Brief Summary', 'Detailed Description', 'Secondary Outcomes', 'Recent Field Changes', 'phase:']) {
      expect(page).not.toContain(absent);
    }
  });

  it('keeps a multi-line arm description inside its list item', () => {
    const page = render(minimal({ 'armsInterventions.arms': [{ label: 'A', description: 'One\n\n* two\r\n* three' }] }));
    expect(page).toContain('- **A** — One\n\n  * two\n  * three\n');
  });

  it('lists countries distinct, in location-key order, whatever the field order', () => {
    const a = { 'locations.b|x||spain': { facility: 'B', city: 'X', country: 'Spain' }, 'locations.a|y||france': { facility: 'A', city: 'Y', country: 'France' }, 'locations.c|z||spain': { facility: 'C', city: 'Z', country: 'Spain' } };
    const reversed = Object.fromEntries(Object.entries(a).reverse());
    expect(frontMatter(render(minimal(a)))['countries']).toBe('France, Spain');
    expect(render(minimal(reversed))).toBe(render(minimal(a)));
  });
});

describe('recent field changes', () => {
  const study = minimal({ 'status.overallStatus': 'RECRUITING' });
  const ago = (days: number) => new Date(OBSERVED.getTime() - days * DAY);
  const lines = (page: string) => page.split('\n').filter((l) => l.startsWith('- `'));

  it('shows a change 29 days old and not one 31 days old', () => {
    const page = render(study, [
      { path: 'status.overallStatus', kind: 'changed', detectedAt: ago(29) },
      { path: 'design.phases', kind: 'changed', detectedAt: ago(31) },
    ]);
    expect(lines(page)).toEqual([`- \`status.overallStatus\` — changed _(${ago(29).toISOString().slice(0, 10)})_`]);
  });

  it('excludes a change exactly 30 days old and changes after now', () => {
    const page = render(study, [
      { path: 'status.overallStatus', kind: 'changed', detectedAt: ago(30) },
      { path: 'design.phases', kind: 'changed', detectedAt: new Date(OBSERVED.getTime() + 1) },
    ]);
    expect(page).not.toContain('Recent Field Changes');
  });

  it('orders newest day first, then mirrored-path order, then location key; skips unmirrored paths', () => {
    const page = render(study, [
      { path: 'locations.b|||', kind: 'removed', detectedAt: ago(1) },
      { path: 'sponsor.lead', kind: 'changed', detectedAt: ago(1) },
      { path: 'locations.a|||', kind: 'added', detectedAt: ago(1) },
      { path: 'identification.briefTitle', kind: 'changed', detectedAt: OBSERVED },
      { path: 'design.phases', kind: 'changed', detectedAt: ago(1) },
      { path: 'status.overallStatus', kind: 'changed', detectedAt: ago(2) },
      { path: 'results.hasResults', kind: 'changed', detectedAt: OBSERVED },
    ]);
    const day = (n: number) => ago(n).toISOString().slice(0, 10);
    expect(lines(page)).toEqual([
      `- \`results.hasResults\` — changed _(${day(0)})_`,
      `- \`design.phases\` — changed _(${day(1)})_`,
      `- \`sponsor.lead\` — changed _(${day(1)})_`,
      `- \`locations.a|||\` — added _(${day(1)})_`,
      `- \`locations.b|||\` — removed _(${day(1)})_`,
      `- \`status.overallStatus\` — changed _(${day(2)})_`,
    ]);
  });

  it('keeps a location key with backticks inside one code span', () => {
    const page = render(study, [{ path: 'locations.the `x` clinic|||', kind: 'added', detectedAt: OBSERVED }]);
    expect(lines(page)).toEqual(['- `` locations.the `x` clinic||| `` — added _(2026-05-12)_']);
  });

  it('follows the configured mirrored paths and window', () => {
    const settings = { ...DEFAULT_MIRROR_SETTINGS, mirroredPaths: ['identification.briefTitle'], recentChangeDays: 7 };
    const page = renderMirrorPage({
      study,
      changes: [
        { path: 'identification.briefTitle', kind: 'changed', detectedAt: ago(6) },
        { path: 'status.overallStatus', kind: 'changed', detectedAt: ago(1) },
      ],
      lastSeenAt: OBSERVED,
      now: OBSERVED,
      settings,
    });
    expect(page).toContain('## Recent Field Changes (last 7 days)\n\n- `identification.briefTitle` — changed');
    expect(page).not.toContain('`status.overallStatus`');
  });
});

describe('renderMirrorIndex', () => {
  it('lists every study by NCT ID with escaped cells', () => {
    const index = renderMirrorIndex([
      { nctId: 'NCT00000002', title: 'B | C\nD \\', overallStatus: 'RECRUITING', lastChangedAt: null },
      { nctId: 'NCT00000001', title: 'A', overallStatus: 'COMPLETED', lastChangedAt: OBSERVED, ctLastUpdatePostDate: '2010-12-02' },
    ]);
    expect(index).toBe(
      '# ClinicalTrials.gov mirror\n\n2 studies.\n\n' +
        '| NCT ID | Title | Status | Last change | CT.gov last update |\n' +
        '| --- | --- | --- | --- | --- |\n' +
        '| [NCT00000001](NCT00000001.md) | A | COMPLETED | 2026-05-12 | 2010-12-02 |\n' +
        '| [NCT00000002](NCT00000002.md) | B \\| C D \\\\ | RECRUITING | — | — |\n',
    );
  });
});
