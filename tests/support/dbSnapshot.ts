import type pg from 'pg';
import { CHILD_TABLES } from '../../src/studies/studyRows.js';

/*
 * Compares what two runs left in the database. Each table is reduced to its row count and a
 * digest of its rows with ids, run ids, version ids and timestamps left out (they differ between
 * two runs of the same data by construction); everything else must match exactly, duplicates
 * included (a duplicated row changes the count and the digest).
 */

export interface TableDigest {
  rows: number;
  digest: string;
}

/** Job bookkeeping, not data: a killed run leaves a `running` row behind by design. */
const BOOKKEEPING = new Set(['sync_runs', 'sync_failures', 'schema_migrations', 'sync_state', 'resync_requests']);
const IGNORED_COLUMNS = new Set(['id', 'run_id', 'version_id', 'current_version_id']);

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function snapshotTables(pool: pg.Pool): Promise<Record<string, TableDigest>> {
  const { rows: columns } = await pool.query<{ table_name: string; column_name: string; data_type: string }>(
    `select c.table_name, c.column_name, c.data_type
       from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = 'ctgov' and t.table_type = 'BASE TABLE'
      order by c.table_name, c.ordinal_position`,
  );
  const byTable = new Map<string, string[]>();
  for (const c of columns) {
    if (BOOKKEEPING.has(c.table_name) || IGNORED_COLUMNS.has(c.column_name)) continue;
    if (c.data_type.startsWith('timestamp')) continue;
    byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  }
  const out: Record<string, TableDigest> = {};
  for (const [table, cols] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
    // md5 per row, then of the sorted row digests: order-free, duplicates counted, bounded memory.
    const { rows } = await pool.query<{ n: number; digest: string | null }>(
      `select count(*)::int as n, md5(string_agg(h, ',' order by h)) as digest
         from (select md5(row(${cols.map(quote).join(', ')})::text) as h from ctgov.${quote(table)}) x`,
    );
    out[table] = { rows: rows[0]!.n, digest: rows[0]!.digest ?? '' };
  }
  return out;
}

/**
 * Evidence of a half-stored study or a doubled write; every count must be 0.
 */
export async function integrityProblems(pool: pg.Pool): Promise<Record<string, number>> {
  const checks: Record<string, string> = {
    studiesWithoutCurrentVersion: `select 1 from ctgov.studies s
        where s.current_version_id is null
           or not exists (select 1 from ctgov.study_versions v where v.id = s.current_version_id and v.nct_id = s.nct_id)`,
    studiesWithoutChangeRows: `select 1 from ctgov.studies s
        where not exists (select 1 from ctgov.field_changes c where c.nct_id = s.nct_id)`,
    changeRowsWithoutVersion: `select 1 from ctgov.field_changes c
        where c.version_id is null or not exists (select 1 from ctgov.study_versions v where v.id = c.version_id and v.nct_id = c.nct_id)`,
    duplicateChangeRows: `select 1 from ctgov.field_changes
        group by nct_id, path, kind, old_value, new_value, version_id having count(*) > 1`,
    duplicateAddedPaths: `select 1 from ctgov.field_changes where kind = 'added' and old_value is null and path <> 'study'
        group by nct_id, path, new_value, version_id having count(*) > 1`,
    versionsWithoutStudy: `select 1 from ctgov.study_versions v where not exists (select 1 from ctgov.studies s where s.nct_id = v.nct_id)`,
    // A version from CT.gov's record history may equal a live one: two observations, not a duplicate.
    duplicateVersions: `select 1 from ctgov.study_versions group by nct_id, content_hash, ct_version having count(*) > 1`,
    // History and child tables have no foreign keys (written only with their study): checked here.
    changeRowsWithoutStudy: `select 1 from ctgov.field_changes c where not exists (select 1 from ctgov.studies s where s.nct_id = c.nct_id)`,
    childRowsWithoutStudy: CHILD_TABLES.map(
      (t) => `select 1 from ctgov.${t} c where not exists (select 1 from ctgov.studies s where s.nct_id = c.nct_id)`,
    ).join(' union all '),
  };
  const out: Record<string, number> = {};
  for (const [name, sql] of Object.entries(checks)) {
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from (${sql}) q`);
    out[name] = rows[0]!.n;
  }
  return out;
}

export const NO_PROBLEMS = {
  studiesWithoutCurrentVersion: 0,
  studiesWithoutChangeRows: 0,
  changeRowsWithoutVersion: 0,
  duplicateChangeRows: 0,
  duplicateAddedPaths: 0,
  versionsWithoutStudy: 0,
  changeRowsWithoutStudy: 0,
  childRowsWithoutStudy: 0,
  duplicateVersions: 0,
};
