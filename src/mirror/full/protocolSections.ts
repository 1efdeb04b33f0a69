import { compareCodeUnits } from '../../studies/canonical.js';
import { LOCATION_PREFIX, FIELD_PATH, type Json, type Study } from '../../studies/model.js';
import {
  factList, indentedBlock, inl, inline, inlineList, markdownBlock, obj, objs, plural, section, str, strs, yesNo, type Obj,
} from './markdown.js';

type Fields = Study['fields'];

/** A date with its type when CT.gov gives one: `2017-06-30 (ESTIMATED)`. */
function dated(f: Fields, path: string): string | undefined {
  const date = inl(f[path]);
  const type = str(f[`${path}Type`]);
  return date && (type ? `${date} (${inline(type)})` : date);
}

export function keyFactsSection(f: Fields): string | undefined {
  const enrollment = str(f[FIELD_PATH.enrollmentCount]);
  const type = str(f[FIELD_PATH.enrollmentType]);
  return section('Key Facts', [
    factList([
      ['Status', inl(f[FIELD_PATH.overallStatus])],
      ['Phase', inlineList(strs(f[FIELD_PATH.phases]))],
      ['Study Type', inl(f[FIELD_PATH.studyType])],
      ['Enrollment', enrollment && `${inline(enrollment)}${type ? ` (${inline(type)})` : ''}`],
      ['Lead Sponsor', inl(f[FIELD_PATH.sponsorLead])],
      ['Conditions', inlineList(strs(f[FIELD_PATH.conditions]))],
      ['Keywords', inlineList(strs(f[FIELD_PATH.keywords]))],
      ['Start Date', dated(f, FIELD_PATH.startDate)],
      ['Primary Completion Date', dated(f, FIELD_PATH.primaryCompletionDate)],
      ['Completion Date', dated(f, FIELD_PATH.completionDate)],
      ['CT.gov Last Update', inl(f[FIELD_PATH.lastUpdatePostDate])],
    ]),
  ]);
}

export function identificationSection(f: Fields): string | undefined {
  const org = obj(f['identification.orgStudyIdInfo']);
  const secondary = objs(f[FIELD_PATH.secondaryIds]).map((s) => {
    const id = inl(s['id']) ?? '(no ID)';
    const details = [str(s['type']), str(s['domain'])].filter((v): v is string => v !== undefined).map(inline);
    return `- ${id}${details.length ? ` (${details.join(', ')})` : ''}`;
  });
  return section('Identification', [
    factList([
      ['Organization Study ID', inl(org?.['id'])],
      ['Acronym', inl(f[FIELD_PATH.acronym])],
      ['Organization', inl(obj(f['identification.organization'])?.['fullName'])],
      ['Other NCT IDs', inlineList(strs(f['identification.nctIdAliases']))],
    ]),
    secondary.length ? `**Secondary IDs:**\n\n${secondary.join('\n')}` : undefined,
  ]);
}

export function statusSection(f: Fields): string | undefined {
  return section('Status', [
    factList([
      ['Overall Status', inl(f[FIELD_PATH.overallStatus])],
      ['Last Known Status', inl(f['status.lastKnownStatus'])],
      ['Why Stopped', inl(f['status.whyStopped'])],
      ['First Submitted', inl(f['status.studyFirstSubmitDate'])],
      ['First Posted', dated(f, 'status.studyFirstPostDate')],
      ['Results First Posted', dated(f, 'status.resultsFirstPostDate')],
      ['Last Update Posted', dated(f, FIELD_PATH.lastUpdatePostDate)],
      ['Status Verified', inl(f['status.statusVerifiedDate'])],
    ]),
  ]);
}

export function textSection(heading: string, value: Json | undefined): string | undefined {
  const text = str(value);
  return text === undefined ? undefined : section(heading, [markdownBlock(text)]);
}

export function designSection(f: Fields): string | undefined {
  const masking = obj(f['design.maskingInfo']);
  const whoMasked = inlineList(strs(masking?.['whoMasked']));
  const maskingText = inl(masking?.['masking']);
  const enrollment = str(f[FIELD_PATH.enrollmentCount]);
  const type = str(f[FIELD_PATH.enrollmentType]);
  const arms = objs(f[FIELD_PATH.arms]).length;
  const bioSpec = obj(f['design.bioSpec']);
  return section('Design', [
    factList([
      ['Study Type', inl(f[FIELD_PATH.studyType])],
      ['Phase', inlineList(strs(f[FIELD_PATH.phases]))],
      ['Allocation', inl(f['design.allocation'])],
      ['Intervention Model', inl(f['design.interventionModel'])],
      ['Intervention Model Description', inl(f['design.interventionModelDescription'])],
      ['Primary Purpose', inl(f['design.primaryPurpose'])],
      ['Masking', maskingText && `${maskingText}${whoMasked ? ` (${whoMasked})` : ''}`],
      ['Masking Description', inl(masking?.['maskingDescription'])],
      ['Observational Model', inl(f['design.observationalModel'])],
      ['Time Perspective', inl(f['design.timePerspective'])],
      ['Enrollment', enrollment && `${inline(enrollment)}${type ? ` (${inline(type)})` : ''}`],
      ['Number of Arms', arms ? String(arms) : undefined],
      ['Target Duration', inl(f['design.targetDuration'])],
      ['Patient Registry', yesNo(f['design.patientRegistry'])],
      ['Biospecimen Retention', inl(bioSpec?.['retention'])],
      ['Biospecimen Description', inl(bioSpec?.['description'])],
    ]),
  ]);
}

