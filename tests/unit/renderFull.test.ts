import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ValuedChange } from '../../src/mirror/full/changeLines.js';
import { renderFullPage, type FullPageLimits } from '../../src/mirror/full/renderFullPage.js';
import { renderMirrorPage } from '../../src/mirror/render.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import type { Study } from '../../src/studies/model.js';
import { type CtgovStudyInput, normalizeStudy } from '../../src/studies/normalize.js';
import { CTGOV_SEED_DIR, fixtureIds, readFixture } from '../support/ctgovFixtures.js';
import { breakoutStudy, unicodeStudy } from '../support/hostileStudies.js';
import { parsePage, sourceTables, type PageTable } from '../support/markdownPage.js';

type Raw = Record<string, any>;

const NOW = new Date('2026-05-12T07:19:35.732Z');
const DAY = 86_400_000;
const LIMITS: FullPageLimits = { maxTableRows: 25, maxTableColumns: 8 };
const UNBOUNDED: FullPageLimits = { maxTableRows: 100_000, maxTableColumns: 1_000 };

function full(raw: Raw, limits = LIMITS, changes: ValuedChange[] = []): string {
  const study = normalizeStudy(raw as CtgovStudyInput);
  return renderFullPage({ study, changes, lastSeenAt: NOW, now: NOW, settings: DEFAULT_MIRROR_SETTINGS, limits });
}

function golden(raw: Raw): string {
  const study: Study = normalizeStudy(raw as CtgovStudyInput);
  return renderMirrorPage({ study, changes: [], lastSeenAt: NOW, now: NOW, settings: DEFAULT_MIRROR_SETTINGS });
}

