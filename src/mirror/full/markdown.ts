import type { Json } from '../../studies/model.js';

/**
 * Markdown building blocks of the `full` profile. Record values come from CT.gov and may hold
 * anything: short values (names, titles, table cells) are escaped so they stay literal text;
 * long texts (descriptions, criteria) are CT.gov's own markdown and are kept as markdown, with
 * only the constructs a page must not get from a record neutralised (headings, raw HTML, tables).
 */

export type Obj = { [key: string]: Json };

// Characters that start emphasis, code, links, HTML or table cells inside a line; `_` only
// where it could (inside a word, as in EUDRACT_NUMBER, it never does, and stays readable).
const INLINE_SPECIAL = /[\\`*[\]<>|#~]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;

/** A short value as literal text on one line. */
export function inline(text: string): string {
  return oneLine(text).replace(INLINE_SPECIAL, (ch) => `\\${ch}`);
}

/** `inline`, cut to `max` characters (the cut is marked) so a table cell or change line stays short. */
export function shortInline(text: string, max: number): string {
  const flat = oneLine(text);
  return inline(flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat);
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim();
}

/**
 * CT.gov markdown (criteria, descriptions) as markdown: ATX headings and setext underlines
 * would add headings to the page, `<` would pass raw HTML through, `|` could start a table.
 * Backslash escapes CT.gov already wrote (`\<`) are kept as they are.
 */
export function markdownBlock(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split('\n')
    .map((line) =>
      line
        .replace(/(^|[^\\])([<|])/g, '$1\\$2')
        .replace(/(^|[^\\])([<|])/g, '$1\\$2')
        .replace(/^(\s{0,3})(#{1,6})(?=\s|$)/, '$1\\$2')
        .replace(/^(\s{0,3})(=+\s*)$/, '$1\\$2'),
    )
    .join('\n');
}

/** Continuation lines indented so a multi-line text stays inside its list item. */
export function indentedBlock(text: string): string {
  return markdownBlock(text)
    .split('\n')
    .map((line, i) => (i === 0 || line.trim() === '' ? line.trimEnd() : `  ${line}`))
    .join('\n');
}

export function section(heading: string, parts: Array<string | undefined>, level = 2): string | undefined {
  const body = parts.filter((p): p is string => typeof p === 'string' && p !== '');
  return body.length ? `${'#'.repeat(level)} ${heading}\n\n${body.join('\n\n')}` : undefined;
}

/** `- **Label:** value` lines for the facts that have a value (values already markdown). */
export function factList(facts: Array<[string, string | undefined]>): string | undefined {
  const lines = facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `- **${k}:** ${v}`);
  return lines.length ? lines.join('\n') : undefined;
}

export interface TableLimits {
  maxRows: number;
  maxColumns: number;
  /** Where the rows and columns left out can be read (CT.gov's results tab). */
  moreUrl: string;
}

const MAX_CELL = 160;

/**
 * A pipe table whose rows all have the header's cell count, cut to `maxRows` body rows and
 * `maxColumns` columns; a note under it says what was left out and where to read it. Cells are
 * plain values, escaped here.
 */
export function table(header: string[], rows: string[][], limits: TableLimits): string {
  const columns = Math.min(header.length, Math.max(2, limits.maxColumns));
  const shownRows = rows.slice(0, Math.max(1, limits.maxRows));
  const cell = (v: string | undefined) => shortInline(v ?? '', MAX_CELL) || ' ';
  const line = (cells: Array<string | undefined>) =>
    `| ${Array.from({ length: columns }, (_, i) => cell(cells[i])).join(' | ')} |`;
  const lines = [line(header), `|${' --- |'.repeat(columns)}`, ...shownRows.map(line)];
  const left: string[] = [];
  if (rows.length > shownRows.length) left.push(`${rows.length - shownRows.length} more ${plural(rows.length - shownRows.length, 'row')}`);
  if (header.length > columns) {
    const names = header.slice(columns).map((h) => shortInline(h, 40)).join(', ');
    left.push(`${header.length - columns} more ${plural(header.length - columns, 'column')} (${names})`);
  }
  if (left.length) lines.push('', `_Not shown: ${left.join(' and ')}; see [the results on ClinicalTrials.gov](${limits.moreUrl})._`);
  return lines.join('\n');
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

// Field values are Json; anything of an unexpected shape is treated as absent rather than thrown on.
export function str(value: Json | undefined): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

export function yesNo(value: Json | undefined): string | undefined {
  return typeof value === 'boolean' ? (value ? 'Yes' : 'No') : undefined;
}

export function objs(value: Json | undefined): Obj[] {
  return Array.isArray(value) ? value.filter(isObj) : [];
}

export function obj(value: Json | undefined): Obj | undefined {
  return isObj(value) ? value : undefined;
}

export function strs(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.map((v) => str(v)).filter((v): v is string => v !== undefined) : [];
}

export function isObj(value: Json | undefined): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An inline list of short values, or undefined when there are none. */
export function inlineList(values: string[]): string | undefined {
  return values.length ? values.map(inline).join(', ') : undefined;
}

/** An inline value, or undefined when absent. */
export function inl(value: Json | undefined): string | undefined {
  const s = str(value);
  return s === undefined ? undefined : inline(s);
}
