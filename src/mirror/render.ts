import { compareCodeUnits } from '../studies/canonical.js';
import { LOCATION_PREFIX, FIELD_PATH, type ChangeKind, type Json, type Study } from '../studies/model.js';
import { pathFamily, summarizeChangeLines } from './changeLines.js';
import { yamlDate, yamlQuoted, yamlScalar } from './yaml.js';
import { isPlainObject } from '../isPlainObject.js';
import { DAY_MS } from '../days.js';

export interface MirrorSettings {
  /** canonical_url = canonicalBaseUrl + NCT ID + ".md" */
  canonicalBaseUrl: string;
  /** the study's CT.gov page = ctgovStudyBaseUrl + NCT ID */
  ctgovStudyBaseUrl: string;
  sourceLabel: string;
  footerNote: string;
  recentChangeDays: number;
  /** Display order of recent changes; an entry `prefix.*` stands for every path under `prefix.`. */
  mirroredPaths: string[];
  /** More lines than this of one path family and kind on one day become one summary line. */
  maxChangeLinesPerPath: number;
}

export interface MirrorChange {
  path: string;
  kind: ChangeKind;
  detectedAt: Date;
}

export interface MirrorPageInput {
  study: Study;
  changes: MirrorChange[];
  lastSeenAt: Date;
  now: Date;
  settings: MirrorSettings;
  /** When CT.gov stopped returning the study (as of `now`); the page then says so at the top. */
  removedAt?: Date;
}

type Obj = { [key: string]: Json };

/** The study's mirror page (format fixed by the golden page, DESIGN §4). Pure: the clock is `now`. */
export function renderMirrorPage(input: MirrorPageInput): string {
  const { study, settings } = input;
  const f = study.fields;
  const canonicalUrl = `${settings.canonicalBaseUrl}${study.nctId}.md`;
  const ctgovUrl = `${settings.ctgovStudyBaseUrl}${study.nctId}`;
  const officialTitle = str(f[FIELD_PATH.officialTitle]);
  const sites = locations(f);
  const blocks = [
    `# ${oneLine(titleOf(study))}`,
    input.removedAt && removedBanner(input.removedAt, str(f[FIELD_PATH.overallStatus])),
    officialTitle && `**Official Title:** ${oneLine(officialTitle)}`,
    `**NCT ID:** [${study.nctId}](${ctgovUrl})`,
    section('Key Facts', keyFacts(f)),
    textSection('Brief Summary', str(f[FIELD_PATH.briefSummary])),
    textSection('Detailed Description', str(f[FIELD_PATH.detailedDescription])),
    eligibilitySection(f),
    section('Arms', objs(f[FIELD_PATH.arms]).map((a) => listItem(a['label'], a['type'], a['description']))),
    section('Interventions', objs(f[FIELD_PATH.interventions]).map((i) => listItem(i['name'], i['type'], i['description']))),
    section('Primary Outcomes', objs(f[FIELD_PATH.primaryOutcomes]).map(outcomeItem)),
    section('Secondary Outcomes', objs(f[FIELD_PATH.secondaryOutcomes]).map(outcomeItem)),
    locationsSection(sites),
    changesSection(recentChanges(input.changes, input.now, settings), settings),
    '---',
    [`*Canonical: ${canonicalUrl}*`, `*Source data (authoritative): ${ctgovUrl}*`, settings.footerNote && `*${settings.footerNote}*`]
      .filter(Boolean)
      .join('  \n'),
  ];
  const body = blocks.filter((b): b is string => typeof b === 'string' && b !== '').join('\n\n');
  return `${frontMatter(input, canonicalUrl, ctgovUrl, sites)}${body}\n`;
}

/** The line that opens the page of a study CT.gov no longer returns (both profiles). */
export function removedBanner(removedAt: Date, lastStatus: string | undefined): string {
  const status = lastStatus ? ` Last known status: ${lastStatus}.` : '';
  return `> **Removed from ClinicalTrials.gov on ${utcDate(removedAt)}.** CT.gov no longer returns this study; this page shows its last known record.${status}`;
}

