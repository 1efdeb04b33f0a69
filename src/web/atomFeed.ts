import { filterParams, type ChangeQuery } from './changeFilters.js';
import type { ChangePage, FullChangeRow } from './changeQueries.js';
import { escapeHtml } from './html.js';

const VALUE_CHARS = 2000;

/**
 * Atom 1.0 (RFC 4287): one entry per change row, id `urn:ctgov-sync:change:<id>` (stable: the row
 * never changes), `updated` = detected_at, a link to the study page, the old and new values as
 * text. The feed's own `updated` is its newest entry's (the Unix epoch when empty).
 */
export function renderAtomFeed(base: string, query: ChangeQuery, page: ChangePage<FullChangeRow>): string {
  const qs = filterParams(query.filters, { limit: query.limit }).toString();
  const self = `${base}/feeds/changes.atom${qs ? `?${qs}` : ''}`;
  const updated = page.rows[0]?.detectedAt ?? new Date(0);
  const x = xmlText;
  const entries = page.rows.map((r) => {
    const title = `${r.nctId} ${r.path} ${r.kind}`;
    const text =
      `${r.title ?? r.nctId}\n${r.path} ${r.kind}\n` +
      (r.kind !== 'added' ? `before: ${excerpt(r.oldValue)}\n` : '') +
      (r.kind !== 'removed' ? `after: ${excerpt(r.newValue)}\n` : '');
    const link = `${base}/studies/${r.nctId}${r.versionId !== null ? `?to=${r.versionId}` : ''}`;
    return `  <entry>
    <id>urn:ctgov-sync:change:${r.id}</id>
    <title>${x(title)}</title>
    <updated>${r.detectedAt.toISOString()}</updated>
    <link rel="alternate" type="text/html" href="${x(link)}"/>
    <category term="${x(r.kind)}" label="kind"/>
    <category term="${x(r.source)}" label="source"/>
    <category term="${x(r.path)}" label="path"/>
    <summary type="text">${x(text)}</summary>
  </entry>`;
  });
  const next = page.next ? `\n  <link rel="next" href="${x(`${base}/feeds/changes.atom?${filterParams(query.filters, { limit: query.limit, cursor: page.next }).toString()}`)}"/>` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:ctgov-sync:changes${qs ? `?${x(qs)}` : ''}</id>
  <title>ctgov-sync: changes to ClinicalTrials.gov studies</title>
  <updated>${updated.toISOString()}</updated>
  <author><name>ctgov-sync</name></author>
  <generator>ctgov-sync</generator>
  <link rel="self" type="application/atom+xml" href="${x(self)}"/>
  <link rel="alternate" type="text/html" href="${x(`${base}/${qs ? `?${qs}` : ''}`)}"/>${next}
${entries.join('\n')}
</feed>
`;
}

/** Escaped, and with the characters XML 1.0 cannot carry at all (C0 controls, lone surrogates) replaced by U+FFFD. */
function xmlText(text: string): string {
  return escapeHtml(text.replace(XML_INVALID, '\uFFFD'));
}

const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function excerpt(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > VALUE_CHARS ? `${s.slice(0, VALUE_CHARS)}…` : s;
}
