import type { StudyFacts, VersionEntry } from './studyQueries.js';
import { formatInstant } from './feedPage.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import type { DiffRow } from './valueDiff.js';

export interface StudyPageData {
  facts: StudyFacts;
  timeline: VersionEntry[];
  /** The two versions compared (from is undefined when `to` is the first one seen). */
  from: VersionEntry | undefined;
  to: VersionEntry | undefined;
  rows: DiffRow[];
  ctgovUrl: string;
}

/** `GET /studies/{NCT}`: key facts, the timeline of versions, and the side-by-side diff of two of them. */
export function renderStudyPage(d: StudyPageData): string {
  const { facts } = d;
  const title = facts.briefTitle ?? facts.nctId;
  const body = html`<h1>${facts.nctId}: ${title}</h1>
${facts.removedAt ? html`<p class="error">No longer on ClinicalTrials.gov since ${formatInstant(facts.removedAt)}.</p>` : ''}
<dl class="facts">
  ${fact('Official title', facts.officialTitle)}
  ${fact('Status', facts.overallStatus)}
  ${fact('Phases', facts.phases.join(', ') || null)}
  ${fact('Study type', facts.studyType)}
  ${fact('Enrollment', facts.enrollmentCount === null ? null : String(facts.enrollmentCount))}
  ${fact('Lead sponsor', facts.leadSponsor)}
  ${fact('Start', facts.startDate)}
  ${fact('Primary completion', facts.primaryCompletionDate)}
  ${fact('Last update posted', facts.lastUpdatePostDate)}
  ${fact('First seen', formatInstant(facts.firstSeenAt))}
  ${fact('Last seen', formatInstant(facts.lastSeenAt))}
</dl>
<p><a href="${d.ctgovUrl}">${facts.nctId} on ClinicalTrials.gov</a> · <a href="/?nct=${facts.nctId}">All changes of this study</a></p>
<h2 id="diff">${diffHeading(d)}</h2>
${compareForm(d)}
${diffTable(d)}
<h2 id="timeline">Timeline</h2>
${timelineTable(d)}`;
  return layout(`${facts.nctId}: ${title}`, body, { feed: `/feeds/changes.atom?nct=${facts.nctId}` });
}

function fact(label: string, value: string | null): SafeHtml {
  return value === null || value === '' ? html`` : html`<dt>${label}</dt><dd>${value}</dd>`;
}

function versionLabel(v: VersionEntry): string {
  return `${formatInstant(v.firstSeenAt)} (version ${v.id})`;
}

function diffHeading(d: StudyPageData): string {
  if (!d.to) return 'No version stored';
  if (!d.from) return `First observation: ${versionLabel(d.to)}`;
  return `Changes from ${versionLabel(d.from)} to ${versionLabel(d.to)}`;
}

/** Two version pickers in a plain GET form: works without JavaScript. */
function compareForm(d: StudyPageData): SafeHtml {
  if (d.timeline.length < 2) return html``;
  const options = (selected: VersionEntry | undefined) =>
    d.timeline.map((v) => html`<option value="${v.id}"${selected?.id === v.id ? html` selected` : ''}>${versionLabel(v)}</option>`);
  return html`<form class="filters" method="get" action="/studies/${d.facts.nctId}#diff">
  <label>From <select name="from">${options(d.from)}</select></label>
  <label>To <select name="to">${options(d.to)}</select></label>
  <button type="submit">Compare</button>
</form>`;
}

function diffTable(d: StudyPageData): SafeHtml {
  if (!d.to) return html``;
  if (d.rows.length === 0) return html`<p class="muted">No differences in the mirrored fields.</p>`;
  return html`<table class="diff">
<thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>
${d.rows.map((r) => html`<tr class="${r.mode}"><td class="field path">${r.label}</td><td class="side before">${r.before}</td><td class="side after">${r.after}</td></tr>\n`)}
</tbody>
</table>`;
}

function timelineTable(d: StudyPageData): SafeHtml {
  return html`<table class="timeline">
<thead><tr><th scope="col">Seen</th><th scope="col">CT.gov last update</th><th scope="col">Changed paths</th><th scope="col">Sections</th><th scope="col">Diff</th></tr></thead>
<tbody>
${d.timeline.map(
  (v, i) => html`<tr><td class="when">${formatInstant(v.firstSeenAt)}</td><td>${v.ctLastUpdatePostDate ?? ''}</td><td>${v.changeCount}</td>
<td>${v.sections.join(', ')}</td>
<td>${d.to?.id === v.id && (d.from?.id === d.timeline[i + 1]?.id) ? html`<span class="muted">shown</span>` : html`<a href="/studies/${d.facts.nctId}?to=${v.id}#diff">${i + 1 < d.timeline.length ? 'what changed' : 'first observation'}</a>`}</td></tr>\n`,
)}
</tbody>
</table>`;
}