function frontMatter({ study, lastSeenAt, settings, removedAt }: MirrorPageInput, canonicalUrl: string, ctgovUrl: string, sites: Obj[]): string {
  const f = study.fields;
  const lastUpdate = str(f[FIELD_PATH.lastUpdatePostDate]);
  // Keys without a value are left out rather than written empty; the URLs and the instant are
  // quoted as in the golden page, the CT.gov date stays plain so consumers read it as a date.
  const entries: Array<[string, string | undefined]> = [
    ['title', yamlScalar(titleOf(study))],
    ['nct_id', yamlScalar(study.nctId)],
    ['overall_status', opt(str(f[FIELD_PATH.overallStatus]), yamlScalar)],
    ['phase', opt(joined(f[FIELD_PATH.phases]), yamlScalar)],
    ['sponsor', opt(str(f[FIELD_PATH.sponsorLead]), yamlScalar)],
    ['study_type', opt(str(f[FIELD_PATH.studyType]), yamlScalar)],
    ['primary_condition', opt(strs(f[FIELD_PATH.conditions])[0], yamlScalar)],
    ['countries', opt(distinct(sites.map((l) => str(l['country']))).join(', '), yamlScalar)],
    ['canonical_url', yamlQuoted(canonicalUrl)],
    ['clinicaltrials_gov', yamlQuoted(ctgovUrl)],
    ['ct_last_update_post_date', opt(lastUpdate, yamlDate)],
    ['last_seen_at', yamlQuoted(lastSeenAt.toISOString())],
    ['removed_at', removedAt && yamlQuoted(removedAt.toISOString())],
    ['source', yamlScalar(settings.sourceLabel)],
  ];
  const lines = entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return `---\n${lines.join('\n')}\n---\n`;
}

function keyFacts(f: Study['fields']): string[] {
  const facts: Array<[string, string | undefined]> = [
    ['Status', str(f[FIELD_PATH.overallStatus])],
    ['Phase', joined(f[FIELD_PATH.phases])],
    ['Study Type', str(f[FIELD_PATH.studyType])],
    ['Target Enrollment', scalarText(f[FIELD_PATH.enrollmentCount])],
    ['Lead Sponsor', str(f[FIELD_PATH.sponsorLead])],
    ['Collaborators', distinct(objs(f[FIELD_PATH.sponsorCollaborators]).map((c) => str(c['name']))).join(', ')],
    ['Conditions', joined(f[FIELD_PATH.conditions])],
    ['Start Date', str(f[FIELD_PATH.startDate])],
    ['Completion Date', str(f[FIELD_PATH.completionDate])],
    ['CT.gov Last Update', str(f[FIELD_PATH.lastUpdatePostDate])],
  ];
  return factLines(facts);
}

function eligibilitySection(f: Study['fields']): string | undefined {
  const healthy = f[FIELD_PATH.healthyVolunteers];
  const facts: Array<[string, string | undefined]> = [
    ['Minimum age', str(f[FIELD_PATH.minAge])],
    ['Maximum age', str(f[FIELD_PATH.maxAge])],
    ['Sex', str(f[FIELD_PATH.sex])],
    ['Healthy Volunteers', typeof healthy === 'boolean' ? (healthy ? 'Yes' : 'No') : undefined],
  ];
  const lines = factLines(facts);
  const criteria = str(f[FIELD_PATH.criteria]);
  const parts = [lines.join('\n'), criteria === undefined ? '' : fenced(criteria)].filter(Boolean);
  return parts.length ? `## Eligibility\n\n${parts.join('\n\n')}` : undefined;
}

function factLines(facts: Array<[string, string | undefined]>): string[] {
  return facts.filter(([, v]) => v).map(([k, v]) => `- **${k}:** ${oneLine(v!)}`);
}

