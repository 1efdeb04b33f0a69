import { diffWords } from 'diff';
import { LOCATION_PREFIX, type FieldChange, type Json } from '../studies/model.js';
import { html, type SafeHtml } from './html.js';

/** One row of the side-by-side diff: a path (or all sites together), the old side and the new side. */
export interface DiffRow {
  label: string;
  mode: 'text' | 'set' | 'scalar';
  before: SafeHtml;
  after: SafeHtml;
}

const EMPTY = html`<span class="none">—</span>`;

/**
 * The changes between two versions as side-by-side rows: word-level for text, set-wise for lists
 * (items removed on the left, added on the right; an edited item is word-diffed with the item it
 * replaced), before/after for scalars. The sites (one path each) are gathered into one row.
 */
export function diffRows(changes: readonly FieldChange[]): DiffRow[] {
  const sites = changes.filter((c) => c.path.startsWith(LOCATION_PREFIX));
  const rows = changes.filter((c) => !c.path.startsWith(LOCATION_PREFIX)).map(diffRow);
  if (sites.length > 0) rows.push(sitesRow(sites));
  return rows;
}

function diffRow(c: FieldChange): DiffRow {
  const { oldValue: a, newValue: b } = c;
  if (Array.isArray(a) || Array.isArray(b)) return { label: c.path, mode: 'set', ...setDiff(asArray(a), asArray(b)) };
  // A code or a date (one word each side) reads best as before/after; prose is word-diffed.
  if ((typeof a === 'string' || typeof b === 'string') && !/\s/.test(textOf(a) + textOf(b))) return scalarRow(c);
  if (typeof a === 'string' || typeof b === 'string' || isObject(a) || isObject(b)) {
    return { label: c.path, mode: 'text', ...wordDiff(textOf(a), textOf(b)) };
  }
  return scalarRow(c);
}

function scalarRow(c: FieldChange): DiffRow {
  return {
    label: c.path,
    mode: 'scalar',
    before: c.oldValue === null ? EMPTY : html`<del>${textOf(c.oldValue)}</del>`,
    after: c.newValue === null ? EMPTY : html`<ins>${textOf(c.newValue)}</ins>`,
  };
}

/** Sites removed on the left, added on the right; a site whose details changed is word-diffed. */
function sitesRow(sites: readonly FieldChange[]): DiffRow {
  const removed = sites.filter((s) => s.kind === 'removed').map((s) => html`<li><del>${siteText(s.oldValue)}</del></li>`);
  const added = sites.filter((s) => s.kind === 'added').map((s) => html`<li><ins>${siteText(s.newValue)}</ins></li>`);
  const changed = sites.filter((s) => s.kind === 'changed').map((s) => wordDiff(textOf(s.oldValue), textOf(s.newValue)));
  const list = (items: SafeHtml[]) => (items.length === 0 ? EMPTY : html`<ul class="items">${items}</ul>`);
  return {
    label: `sites (${added.length} added, ${removed.length} removed, ${changed.length} changed)`,
    mode: 'set',
    before: list([...removed, ...changed.map((c) => html`<li>${c.before}</li>`)]),
    after: list([...added, ...changed.map((c) => html`<li>${c.after}</li>`)]),
  };
}

function siteText(v: Json | null): string {
  if (!isObject(v)) return textOf(v);
  const where = ['facility', 'city', 'state', 'country'].map((k) => v[k]).filter((x) => typeof x === 'string' && x !== '');
  return `${where.join(', ')}${typeof v.status === 'string' ? ` (${v.status})` : ''}`;
}

/** Items in one list and not the other (compared as JSON); removed and added items paired in order are word-diffed. */
function setDiff(a: Json[], b: Json[]): { before: SafeHtml; after: SafeHtml } {
  const keysB = new Set(b.map((x) => JSON.stringify(x)));
  const keysA = new Set(a.map((x) => JSON.stringify(x)));
  const removed = a.filter((x) => !keysB.has(JSON.stringify(x)));
  const added = b.filter((x) => !keysA.has(JSON.stringify(x)));
  const kept = a.length - removed.length;
  const before: SafeHtml[] = [];
  const after: SafeHtml[] = [];
  const pairs = Math.min(removed.length, added.length);
  for (let i = 0; i < pairs; i++) {
    const d = wordDiff(textOf(removed[i]!), textOf(added[i]!));
    before.push(html`<li>${d.before}</li>`);
    after.push(html`<li>${d.after}</li>`);
  }
  for (const x of removed.slice(pairs)) before.push(html`<li><del>${textOf(x)}</del></li>`);
  for (const x of added.slice(pairs)) after.push(html`<li><ins>${textOf(x)}</ins></li>`);
  const note = kept > 0 ? html`<p class="kept">${kept} unchanged item${kept === 1 ? '' : 's'}</p>` : '';
  return {
    before: html`${before.length ? html`<ul class="items">${before}</ul>` : EMPTY}${note}`,
    after: html`${after.length ? html`<ul class="items">${after}</ul>` : EMPTY}${note}`,
  };
}

/** jsdiff's word diff: the left side shows what was removed, the right side what was added. */
function wordDiff(a: string, b: string): { before: SafeHtml; after: SafeHtml } {
  if (a === '') return { before: EMPTY, after: html`<ins>${b}</ins>` };
  if (b === '') return { before: html`<del>${a}</del>`, after: EMPTY };
  const parts = diffWords(a, b);
  return {
    before: html`<span class="text">${parts.filter((p) => !p.added).map((p) => (p.removed ? html`<del>${p.value}</del>` : p.value))}</span>`,
    after: html`<span class="text">${parts.filter((p) => !p.removed).map((p) => (p.added ? html`<ins>${p.value}</ins>` : p.value))}</span>`,
  };
}

/** A value as readable text: objects as `key: value` lines, lists one item per line. */
export function textOf(v: Json | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => textOf(x)).join('\n');
  return Object.entries(v)
    .filter(([, x]) => x !== null && x !== '')
    .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
    .join('\n');
}

function asArray(v: Json | null): Json[] {
  return Array.isArray(v) ? v : v === null ? [] : [v];
}

function isObject(v: Json | null | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