/** The lines of one `## heading` section (up to the next `## `). */
function sectionOf(page: string, heading: string): string {
  const start = page.indexOf(`\n## ${heading}\n`);
  expect(start, `section ${heading}`).toBeGreaterThan(0);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

function frontMatter(page: string, version: '1.1' | '1.2'): Record<string, unknown> {
  const end = page.indexOf('\n---\n', 3);
  expect(page.startsWith('---\n') && end > 0).toBe(true);
  return parse(page.slice(4, end + 1), { version }) as Record<string, unknown>;
}

const fixtures: Array<[string, Raw]> = [
  ...fixtureIds().map((id): [string, Raw] => [id, readFixture(id)]),
  ['NCT00855400 (seed)', readFixture('NCT00855400', CTGOV_SEED_DIR)],
  ['NCT02286011 (seed)', readFixture('NCT02286011', CTGOV_SEED_DIR)],
];
const withResults = fixtures.filter(([, raw]) => raw.hasResults === true);

describe('full profile: NCT02286011 against its record', () => {
  const raw = readFixture('NCT02286011', CTGOV_SEED_DIR) as Raw;
  const p = raw.protocolSection;
  const page = full(raw);

  it('shows the design: allocation, model, purpose, masking and who is masked, enrollment with type, arms', () => {
    const design = sectionOf(page, 'Design');
    const info = p.designModule.designInfo;
    expect(design).toContain(`- **Allocation:** ${info.allocation}`);
    expect(design).toContain(`- **Intervention Model:** ${info.interventionModel}`);
    expect(design).toContain(`- **Primary Purpose:** ${info.primaryPurpose}`);
    expect(design).toContain(`- **Masking:** ${info.maskingInfo.masking} (${info.maskingInfo.whoMasked.join(', ')})`);
    expect(design).toContain(`- **Enrollment:** ${p.designModule.enrollmentInfo.count} (${p.designModule.enrollmentInfo.type})`);
    expect(design).toContain(`- **Number of Arms:** ${p.armsInterventionsModule.armGroups.length}`);
  });

  it('shows every sponsor with its class and role, and the responsible party', () => {
    const sponsors = sectionOf(page, 'Sponsors and Collaborators');
    const lead = p.sponsorCollaboratorsModule.leadSponsor;
    expect(sponsors).toContain(`- **${lead.name}** (${lead.class}): lead sponsor`);
    expect(p.sponsorCollaboratorsModule.collaborators.length).toBe(5);
    for (const c of p.sponsorCollaboratorsModule.collaborators) expect(sponsors).toContain(`- **${c.name}** (${c.class}): collaborator`);
    expect(sectionOf(page, 'Responsible Party')).toContain(`- **Type:** ${p.sponsorCollaboratorsModule.responsibleParty.type}`);
  });

  it('shows the principal investigator with role and affiliation, the site, countries and DMC', () => {
    const official = p.contactsLocationsModule.overallOfficials[0];
    expect(sectionOf(page, 'Officials')).toContain(`- **${official.name}** (PRINCIPAL_INVESTIGATOR), ${official.affiliation}`);
    const site = p.contactsLocationsModule.locations[0];
    expect(sectionOf(page, 'Locations (1 site)')).toContain(`- ${site.facility}, ${site.city}, ${site.state}, ${site.country}`);
    expect(sectionOf(page, 'Countries')).toContain(`- ${site.country}`);
    expect(sectionOf(page, 'Oversight')).toContain('- **Data Monitoring Committee:** Yes');
  });

  it('shows the references with type and PubMed link, and the other identifiers', () => {
    const refs = sectionOf(page, 'References');
    for (const r of p.referencesModule.references) {
      expect(refs).toContain(r.citation);
      expect(refs).toContain(`type ${r.type}, [PMID ${r.pmid}](https://pubmed.ncbi.nlm.nih.gov/${r.pmid}/)`);
    }
    const ids = sectionOf(page, 'Identification');
    expect(ids).toContain(`- **Organization Study ID:** ${p.identificationModule.orgStudyIdInfo.id}`);
    const secondary = p.identificationModule.secondaryIdInfos[0];
    expect(ids).toContain(`- ${secondary.id} (${secondary.type})`);
  });

  it('says results are pending, the study having none', () => {
    expect(raw.hasResults).toBe(false);
    expect(sectionOf(page, 'Results')).toContain('Results pending');
  });

  it('renders the criteria as markdown, not as a code block', () => {
    const eligibility = sectionOf(page, 'Eligibility');
    expect(eligibility).not.toContain('```');
    const list = parsePage(page).html;
    expect(list).toContain('<li>Diagnosis of definite or probable ALS');
  });
});

describe('full profile: results', () => {
  it('has the 66 fixtures with results', () => {
    expect(withResults.length).toBe(66);
  });

  it.each(withResults)('%s renders participant flow, baseline, outcome measures with values and adverse events', (_, raw) => {
    const { tables } = parsePage(full(raw));
    const under = (h3: string) => tables.filter((t) => t.headings[2] === 'Results' && t.headings[3] === h3);
    const r = raw.resultsSection;
    // A few terminated studies posted outcome measures with no one analysed: no grid to show.
    const outcomeGrids = r.outcomeMeasuresModule.outcomeMeasures.filter((m: Raw) => m.classes?.length || m.denoms?.length).length;
    expect(under('Outcome Measures').length).toBe(outcomeGrids);
    for (const h3 of ['Participant Flow', 'Baseline Characteristics', 'Adverse Events', ...(outcomeGrids ? ['Outcome Measures'] : [])]) {
      const found = under(h3);
      expect(found.length, h3).toBeGreaterThan(0);
      // Values: some cell beyond the label column holds a number.
      expect(found.some((t) => t.rows.some((r) => r.slice(1).some((c) => /\d/.test(c)))), h3).toBe(true);
    }
  });

  // Small, many outcomes, many groups and events.
  it.each(['NCT00353704', 'NCT02967393', 'NCT01125800'])('%s: the numbers on the page are the record\'s', (id) => {
    const raw = readFixture(id) as Raw;
    const r = raw.resultsSection;
    const { tables } = parsePage(full(raw, UNBOUNDED));
    const results = tables.filter((t) => t.headings[2] === 'Results');
    let checked = 0;

    const flow = results.filter((t) => t.headings[3] === 'Participant Flow');
    const flowGroups = r.participantFlowModule.groups;
    expect(flow.length).toBe(r.participantFlowModule.periods.length);
    r.participantFlowModule.periods.forEach((period: Raw, i: number) => {
      expect(flow[i]!.header.slice(1)).toEqual(flowGroups.map((g: Raw) => g.title));
      period.milestones.forEach((m: Raw, j: number) => {
        expect(flow[i]!.rows[j]![0]).toBe(m.type);
        flowGroups.forEach((g: Raw, k: number) => {
          const a = m.achievements.find((x: Raw) => x.groupId === g.id);
          expect(flow[i]!.rows[j]![k + 1]).toBe(a ? String(a.numSubjects) : '');
          checked++;
        });
      });
    });

    const baseline = results.filter((t) => t.headings[3] === 'Baseline Characteristics');
    const bGroups = r.baselineCharacteristicsModule.groups;
    const bMeasures = r.baselineCharacteristicsModule.measures;
    expect(baseline.length).toBe(bMeasures.length + 1);
    bGroups.forEach((g: Raw, k: number) => {
      expect(baseline[0]!.rows[0]![k + 1]).toBe(r.baselineCharacteristicsModule.denoms[0].counts.find((c: Raw) => c.groupId === g.id).value);
    });
    bMeasures.forEach((m: Raw, i: number) => (checked += expectMeasure(baseline[i + 1]!, m, bGroups, 0)));

    const outcomes = results.filter((t) => t.headings[3] === 'Outcome Measures');
    const withValues = r.outcomeMeasuresModule.outcomeMeasures.filter((m: Raw) => m.classes?.length);
    expect(outcomes.length).toBe(withValues.length);
    withValues.forEach((m: Raw, i: number) => {
      expect(outcomes[i]!.headings[4]).toContain(m.title);
      checked += expectMeasure(outcomes[i]!, m, m.groups, m.denoms?.length ?? 0);
    });

    const events = results.filter((t) => t.headings[3] === 'Adverse Events');
    const eGroups = r.adverseEventsModule.eventGroups;
    const serious = events[0]!.rows.find((row) => row[0] === 'Serious adverse events')!;
    eGroups.forEach((g: Raw, k: number) => {
      expect(serious[k + 1]).toBe(`${g.seriousNumAffected}/${g.seriousNumAtRisk}`);
      checked++;
    });
    // The same term may be both serious and other: each kind has its own table.
    const kinds: Array<[Raw[], PageTable]> = [];
    if (r.adverseEventsModule.seriousEvents?.length) kinds.push([r.adverseEventsModule.seriousEvents, events[kinds.length + 1]!]);
    if (r.adverseEventsModule.otherEvents?.length) kinds.push([r.adverseEventsModule.otherEvents, events[kinds.length + 1]!]);
    expect(events.length).toBe(kinds.length + 1);
    for (const [e, terms] of kinds.flatMap(([list, t]) => list.map((e): [Raw, PageTable] => [e, t]))) {
      const rowOf = terms.rows.find((row) => row[0] === `${e.term} (${e.organSystem})`);
      expect(rowOf, e.term).toBeDefined();
      eGroups.forEach((g: Raw, k: number) => {
        const s = e.stats.find((x: Raw) => x.groupId === g.id);
        if (s?.numAffected !== undefined) expect(rowOf![k + 1]).toBe(`${s.numAffected}/${s.numAtRisk}`);
      });
    }
    expect(checked).toBeGreaterThan(20);
  });

  it.each(['NCT03064438', 'NCT01367860'])('%s: gives the p-value of every statistical analysis', (id) => {
    const raw = readFixture(id) as Raw;
    const page = full(raw);
    const pValues: string[] = raw.resultsSection.outcomeMeasuresModule.outcomeMeasures
      .flatMap((m: Raw) => (m.analyses ?? []).map((a: Raw) => a.pValue))
      .filter(Boolean);
    expect(pValues.length).toBeGreaterThan(10);
    const text = parsePage(page).tokens.filter((t) => t.type === 'inline').map((t) => t.content.replace(/\\(.)/g, '$1')).join('\n');
    const shown = [...text.matchAll(/p-value ([^;\n]+)/g)].map((m) => m[1]);
    expect(shown).toEqual(pValues);
  });

  it('keeps tables within maxTableRows and maxTableColumns and says what it left out', () => {
    const raw = readFixture('NCT04431453') as Raw;
    const groups = raw.resultsSection.adverseEventsModule.eventGroups.length;
    expect(groups).toBeGreaterThan(3);
    const page = full(raw, { maxTableRows: 2, maxTableColumns: 3 });
    const { tables } = parsePage(page);
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables) {
      expect(t.rows.length).toBeLessThanOrEqual(2);
      expect(t.header.length).toBeLessThanOrEqual(3);
    }
    expect(page).toContain(`${groups - 2} more columns (RDV, Cohort 3: Age ≥ 28 Days to \\< 18 Ye…, RDV, Cohort 4`);
    expect(page).toMatch(/_Not shown: \d+ more rows[^\n]*see \[the results on ClinicalTrials\.gov\]\(https:\/\/clinicaltrials\.gov\/study\/NCT04431453\?tab=results\)\._/);
    expect(full(raw, UNBOUNDED)).not.toContain('Not shown');
  });
});