export function sponsorsSection(f: Fields): string | undefined {
  const lead = str(f[FIELD_PATH.sponsorLead]);
  const leadClass = str(f['sponsor.leadClass']);
  const lines = [
    lead && `- **${inline(lead)}**${leadClass ? ` (${inline(leadClass)})` : ''}: lead sponsor`,
    ...objs(f[FIELD_PATH.sponsorCollaborators]).map((c) => {
      const cls = str(c['class']);
      return `- **${inl(c['name']) ?? '(unnamed)'}**${cls ? ` (${inline(cls)})` : ''}: collaborator`;
    }),
  ].filter((l): l is string => typeof l === 'string');
  return section('Sponsors and Collaborators', [lines.join('\n')]);
}

export function responsiblePartySection(f: Fields): string | undefined {
  const party = obj(f['sponsor.responsibleParty']);
  if (!party) return undefined;
  return section('Responsible Party', [
    factList([
      ['Type', inl(party['type'])],
      ['Investigator', inl(party['investigatorFullName'])],
      ['Investigator Title', inl(party['investigatorTitle'])],
      ['Investigator Affiliation', inl(party['investigatorAffiliation'])],
      ['Name and Title', inl(party['oldNameTitle'])],
      ['Organization', inl(party['oldOrganization'])],
    ]),
  ]);
}

export function oversightSection(f: Fields): string | undefined {
  return section('Oversight', [
    factList([
      ['FDA-regulated drug', yesNo(f['oversight.isFdaRegulatedDrug'])],
      ['FDA-regulated device', yesNo(f['oversight.isFdaRegulatedDevice'])],
      ['Unapproved device', yesNo(f['oversight.isUnapprovedDevice'])],
      ['Exported from the U.S.', yesNo(f['oversight.isUsExport'])],
      ['Data Monitoring Committee', yesNo(f['oversight.oversightHasDmc'])],
    ]),
  ]);
}

export function officialsSection(f: Fields): string | undefined {
  const lines = objs(f[FIELD_PATH.officials]).map((o) => {
    const role = str(o['role']);
    const affiliation = str(o['affiliation']);
    return `- **${inl(o['name']) ?? '(unnamed)'}**${role ? ` (${inline(role)})` : ''}${affiliation ? `, ${inline(affiliation)}` : ''}`;
  });
  return section('Officials', [lines.join('\n')]);
}

function namedItem(name: Json | undefined, type: Json | undefined, description: Json | undefined, extra: string[]): string {
  const t = str(type);
  const d = str(description);
  const head = `- **${inl(name) ?? '(unnamed)'}**${t ? ` (${inline(t)})` : ''}${d ? `: ${indentedBlock(d)}` : ''}`;
  return [head, ...extra.map((e) => `  - ${e}`)].join('\n');
}

export function armsSection(f: Fields): string | undefined {
  const items = objs(f[FIELD_PATH.arms]).map((a) => {
    const interventions = inlineList(strs(a['interventionNames']));
    return namedItem(a['label'], a['type'], a['description'], interventions ? [`Interventions: ${interventions}`] : []);
  });
  return section('Arms', [items.join('\n')]);
}

export function interventionsSection(f: Fields): string | undefined {
  const items = objs(f[FIELD_PATH.interventions]).map((i) => {
    const other = inlineList(strs(i['otherNames']));
    const arms = inlineList(strs(i['armGroupLabels']));
    const extra = [other && `Other names: ${other}`, arms && `Arms: ${arms}`].filter((e): e is string => !!e);
    return namedItem(i['name'], i['type'], i['description'], extra);
  });
  return section('Interventions', [items.join('\n')]);
}

export function outcomesSection(heading: string, value: Json | undefined): string | undefined {
  const items = objs(value).map((o) => {
    const timeFrame = inl(o['timeFrame']);
    const description = str(o['description']);
    const extra = [description && `Description: ${indentedBlock(description).replace(/\n/g, '\n  ')}`, timeFrame && `Time frame: ${timeFrame}`]
      .filter((e): e is string => !!e);
    return [`- **${inl(o['measure']) ?? '(unnamed)'}**`, ...extra.map((e) => `  - ${e}`)].join('\n');
  });
  return section(heading, [items.join('\n')]);
}