/** Criteria verbatim: the fence is longer than any backtick run inside, so nothing closes it early. */
function fenced(text: string): string {
  const body = normalizeNewlines(text).replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}\n${body}\n${fence}`;
}

function listItem(name: Json | undefined, type: Json | undefined, description: Json | undefined): string {
  const t = str(type);
  const d = str(description);
  return `- **${oneLine(str(name) ?? '(unnamed)')}**${t ? ` (${oneLine(t)})` : ''}${d ? ` — ${indented(d)}` : ''}`;
}

function outcomeItem(o: Obj): string {
  const timeFrame = str(o['timeFrame']);
  return `- **${oneLine(str(o['measure']) ?? '(unnamed)')}**${timeFrame ? ` _(time frame: ${oneLine(timeFrame)})_` : ''}`;
}

const SITE_PARTS = ['facility', 'city', 'state', 'country'];

function locationsSection(sites: Obj[]): string | undefined {
  const lines = sites.map((l) => {
    let joined = '';
    for (const k of SITE_PARTS) {
      const part = str(l[k]);
      if (part) joined = joined ? `${joined}, ${part}` : part;
    }
    return `- ${joined ? oneLine(joined) : '(unnamed site)'}`;
  });
  return section(`Locations (${lines.length})`, lines);
}

/**
 * Sites sorted by path (key), not by insertion order: the diff treats reordered locations as no
 * change, so the page (and its countries line) must not depend on the order either.
 */
function locations(f: Study['fields']): Obj[] {
  const paths: string[] = [];
  for (const path of Object.keys(f)) if (path.startsWith(LOCATION_PREFIX)) paths.push(path);
  paths.sort(compareCodeUnits);
  const sites: Obj[] = [];
  for (const path of paths) {
    const site = f[path];
    if (isPlainObject(site)) sites.push(site);
  }
  return sites;
}

function changesSection(changes: MirrorChange[], settings: MirrorSettings): string | undefined {
  const days = settings.recentChangeDays;
  const seen = new Set<string>();
  const lines = [];
  for (const c of changes) {
    const day = utcDate(c.detectedAt);
    const text = `- ${codeSpan(oneLine(c.path))} — ${c.kind} _(${day})_`;
    if (seen.has(text)) continue;
    seen.add(text);
    lines.push({ text, day, kind: c.kind, family: pathFamily(c.path, settings.mirroredPaths) });
  }
  const shown = summarizeChangeLines(
    lines,
    settings.maxChangeLinesPerPath,
    (family, n, kind, day) => `- ${codeSpan(oneLine(family))} — ${n.toLocaleString('en-US')} ${kind} _(${day})_`,
  );
  return section(`Recent Field Changes (last ${days} ${days === 1 ? 'day' : 'days'})`, shown);
}

/**
 * Changes of mirrored paths detected in (now − window, now], in display order: newest UTC day
 * first, then the mirrored-path order, then path (location key), then newest instant first.
 */
export function recentChanges(changes: readonly MirrorChange[], now: Date, settings: MirrorSettings): MirrorChange[] {
  const from = now.getTime() - settings.recentChangeDays * DAY_MS;
  const to = now.getTime();
  const rankOf = mirroredRanker(settings.mirroredPaths);
  const ranked: Array<{ c: MirrorChange; rank: number; time: number; day: string }> = [];
  for (const c of changes) {
    const time = c.detectedAt.getTime();
    if (!(time > from && time <= to)) continue;
    const rank = rankOf(c.path);
    if (rank >= 0) ranked.push({ c, rank, time, day: utcDate(c.detectedAt) });
  }
  ranked.sort(
    (a, b) =>
      compareCodeUnits(b.day, a.day) ||
      a.rank - b.rank ||
      compareCodeUnits(a.c.path, b.c.path) ||
      b.time - a.time ||
      compareCodeUnits(a.c.kind, b.c.kind),
  );
  return ranked.map(({ c }) => c);
}

/**
 * A path's place in the display order: the first entry of `mirrored` it matches (the path itself,
 * or `prefix.*` for a path under `prefix.`), -1 for none.
 */
function mirroredRanker(mirrored: readonly string[]): (path: string) => number {
  const exact = new Map<string, number>();
  const prefixes: Array<[string, number]> = [];
  mirrored.forEach((m, i) => {
    if (m.endsWith('.*')) prefixes.push([m.slice(0, -1), i]);
    else if (!exact.has(m)) exact.set(m, i);
  });
  return (path) => {
    const rank = exact.get(path) ?? -1;
    for (const [prefix, i] of prefixes) {
      if (rank >= 0 && i > rank) break;
      if (path.startsWith(prefix)) return i;
    }
    return rank;
  };
}

/**
 * The paths recentChanges keeps, as a query can select them: a path is shown when it equals one
 * of `exact` or starts with one of `prefixes` (from the `prefix.*` entries, dot included).
 */
export function mirroredPathPatterns(mirrored: readonly string[]): { exact: string[]; prefixes: string[] } {
  return {
    exact: mirrored.filter((m) => !m.endsWith('.*')),
    prefixes: mirrored.filter((m) => m.endsWith('.*')).map((m) => m.slice(0, -1)),
  };
}

function titleOf(study: Study): string {
  return str(study.fields[FIELD_PATH.briefTitle]) ?? str(study.fields[FIELD_PATH.officialTitle]) ?? study.nctId;
}

function section(heading: string, lines: string[]): string | undefined {
  return lines.length ? `## ${heading}\n\n${lines.join('\n')}` : undefined;
}