/** Every table cell of a measure: one row per class and category, a column per group. */
function expectMeasure(t: PageTable, m: Raw, groups: Raw[], denomRows: number): number {
  let checked = 0;
  expect(t.header.slice(1)).toEqual(groups.map((g) => g.title));
  const categories = m.classes.flatMap((c: Raw) => c.categories);
  expect(t.rows.length).toBe(denomRows + categories.length);
  categories.forEach((cat: Raw, j: number) => {
    groups.forEach((g, k) => {
      const x = cat.measurements.find((v: Raw) => v.groupId === g.id);
      const cell = t.rows[denomRows + j]![k + 1]!;
      if (!x) return expect(cell).toBe('');
      expect(cell.split(' ')[0]).toBe(x.value);
      if (x.spread !== undefined) expect(cell).toContain(`± ${x.spread}`);
      if (x.lowerLimit !== undefined) expect(cell).toContain(`(${x.lowerLimit} to ${x.upperLimit ?? '?'})`);
      checked++;
    });
  });
  return checked;
}

describe('full profile: every page is well-formed markdown', () => {
  const hostile: Array<[string, Raw]> = [
    ['breakout', breakoutStudy('NCT09000001')],
    ['unicode', unicodeStudy('NCT09000002')],
    ['markdown and HTML in the record', markdownHostile()],
  ];

  it.each([...fixtures, ...hostile])('%s: one h1, no raw HTML, every table row as wide as its header', (_, raw) => {
    const page = full(raw);
    const parsed = parsePage(page);
    expect(parsed.h1.length).toBe(1);
    expect(parsed.htmlTokens.map((t) => t.content)).toEqual([]);
    const source = sourceTables(page);
    expect(parsed.tables.length).toBe(source.length);
    source.forEach((cells) => expect(cells.every((n) => n === cells[0])).toBe(true));
    parsed.tables.forEach((t) => t.rows.forEach((row) => expect(row.length).toBe(t.header.length)));
  });

  it('keeps the record\'s markup as text', () => {
    const page = full(markdownHostile());
    const { html } = parsePage(page);
    expect(html).not.toMatch(/<(script|img|b|div)\b/);
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/<h[1-3]>Injected/);
  });
});

