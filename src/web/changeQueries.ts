import type pg from 'pg';
import { escapeLike, pathPattern } from '../webhooks/hookMatch.js';
import { encodeCursor, type ChangeFilters, type ChangeQuery } from './changeFilters.js';

export interface ChangeRow {
  id: number;
  nctId: string;
  title: string | null;
  path: string;
  kind: 'added' | 'changed' | 'removed';
  source: 'live' | 'history';
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

/** Newest changes first, for the HTML list: values cut to a preview (a criteria text can be 20 kB). */
export function listChanges(pool: pg.Pool, query: ChangeQuery): Promise<ChangePage<ChangeListRow>> {
  return page(pool, query, LIST_SQL);
}

/** Newest changes first with their old and new values, for the feeds. */
export function listChangesWithValues(pool: pg.Pool, query: ChangeQuery): Promise<ChangePage<FullChangeRow>> {
  return page(pool, query, VALUES_SQL);
}

async function page<T extends ChangeRow>(pool: pg.Pool, query: ChangeQuery, sql: string): Promise<ChangePage<T>> {
  const { rows } = await pool.query<T & { cursorAt: string }>(sql, parameters(query));
  const more = rows.length > query.limit;
  const shown = more ? rows.slice(0, query.limit) : rows;
  const last = shown[shown.length - 1];
  const result = shown.map(({ cursorAt: _cursorAt, ...row }) => row as unknown as T);
  return more && last ? { rows: result, next: encodeCursor({ detectedAt: last.cursorAt, id: last.id }) } : { rows: result };
}

/** One parameter per filter, null when absent (see FILTERED). */
function parameters(query: ChangeQuery): unknown[] {
  const f: ChangeFilters = query.filters;
  const words = f.q ? f.q.split(/\s+/).filter(Boolean).map((w) => `%${escapeLike(w)}%`) : null;
  return [
    f.path ? pathPattern(f.path) : null,
    f.kind ?? null,
    f.since ?? null,
    f.until ?? null,
    f.nct ?? null,
    words,
    query.cursor?.detectedAt ?? null,
    query.cursor?.id ?? null,
    query.limit + 1,
    f.source ?? null,
  ];
}

const COMMON_COLUMNS = `c.id, c.nct_id as "nctId", s.brief_title as title, c.path, c.kind, c.source, c.detected_at as "detectedAt",
       c.detected_at::text as "cursorAt", c.run_id as "runId", c.version_id as "versionId"`;

// One statement for every combination of filters: an absent filter is a null parameter, and the
// planner drops its condition (unnamed statements are planned with their parameter values). The
// page's ids are chosen first, so that only its rows' values are read (and decompressed).
const FILTERED = `
  from (
    select c.id
      from ctgov.field_changes c
      join ctgov.studies s using (nct_id)
     where ($1::text is null or c.path like $1)
       and ($2::text is null or c.kind = $2)
       and ($10::text is null or c.source = $10)
       and ($3::timestamptz is null or c.detected_at >= $3)
       and ($4::timestamptz is null or c.detected_at < $4)
       and ($5::text is null or c.nct_id = $5)
       and ($6::text[] is null or s.brief_title ilike all ($6))
       and ($7::timestamptz is null or (c.detected_at, c.id) < ($7, $8::bigint))
     order by c.detected_at desc, c.id desc
     limit $9
  ) page
  join ctgov.field_changes c using (id)
  join ctgov.studies s using (nct_id)
 order by c.detected_at desc, c.id desc`;

const LIST_SQL = `select ${COMMON_COLUMNS}, left(coalesce(c.new_value, c.old_value)::text, 140) as preview ${FILTERED}`;
const VALUES_SQL = `select ${COMMON_COLUMNS}, c.old_value as "oldValue", c.new_value as "newValue" ${FILTERED}`;
