import { DEFAULT_LIMIT, filterParams, type ChangeQuery } from './changeFilters.js';
import type { ChangeListRow, ChangePage } from './changeQueries.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

const PATH_SUGGESTIONS = ['status.*', 'outcomes.*', 'locations.*', 'eligibility.*', 'design.*', 'sponsor.*', 'armsInterventions.*', 'results.*'];

/** `GET /`: the filter form, the newest matching changes, links to the next (older) page. */
export function renderFeedPage(query: ChangeQuery, page: ChangePage<ChangeListRow>): string {
  const f = query.filters;
  const qs = (extra: { cursor?: string } = {}) => {
    const s = filterParams(f, { limit: query.limit, ...extra }).toString();
    return s ? `?${s}` : '';
  };
  const filtered = filterParams(f).toString() !== '';
  const body = html`<h1>Recent changes</h1>
<form class="filters" method="get" action="/" role="search">
  <label>Path or prefix <input name="path" list="path-prefixes" value="${f.path ?? ''}" placeholder="status.*" size="18"></label>
  <datalist id="path-prefixes">${PATH_SUGGESTIONS.map((p) => html`<option value="${p}"></option>`)}</datalist>
  <label>Kind <select name="kind">
    <option value=""${f.kind ? '' : ' selected'}>any</option>
    ${(['added', 'changed', 'removed'] as const).map((k) => html`<option value="${k}"${f.kind === k ? html` selected` : ''}>${k}</option>`)}
  </select></label>
  <label>Source <select name="source">
    <option value=""${f.source ? '' : ' selected'}>any</option>
    ${(['live', 'history'] as const).map((k) => html`<option value="${k}"${f.source === k ? html` selected` : ''}>${k}</option>`)}
  </select></label>
  <label>Since <input type="date" name="since" value="${f.sinceText ?? ''}"></label>
  <label>Until <input type="date" name="until" value="${f.untilText ?? ''}"></label>
  <label>NCT ID <input name="nct" value="${f.nct ?? ''}" placeholder="NCT01234567" size="12"></label>
  <label>Title words <input name="q" value="${f.q ?? ''}" size="18"></label>
  ${query.limit !== DEFAULT_LIMIT ? html`<input type="hidden" name="limit" value="${query.limit}">` : ''}
  <button type="submit">Filter</button>
  ${filtered ? html`<a href="/">Clear filters</a>` : ''}
</form>
${page.rows.length === 0 ? html`<p class="muted">No changes match.</p>` : changeTable(page.rows)}
<nav class="pages" aria-label="Pages">
  ${query.cursor ? html`<a href="/${qs()}">Newest</a>` : ''}
  ${page.next ? html`<a href="/${qs({ cursor: page.next })}" rel="next">Older changes</a>` : ''}
  <a href="/feeds/changes.atom${qs()}">Atom feed of these changes</a>
</nav>`;
  return layout('Recent changes', body, { feed: `/feeds/changes.atom${qs()}` });
}

function changeTable(rows: readonly ChangeListRow[]): SafeHtml {
  return html`<table class="changes">
<thead><tr><th scope="col">Detected</th><th scope="col">Study</th><th scope="col">Path</th><th scope="col">Kind</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr data-change="${r.id}"><td class="when"><time datetime="${r.detectedAt.toISOString()}">${formatInstant(r.detectedAt)}</time></td>
<td><a href="/studies/${r.nctId}${r.versionId !== null ? `?to=${r.versionId}` : ''}">${r.nctId}</a> ${r.title ?? ''}</td>
<td class="path">${r.path}</td><td>${r.kind}</td><td class="preview">${r.preview ?? ''}</td></tr>\n`,
)}
</tbody>
</table>`;
}

/** `2026-11-21 06:00 UTC`: the instant as stored, in UTC, readable. */
export function formatInstant(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