function textSection(heading: string, text: string | undefined): string | undefined {
  const body = text === undefined ? '' : normalizeNewlines(text).trim();
  return body ? `## ${heading}\n\n${body}` : undefined;
}

// Headings, list items and table-like lines must stay on one line.
function oneLine(text: string): string {
  return (LINE_BREAK.test(text) ? text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ') : text).trim();
}

const LINE_BREAK = /[\r\n\u2028\u2029]/;

// A multi-line description stays inside its list item when continuation lines are indented.
function indented(text: string): string {
  return normalizeNewlines(text)
    .trim()
    .split('\n')
    .map((line, i) => (i === 0 || line.trim() === '' ? line.trimEnd() : `  ${line}`))
    .join('\n');
}

// A location key may hold backticks (from a facility name); a longer delimiter keeps the span whole.
function codeSpan(text: string): string {
  if (!text.includes('`')) return `\`${text}\``;
  const fence = '`'.repeat(longestBacktickRun(text) + 1);
  return `${fence} ${text} ${fence}`;
}

function longestBacktickRun(text: string): number {
  if (!text.includes('`')) return 0;
  return (text.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0);
}

function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

// The changes of one study (and of a whole sync) mostly share an instant: its day is formatted once.
const utcDates = new Map<number, string>();

function utcDate(d: Date): string {
  const time = d.getTime();
  let day = utcDates.get(time);
  if (day === undefined) {
    if (utcDates.size >= 1024) utcDates.clear();
    day = d.toISOString().slice(0, 10);
    utcDates.set(time, day);
  }
  return day;
}

function opt(value: string | undefined, write: (v: string) => string): string | undefined {
  return value ? write(value) : undefined;
}

function distinct(values: ReadonlyArray<string | undefined>): string[] {
  const seen = new Set<string>();
  for (const v of values) if (v) seen.add(v);
  return [...seen];
}

// Field values are Json; anything of an unexpected shape is treated as absent rather than thrown on.
function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function strs(value: Json | undefined): string[] {
  return Array.isArray(value) ? distinct(value.map((v) => str(v))) : [];
}

function joined(value: Json | undefined): string | undefined {
  return strs(value).join(', ') || undefined;
}

function scalarText(value: Json | undefined): string | undefined {
  return typeof value === 'number' ? String(value) : str(value);
}

function objs(value: Json | undefined): Obj[] {
  return Array.isArray(value) ? value.filter((x): x is Obj => isPlainObject(x)) : [];
}
