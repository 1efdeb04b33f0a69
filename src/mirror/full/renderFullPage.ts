import { P, type Study } from '../../studies/model.js';
import type { MirrorSettings } from '../render.js';
import { yamlDate, yamlQuoted, yamlScalar } from '../yaml.js';
import { changesSection, type ValuedChange } from './changeLines.js';
import { inline, str, strs } from './markdown.js';
import {
  armsSection, countriesOf, countriesSection, designSection, eligibilitySection, identificationSection, interventionsSection,
  ipdSharingSection, keyFactsSection, linksSection, locationsSection, officialsSection, outcomesSection, oversightSection,
  referencesSection, responsiblePartySection, sitesOf, sponsorsSection, statusSection, textSection,
} from './protocolSections.js';
import { resultsSection } from './resultsSections.js';

/** How the `full` profile bounds its tables. */
export interface FullPageLimits {
  /** Body rows per table; the rest is counted under it and left to CT.gov's results tab. */
  maxTableRows: number;
  /** Columns per table (a label column and one per group). */
  maxTableColumns: number;
}

export interface FullPageInput {
  study: Study;
  changes: ValuedChange[];
  lastSeenAt: Date;
  now: Date;
  settings: MirrorSettings;
  limits: FullPageLimits;
}

/**
 * The `full` profile's page: everything the record carries, results included, in a fixed
 * section order; a section without data is left out. Pure: the clock is `now`.
 */
export function renderFullPage(input: FullPageInput): string {
  const { study, settings, limits } = input;
  const f = study.fields;
  const ctgovUrl = `${settings.ctgovStudyBaseUrl}${study.nctId}`;
  const canonicalUrl = `${settings.canonicalBaseUrl}${study.nctId}.md`;
  const officialTitle = str(f[P.officialTitle]);
  const sites = sitesOf(f);
  const tableLimits = { maxRows: limits.maxTableRows, maxColumns: limits.maxTableColumns, moreUrl: `${ctgovUrl}?tab=results` };
  const blocks = [
    `# ${inline(titleOf(study))}`,
    officialTitle && `**Official Title:** ${inline(officialTitle)}`,
    `**NCT ID:** [${study.nctId}](${ctgovUrl})`,
    keyFactsSection(f),
    identificationSection(f),
    statusSection(f),
    textSection('Brief Summary', f[P.briefSummary]),
    textSection('Detailed Description', f[P.detailedDescription]),
    designSection(f),
    sponsorsSection(f),
    responsiblePartySection(f),
    oversightSection(f),
    officialsSection(f),
    armsSection(f),
    interventionsSection(f),
    outcomesSection('Primary Outcomes', f[P.primaryOutcomes]),
    outcomesSection('Secondary Outcomes', f[P.secondaryOutcomes]),
    outcomesSection('Other Outcomes', f[P.otherOutcomes]),
    eligibilitySection(f),
    locationsSection(sites),
    countriesSection(sites),
    referencesSection(f),
    linksSection(f),
    ipdSharingSection(f),
    resultsSection(f, tableLimits),
    changesSection(input.changes, input.now, settings),
    '---',
    [`*Canonical: ${canonicalUrl}*`, `*Source data (authoritative): ${ctgovUrl}*`, settings.footerNote && `*${inline(settings.footerNote)}*`]
      .filter(Boolean)
      .join('  \n'),
  ];
  const body = blocks.filter((b): b is string => typeof b === 'string' && b !== '').join('\n\n');
  return `${frontMatter(input, canonicalUrl, ctgovUrl, countriesOf(sites))}${body}\n`;
}

/** The golden page's keys, then what only this profile adds. */
function frontMatter({ study, lastSeenAt, settings }: FullPageInput, canonicalUrl: string, ctgovUrl: string, countries: string[]): string {
  const f = study.fields;
  const plain = (v: string | undefined) => (v ? yamlScalar(v) : undefined);
  const hasResults = f[P.hasResults];
  const enrollment = f[P.enrollmentCount];
  const entries: Array<[string, string | undefined]> = [
    ['title', yamlScalar(titleOf(study))],
    ['nct_id', yamlScalar(study.nctId)],
    ['overall_status', plain(str(f[P.overallStatus]))],
    ['phase', plain(strs(f[P.phases]).join(', '))],
    ['sponsor', plain(str(f[P.sponsorLead]))],
    ['study_type', plain(str(f[P.studyType]))],
    ['primary_condition', plain(strs(f[P.conditions])[0])],
    ['countries', plain(countries.join(', '))],
    ['canonical_url', yamlQuoted(canonicalUrl)],
    ['clinicaltrials_gov', yamlQuoted(ctgovUrl)],
    ['ct_last_update_post_date', str(f[P.lastUpdatePostDate]) && yamlDate(str(f[P.lastUpdatePostDate])!)],
    ['last_seen_at', yamlQuoted(lastSeenAt.toISOString())],
    ['source', yamlScalar(settings.sourceLabel)],
    ['profile', 'full'],
    ['enrollment', typeof enrollment === 'number' && Number.isFinite(enrollment) ? String(enrollment) : undefined],
    ['has_results', typeof hasResults === 'boolean' ? String(hasResults) : undefined],
  ];
  const lines = entries.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${v}`);
  return `---\n${lines.join('\n')}\n---\n`;
}

function titleOf(study: Study): string {
  return str(study.fields[P.briefTitle]) ?? str(study.fields[P.officialTitle]) ?? study.nctId;
}