describe('front matter', () => {
  it.each(fixtures)('%s parses as YAML 1.1 and 1.2 in both profiles', (_, raw) => {
    const title = raw.protocolSection.identificationModule.briefTitle;
    for (const page of [golden(raw), full(raw)]) {
      for (const version of ['1.1', '1.2'] as const) {
        const fm = frontMatter(page, version);
        expect(fm['title']).toBe(title);
        expect(fm['nct_id']).toBe(raw.protocolSection.identificationModule.nctId);
      }
    }
    const fm = frontMatter(full(raw), '1.2');
    expect(fm['profile']).toBe('full');
    expect(fm['has_results']).toBe(raw.hasResults);
  });
});

describe('full profile: recent field changes', () => {
  const raw = readFixture('NCT02286011', CTGOV_SEED_DIR) as Raw;
  const at = new Date(NOW.getTime() - 2 * DAY);

  it('shows old → new for scalar paths, shortened when long, and no values for lists', () => {
    const long = 'x'.repeat(200);
    const page = full(raw, LIMITS, [
      { path: 'status.overallStatus', kind: 'changed', detectedAt: at, oldValue: 'RECRUITING', newValue: 'UNKNOWN' },
      { path: 'design.enrollmentCount', kind: 'changed', detectedAt: at, oldValue: 12, newValue: 20 },
      { path: 'status.completionDate', kind: 'changed', detectedAt: at, oldValue: long, newValue: '2017-12-31' },
      { path: 'armsInterventions.arms', kind: 'changed', detectedAt: at, oldValue: null, newValue: null },
      { path: 'status.lastUpdatePostDate', kind: 'removed', detectedAt: at, oldValue: '2017-03-30', newValue: null },
      { path: 'status.whyStopped', kind: 'changed', detectedAt: at, oldValue: 'a', newValue: 'b' },
    ]);
    const changes = sectionOf(page, 'Recent Field Changes (last 30 days)');
    expect(changes).toContain('- `status.overallStatus` — changed: “RECRUITING” → “UNKNOWN” _(2026-05-10)_');
    expect(changes).toContain('- `design.enrollmentCount` — changed: 12 → 20 _(2026-05-10)_');
    expect(changes).toContain(`- \`status.completionDate\` — changed: “${'x'.repeat(79)}…” → “2017-12-31”`);
    expect(changes).toContain('- `armsInterventions.arms` — changed _(2026-05-10)_');
    expect(changes).toContain('- `status.lastUpdatePostDate` — removed (was “2017-03-30”)');
    // Not a mirrored path: the same paths as the golden page are shown.
    expect(changes).not.toContain('whyStopped');
  });
});