export function eligibilitySection(f: Fields): string | undefined {
  const criteria = str(f[FIELD_PATH.criteria]);
  const population = str(f['eligibility.studyPopulation']);
  return section('Eligibility', [
    factList([
      ['Minimum age', inl(f[FIELD_PATH.minAge])],
      ['Maximum age', inl(f[FIELD_PATH.maxAge])],
      ['Age groups', inlineList(strs(f['eligibility.stdAges']))],
      ['Sex', inl(f[FIELD_PATH.sex])],
      ['Gender based', yesNo(f['eligibility.genderBased'])],
      ['Healthy Volunteers', yesNo(f[FIELD_PATH.healthyVolunteers])],
      ['Sampling Method', inl(f['eligibility.samplingMethod'])],
    ]),
    population && `**Study Population:**\n\n${markdownBlock(population)}`,
    criteria && `**Criteria:**\n\n${markdownBlock(criteria)}`,
  ]);
}

const SITE_PARTS = ['facility', 'city', 'state', 'country'];
/** More sites than this and the section starts with a count per country. */
const MANY_SITES = 10;

/** Sites sorted by path (key), as on the golden page: the list order is no change. */
export function sitesOf(f: Fields): Obj[] {
  return Object.keys(f)
    .filter((path) => path.startsWith(LOCATION_PREFIX))
    .sort(compareCodeUnits)
    .map((path) => obj(f[path]))
    .filter((site): site is Obj => site !== undefined);
}

export function countriesOf(sites: Obj[]): string[] {
  return [...new Set(sites.map((s) => str(s['country'])).filter((c): c is string => c !== undefined))];
}

export function locationsSection(sites: Obj[]): string | undefined {
  if (sites.length === 0) return undefined;
  const lines = sites.map((site) => {
    const where = SITE_PARTS.map((k) => str(site[k])).filter((v): v is string => v !== undefined).join(', ');
    const status = str(site['status']);
    return `- ${where ? inline(where) : '(unnamed site)'}${status ? ` (${inline(status)})` : ''}`;
  });
  let perCountry: string | undefined;
  if (sites.length > MANY_SITES) {
    const counts = new Map<string, number>();
    for (const s of sites) {
      const country = str(s['country']) ?? '(no country)';
      counts.set(country, (counts.get(country) ?? 0) + 1);
    }
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || compareCodeUnits(a[0], b[0]));
    perCountry = `**Sites per country:** ${sorted.map(([c, n]) => `${inline(c)} ${n}`).join(', ')}`;
  }
  return section(`Locations (${sites.length} ${plural(sites.length, 'site')})`, [perCountry, lines.join('\n')]);
}

export function countriesSection(sites: Obj[]): string | undefined {
  const countries = countriesOf(sites);
  return section('Countries', [countries.map((c) => `- ${inline(c)}`).join('\n')]);
}

export function referencesSection(f: Fields): string | undefined {
  const items = objs(f[FIELD_PATH.references]).map((r) => {
    const pmid = str(r['pmid']);
    const type = str(r['type']);
    const parts = [
      type && `type ${inline(type)}`,
      pmid && /^\d+$/.test(pmid) ? `[PMID ${pmid}](https://pubmed.ncbi.nlm.nih.gov/${pmid}/)` : pmid && `PMID ${inline(pmid)}`,
    ].filter((p): p is string => !!p);
    return `- ${inl(r['citation']) ?? '(no citation)'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  });
  return section('References', [items.join('\n')]);
}

export function linksSection(f: Fields): string | undefined {
  const links = objs(f['references.seeAlsoLinks']).map((l) => `- ${link(str(l['label']) ?? str(l['url']) ?? '(link)', l['url'])}`);
  const ipds = objs(f['references.availIpds']).map((d) => {
    const label = [str(d['type']), str(d['id'])].filter((v): v is string => v !== undefined).join(' ') || 'Document';
    const comment = str(d['comment']);
    return `- ${link(label, d['url'])}${comment ? `: ${inline(comment)}` : ''}`;
  });
  return section('Links', [links.join('\n'), ipds.length ? `**Available IPD and documents:**\n\n${ipds.join('\n')}` : undefined]);
}

export function ipdSharingSection(f: Fields): string | undefined {
  const url = str(f['ipdSharing.url']);
  return section('IPD Sharing', [
    factList([
      ['Plan to share IPD', inl(f['ipdSharing.ipdSharing'])],
      ['Description', inl(f['ipdSharing.description'])],
      ['Information types', inlineList(strs(f['ipdSharing.infoTypes']))],
      ['Time frame', inl(f['ipdSharing.timeFrame'])],
      ['Access criteria', inl(f['ipdSharing.accessCriteria'])],
      ['URL', url && link(url, url)],
    ]),
  ]);
}

/** A link only for http(s) URLs, with the characters that would end the destination encoded. */
export function link(label: string, url: Json | undefined): string {
  const u = str(url)?.trim();
  if (!u || !/^https?:\/\/\S+$/i.test(u)) return inline(label);
  return `[${inline(label)}](${u.replace(/[()<>\\\s`]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)})`;
}
