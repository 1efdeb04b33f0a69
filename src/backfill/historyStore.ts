import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import type { FieldChange } from '../studies/model.js';
import type { BuiltHistory } from './buildHistory.js';

/** The first live observation of a study: its version and when and by which run it was seen. */
export interface FirstLive {
  versionId: number;
  raw: unknown;
  seenAt: Date;
  runId: number | null;
  postDate: string | null;
}

export interface BackfillState {
  versionsListed: number;
  versionsUsed: number;
  lastUsedVersion: number | null;
  lastUsedDate: string | null;
}

export interface StoredHistoryVersion {
  version: number;
  date: string;
  raw: unknown;
  postDate: string | null;
}

/** What a backfill reads before fetching: undefined when the study was never stored by a sync. */
export interface StudyBase {
  firstLive: FirstLive;
  state: BackfillState | undefined;
}

export async function loadStudyBase(pool: pg.Pool, id: NctId): Promise<StudyBase | undefined> {
  const [live, state] = await Promise.all([
    pool.query<{ id: string; raw: unknown; first_seen_at: Date; run_id: string | null; post_date: string | null }>(
      `select id, raw, first_seen_at, run_id, to_char(ct_last_update_post_date, 'YYYY-MM-DD') as post_date
         from ctgov.study_versions
        where nct_id = $1 and ct_version is null
        order by first_seen_at, id
        limit 1`,
      [id],
    ),
    pool.query<{ versions_listed: number; versions_used: number; last_used_version: number | null; last_used_date: string | null }>(
      `select versions_listed, versions_used, last_used_version, to_char(last_used_date, 'YYYY-MM-DD') as last_used_date
         from ctgov.history_backfills where nct_id = $1`,
      [id],
    ),
  ]);
  const v = live.rows[0];
  if (!v) return undefined;
  const s = state.rows[0];
  return {
    firstLive: { versionId: Number(v.id), raw: v.raw, seenAt: v.first_seen_at, runId: v.run_id === null ? null : Number(v.run_id), postDate: v.post_date },
    state: s && {
      versionsListed: s.versions_listed,
      versionsUsed: s.versions_used,
      lastUsedVersion: s.last_used_version,
      lastUsedDate: s.last_used_date,
    },
  };
}

/** The history versions stored by earlier backfills (already in v2 form). */
export async function loadStoredHistory(pool: pg.Pool, id: NctId): Promise<StoredHistoryVersion[]> {
  const { rows } = await pool.query<{ ct_version: number; date: string; raw: unknown; post_date: string | null }>(
    `select ct_version, to_char(ct_version_date, 'YYYY-MM-DD') as date, raw, to_char(ct_last_update_post_date, 'YYYY-MM-DD') as post_date
       from ctgov.study_versions where nct_id = $1 and ct_version is not null order by ct_version`,
    [id],
  );
  return rows.map((r) => ({ version: r.ct_version, date: r.date, raw: r.raw, postDate: r.post_date }));
}

export interface RebuildInput {
  nctId: NctId;
  runId: number;
  firstLive: FirstLive;
  built: BuiltHistory;
  state: BackfillState;
  at: Date;
}

/**
 * Replaces a study's history inside the caller's transaction, under the same per-study lock as
 * a sync's store (so a sync of the study waits, and the other way round): the history versions
 * and their change rows, and the rows of the first live observation (its `added` rows, or the
 * bridge an earlier backfill wrote in their place) by the bridge from the newest history
 * version. Live rows after the first observation are left as they are. Returns the number of
 * change rows written.
 */