/** A record whose texts try to add headings, HTML and tables to the page. */
function markdownHostile(): Raw {
  const raw = readFixture('NCT00353704') as Raw;
  const p = raw.protocolSection;
  p.identificationModule.nctId = 'NCT09000003';
  p.identificationModule.briefTitle = '<script>alert(1)</script> # Title | with pipes';
  p.descriptionModule.detailedDescription = '# Injected h1\n\nInjected setext\n===\n\n<div>block</div>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<img src=x onerror=alert(1)>';
  p.eligibilityModule.eligibilityCriteria = '## Injected h2\n\n* <b>bold</b> \\<90%\n* a | b\n\n    <div>indented</div>';
  p.armsInterventionsModule.armGroups[0].label = 'Arm | with <b>pipe</b>';
  raw.resultsSection.outcomeMeasuresModule.outcomeMeasures[0].groups[0].title = 'Group | <i>one</i>';
  raw.resultsSection.outcomeMeasuresModule.outcomeMeasures[0].classes[0].categories[0].title = 'a|b|c';
  return raw;
}

describe('full profile: locations', () => {
  it('counts sites per country when there are many, from the record', () => {
    const raw = readFixture('NCT01125800') as Raw;
    const sites: Raw[] = raw.protocolSection.contactsLocationsModule.locations;
    expect(sites.length).toBeGreaterThan(10);
    const counts = new Map<string, number>();
    for (const s of sites) counts.set(s.country, (counts.get(s.country) ?? 0) + 1);
    const section = sectionOf(full(raw), `Locations (${sites.length} sites)`);
    const line = section.split('\n').find((l) => l.startsWith('**Sites per country:**'))!;
    const shown = new Map(line.replace('**Sites per country:** ', '').split(', ').map((part) => {
      const m = /^(.*) (\d+)$/.exec(part)!;
      return [m[1]!, Number(m[2])];
    }));
    expect(shown).toEqual(counts);
  });

  it('shows each site\'s recruitment status', () => {
    const [, raw] = fixtures.find(([, r]) => r.protocolSection.contactsLocationsModule?.locations?.some((l: Raw) => l.status))!;
    const site = raw.protocolSection.contactsLocationsModule.locations.find((l: Raw) => l.status);
    const where = [site.facility, site.city, site.state, site.country].filter(Boolean).join(', ');
    expect(full(raw)).toContain(`- ${where} (${site.status})`);
  });
});

describe('README', () => {
  it('shows an excerpt of the full page of NCT00353704 as rendered', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const start = readme.indexOf('```markdown\n---\ntitle: Analgetic');
    expect(start).toBeGreaterThan(0);
    const excerpt = readme.slice(start + '```markdown\n'.length, readme.indexOf('\n```\n', start));
    // As in the README: first seen on 2026-11-20, rendered on 2026-11-22.
    const seen = new Date('2026-11-20T06:00:00.000Z');
    const raw = readFixture('NCT00353704') as Raw;
    const study = normalizeStudy(raw as CtgovStudyInput);
    const changes: ValuedChange[] = Object.entries(study.fields).map(([path, value]) => ({ path, kind: 'added', detectedAt: seen, oldValue: null, newValue: value }));
    const page = renderFullPage({ study, changes, lastSeenAt: seen, now: new Date('2026-11-22T12:00:00Z'), settings: DEFAULT_MIRROR_SETTINGS, limits: LIMITS });
    const lines = new Set(page.split('\n'));
    const shown = excerpt.split('\n').filter((l) => l !== '…' && l !== '');
    expect(shown.length).toBeGreaterThan(30);
    expect(shown.filter((l) => !lines.has(l))).toEqual([]);
  });
});
