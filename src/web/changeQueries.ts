import type pg from 'pg';
import { escapeLike, pathPattern } from '../webhooks/hookMatch.js';
import { encodeCursor, type ChangeFilters, type ChangeQuery } from './changeFilters.js';

export interface ChangeRow {
  id: number;
  nctId: string;
  title: string | null;
  path: string;
  kind: 'added' | 'changed' | 'removed';
  detectedAt: Date;
  runId: number | null;
  versionId: number | null;
}

export interface ChangeListRow extends ChangeRow {
  /** The first characters of the new value (the old one for a removal), as JSON text. */
  preview: string | null;
}

export interface FullChangeRow extends ChangeRow {
  oldValue: unknown;
  newValue: unknown;
}

export interface ChangePage<T> {
  rows: T[];
  /** Cursor of the next (older) page; undefined on the last page. */
  next?: string;
}

const PREVIEW_CHARS = 140;

/** Newest changes first, for the HTML list: values cut to a preview (a criteria text can be 20 kB). */
export function listChanges(pool: pg.Pool, query: ChangeQuery): Promise<ChangePage<ChangeListRow>> {
  return page(pool, query, `left(coalesce(c.new_value, c.old_value)::text, ${PREVIEW_CHARS}) as preview`);
}

/** Newest changes first with their old and new values, for the feeds. */
export function listChangesWithValues(pool: pg.Pool, query: ChangeQuery): Promise<ChangePage<FullChangeRow>> {
  return page(pool, query, 'c.old_value as "oldValue", c.new_value as "newValue"');
}

async function page<T extends ChangeRow>(pool: pg.Pool, query: ChangeQuery, valueColumns: string): Promise<ChangePage<T>> {
  const { where, values } = whereClause(query);
  values.push(query.limit + 1);
  // valueColumns is one of the two constants above, never input.
  const { rows } = await pool.query<T & { cursorAt: string }>(
    `select c.id, c.nct_id as "nctId", s.brief_title as title, c.path, c.kind, c.detected_at as "detectedAt",
            c.detected_at::text as "cursorAt", c.run_id as "runId", c.version_id as "versionId", ${valueColumns}
       from ctgov.field_changes c
       join ctgov.studies s using (nct_id)
      where ${where}
      order by c.detected_at desc, c.id desc
      limit $${values.length}`,
    values,
  );
  const more = rows.length > query.limit;
  const shown = more ? rows.slice(0, query.limit) : rows;
  const last = shown[shown.length - 1];
  const result = shown.map(({ cursorAt: _cursorAt, ...row }) => row as unknown as T);
  return more && last ? { rows: result, next: encodeCursor({ detectedAt: last.cursorAt, id: last.id }) } : { rows: result };
}

/** Every filter a parameter; the SQL text only ever depends on which filters are present. */
function whereClause(query: ChangeQuery): { where: string; values: unknown[] } {
  const f: ChangeFilters = query.filters;
  const parts: string[] = ['true'];
  const values: unknown[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  if (f.path) parts.push(`c.path like ${param(pathPattern(f.path))}`);
  if (f.kind) parts.push(`c.kind = ${param(f.kind)}`);
  if (f.since) parts.push(`c.detected_at >= ${param(f.since)}`);
  if (f.until) parts.push(`c.detected_at < ${param(f.until)}`);
  if (f.nct) parts.push(`c.nct_id = ${param(f.nct)}`);
  if (f.q) {
    const words = f.q.split(/\s+/).filter(Boolean).map((w) => `%${escapeLike(w)}%`);
    parts.push(`s.brief_title ilike all (${param(words)}::text[])`);
  }
  if (query.cursor) parts.push(`(c.detected_at, c.id) < (${param(query.cursor.detectedAt)}::timestamptz, ${param(query.cursor.id)})`);
  return { where: parts.join(' and '), values };
}