export async function rebuildStudyHistory(client: pg.ClientBase, input: RebuildInput): Promise<number> {
  const { nctId, firstLive, built } = input;
  await client.query('select pg_advisory_xact_lock(hashtextextended($1, 7311))', [nctId]);
  await client.query(`delete from ctgov.field_changes where nct_id = $1 and source = 'history'`, [nctId]);
  await client.query(
    `delete from ctgov.field_changes
      where nct_id = $1 and source = 'live' and version_id = $2 and run_id is not distinct from $3
        and detected_at = $4 and path <> 'study'`,
    [nctId, firstLive.versionId, firstLive.runId, firstLive.seenAt],
  );
  await client.query('delete from ctgov.study_versions where nct_id = $1 and ct_version is not null', [nctId]);

  // One study_versions row per distinct content, as a sync stores them.
  const stored: Array<(typeof built.versions)[number]> = [];
  for (const v of built.versions) if (stored[stored.length - 1]?.hash !== v.hash) stored.push(v);
  const versionIds = new Map<number, number>();
  for (const v of stored) {
    const { rows } = await client.query<{ id: string }>(
      `insert into ctgov.study_versions (nct_id, content_hash, raw, ct_last_update_post_date, first_seen_at, last_seen_at, run_id, ct_version, ct_version_date)
       values ($1, $2, $3::jsonb, $4, $5, $5, $6, $7, $8) returning id`,
      [nctId, v.hash, JSON.stringify(v.raw), v.postDate, dayStart(v.date), input.runId, v.version, v.date],
    );
    versionIds.set(v.version, Number(rows[0]!.id));
  }

  const rows: object[] = [];
  let versionId: number | undefined;
  for (const v of built.versions) {
    versionId = versionIds.get(v.version) ?? versionId;
    for (const c of v.changes) rows.push(changeRow(nctId, c, dayStart(v.date), input.runId, versionId ?? null, v.postDate, 'history', v.version));
  }
  for (const c of built.bridge) rows.push(changeRow(nctId, c, firstLive.seenAt, firstLive.runId, firstLive.versionId, firstLive.postDate, 'live', null));
  if (rows.length > 0) await client.query(INSERT_CHANGES, [JSON.stringify(rows)]);

  // The page must be rendered again (its recent changes and first sighting moved): until it is,
  // mirrored_hash says so, and a later backfill or sync writes it if this process dies first.
  const first = built.versions[0];
  await client.query('update ctgov.studies set first_seen_at = least(first_seen_at, $2), mirrored_hash = null where nct_id = $1', [
    nctId,
    first ? dayStart(first.date) : null,
  ]);
  await client.query(
    `insert into ctgov.history_backfills (nct_id, versions_listed, versions_used, last_used_version, last_used_date, history_rows, backfilled_at, run_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (nct_id) do update set
       versions_listed = excluded.versions_listed, versions_used = excluded.versions_used,
       last_used_version = excluded.last_used_version, last_used_date = excluded.last_used_date,
       history_rows = excluded.history_rows, backfilled_at = excluded.backfilled_at, run_id = excluded.run_id`,
    [nctId, input.state.versionsListed, input.state.versionsUsed, input.state.lastUsedVersion, input.state.lastUsedDate, rows.length, input.at, input.runId],
  );
  return rows.length;
}

/** Records a study whose index lists no version: nothing to rebuild, and nothing to fetch again. */
export async function recordEmptyHistory(client: pg.ClientBase, nctId: NctId, runId: number, at: Date): Promise<void> {
  await client.query(
    `insert into ctgov.history_backfills (nct_id, versions_listed, versions_used, history_rows, backfilled_at, run_id)
     values ($1, 0, 0, 0, $2, $3)
     on conflict (nct_id) do update set versions_listed = 0, backfilled_at = excluded.backfilled_at, run_id = excluded.run_id`,
    [nctId, at, runId],
  );
}

/** A history version's changes are dated at the start (UTC) of the version's date. */
export function dayStart(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

function changeRow(
  nctId: NctId,
  c: FieldChange,
  detectedAt: Date,
  runId: number | null,
  versionId: number | null,
  postDate: string | null,
  source: 'live' | 'history',
  ctVersion: number | null,
): object {
  return {
    nct_id: nctId,
    path: c.path,
    kind: c.kind,
    old_value: c.oldValue,
    new_value: c.newValue,
    detected_at: detectedAt.toISOString(),
    run_id: runId,
    version_id: versionId,
    ct_last_update_post_date: postDate,
    source,
    ct_version: ctVersion,
  };
}

// As the sync's insert: JSON null (the absent side of an added or removed path) is SQL NULL.
const INSERT_CHANGES = `
insert into ctgov.field_changes (nct_id, path, kind, old_value, new_value, detected_at, run_id, version_id, ct_last_update_post_date, source, ct_version)
select e->>'nct_id', e->>'path', e->>'kind', nullif(e->'old_value', 'null'), nullif(e->'new_value', 'null'),
       (e->>'detected_at')::timestamptz, (e->>'run_id')::bigint, (e->>'version_id')::bigint,
       (e->>'ct_last_update_post_date')::date, e->>'source', (e->>'ct_version')::integer
  from jsonb_array_elements($1::jsonb) as e`;

/**
 * Backfilled studies whose page has not been rendered since (see rebuildStudyHistory), with the
 * content hash the page will be written for.
 */
export async function pagesPending(pool: pg.Pool, ids: readonly NctId[]): Promise<Map<NctId, string>> {
  const { rows } = await pool.query<{ nct_id: NctId; content_hash: string }>(
    `select s.nct_id, s.content_hash
       from ctgov.studies s
      where s.nct_id = any($1::text[])
         or (s.mirrored_hash is null and exists (select 1 from ctgov.history_backfills b where b.nct_id = s.nct_id))
      order by s.nct_id`,
    [ids],
  );
  return new Map(rows.map((r) => [r.nct_id, r.content_hash]));
}
