import { FIELD_PATH, type Study } from '../../studies/model.js';
import { removedBanner, type MirrorSettings } from '../render.js';
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
  /** Set when CT.gov answered 404 for the study: the page says so at the top. */
  removedAt?: Date;
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
  const officialTitle = str(f[FIELD_PATH.officialTitle]);
  const sites = sitesOf(f);
  const tableLimits = { maxRows: limits.maxTableRows, maxColumns: limits.maxTableColumns, moreUrl: `${ctgovUrl}?tab=results` };
  const blocks = [
    `# ${inline(titleOf(study))}`,
    input.removedAt && removedBanner(input.removedAt, str(f[FIELD_PATH.overallStatus])),
    officialTitle && `**Official Title:** ${inline(officialTitle)}`,
    `**NCT ID:** [${study.nctId}](${ctgovUrl})`,
    keyFactsSection(f),
    identificationSection(f),
    statusSection(f),
    textSection('Brief Summary', f[FIELD_PATH.briefSummary]),
    textSection('Detailed Description', f[FIELD_PATH.detailedDescription]),
    designSection(f),
    sponsorsSection(f),
    responsiblePartySection(f),
    oversightSection(f),
    officialsSection(f),
    armsSection(f),
    interventionsSection(f),
    outcomesSection('Primary Outcomes', f[FIELD_PATH.primaryOutcomes]),
    outcomesSection('Secondary Outcomes', f[FIELD_PATH.secondaryOutcomes]),
    outcomesSection('Other Outcomes', f[FIELD_PATH.otherOutcomes]),
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
function frontMatter({ study, lastSeenAt, settings, removedAt }: FullPageInput, canonicalUrl: string, ctgovUrl: string, countries: string[]): string {
  const f = study.fields;
  const plain = (v: string | undefined) => (v ? yamlScalar(v) : undefined);
  const hasResults = f[FIELD_PATH.hasResults];
  const enrollment = f[FIELD_PATH.enrollmentCount];
  const entries: Array<[string, string | undefined]> = [
    ['title', yamlScalar(titleOf(study))],
    ['nct_id', yamlScalar(study.nctId)],
    ['overall_status', plain(str(f[FIELD_PATH.overallStatus]))],
    ['phase', plain(strs(f[FIELD_PATH.phases]).join(', '))],
    ['sponsor', plain(str(f[FIELD_PATH.sponsorLead]))],
    ['study_type', plain(str(f[FIELD_PATH.studyType]))],
    ['primary_condition', plain(strs(f[FIELD_PATH.conditions])[0])],
    ['countries', plain(countries.join(', '))],
    ['canonical_url', yamlQuoted(canonicalUrl)],
    ['clinicaltrials_gov', yamlQuoted(ctgovUrl)],
    ['ct_last_update_post_date', str(f[FIELD_PATH.lastUpdatePostDate]) && yamlDate(str(f[FIELD_PATH.lastUpdatePostDate])!)],
    ['last_seen_at', yamlQuoted(lastSeenAt.toISOString())],
    ['removed_at', removedAt && yamlQuoted(removedAt.toISOString())],
    ['source', yamlScalar(settings.sourceLabel)],
    ['profile', 'full'],
    ['enrollment', typeof enrollment === 'number' && Number.isFinite(enrollment) ? String(enrollment) : undefined],
    ['has_results', typeof hasResults === 'boolean' ? String(hasResults) : undefined],
  ];
  const lines = entries.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${v}`);
  return `---\n${lines.join('\n')}\n---\n`;
}

function titleOf(study: Study): string {
  return str(study.fields[FIELD_PATH.briefTitle]) ?? str(study.fields[FIELD_PATH.officialTitle]) ?? study.nctId;
}
