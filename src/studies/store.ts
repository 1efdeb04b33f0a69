import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import { idRange, type NctId } from '../ctgov/nctId.js';
import { addRunCounts } from '../sql/runs.js';
import type { TrackSource } from '../sql/tracking.js';
import { STUDY_PRESENCE_PATH, type FieldChange, type Study } from './model.js';
import { CHILD_TABLES, toChildRows, toStudyRow, type ChildRows } from './studyRows.js';
import { enqueueDeliveries } from '../webhooks/enqueueDeliveries.js';
import type { WebhookMatch } from '../webhooks/hookMatch.js';

/**
 * A study to write as a new version: normalized, with its content hash, its raw record's JSON
 * text and that record's raw hash. The version is stored from the text, so the parsed record
 * is not kept.
 */
export interface StudyToWrite {
  study: Study;
  hash: string;
  /**
   * The raw record's JSON text: as the source sent it (a page's or a file's UTF-8 bytes, kept as
   * they came rather than decoded into a string only to be encoded again), else serialised once.
   */
  rawJson: string | Buffer;
  /** rawRecordHash of the raw record. */
  rawHash: string;
}

/**
 * The stored raw hashes of these studies (those present and not removed), read before a batch's
 * transaction: a record whose hash is among them can skip validation, normalization and diff.
 */
export async function loadRawHashes(pool: pg.Pool, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await pool.query<{ nct_id: string; raw_hash: string }>(
    'select nct_id, raw_hash from ctgov.studies where nct_id = any($1::text[]) and removed_at is null and raw_hash is not null',
    [ids],
  );
  return new Map(rows.map((r) => [r.nct_id, r.raw_hash]));
}

export interface StoreContext {
  runId: number;
  observedAt: Date;
  /** Adds the stored studies to tracked_studies (if not tracked yet) with this source. */
  track?: { source: TrackSource; reason: string | null };
  /** Configured webhooks: the changes written get their outbox rows in the same transaction. */
  webhooks?: readonly WebhookMatch[];
}

/** What is stored of a study before the batch writes it. */
export interface StoredState {
  nct_id: NctId;
  content_hash: string;
  raw_hash: string | null;
  mirrored_hash: string | null;
  removed_at: Date | null;
}

/**
 * Per-study locks until the transaction ends, taken in NCT ID order (no deadlock between two
 * writers): re-running a batch, or two runners racing, never writes a change twice.
 */
export async function lockStudies(client: pg.ClientBase, ids: readonly NctId[]): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtextextended(id, 7311)) from unnest($1::text[]) as id order by id', [ids]);
}

export async function selectStoredStates(client: pg.ClientBase, ids: readonly NctId[]): Promise<Map<NctId, StoredState>> {
  const { rows } = await client.query<StoredState>(
    'select nct_id, content_hash, raw_hash, mirrored_hash, removed_at from ctgov.studies where nct_id = any($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.nct_id, r]));
}

/** The raw record of each study's current version. */
export async function selectCurrentRaw(client: pg.ClientBase, ids: readonly NctId[]): Promise<Map<NctId, unknown>> {
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<{ nct_id: NctId; raw: unknown }>(
    `select s.nct_id, v.raw
       from ctgov.studies s
       join ctgov.study_versions v on v.id = s.current_version_id
      where s.nct_id = any($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.nct_id, r.raw]));
}

/** Unchanged studies: seen again now, and so is their current version. */
export async function touchUnchanged(client: pg.ClientBase, ids: readonly NctId[], observedAt: Date): Promise<void> {
  if (ids.length === 0) return;
  await client.query(
    `with s as (
       update ctgov.studies set last_seen_at = greatest(last_seen_at, $2)
        where nct_id = any($1::text[])
       returning current_version_id
     )
     update ctgov.study_versions v set last_seen_at = greatest(v.last_seen_at, $2)
       from s where v.id = s.current_version_id`,
    [ids, observedAt],
  );
}

/** New content and raw hashes for studies whose content did not change (no new version). */
export async function updateHashes(
  client: pg.ClientBase,
  hashes: ReadonlyArray<{ id: NctId; hash: string; rawHash: string | null }>,
): Promise<void> {
  if (hashes.length === 0) return;
  await client.query(
    `update ctgov.studies s set content_hash = x.hash, raw_hash = x.raw_hash
       from unnest($1::text[], $2::text[], $3::text[]) as x(id, hash, raw_hash) where s.nct_id = x.id`,
    [hashes.map((r) => r.id), hashes.map((r) => r.hash), hashes.map((r) => r.rawHash)],
  );
}

/**
 * Records that the mirror pages of these studies were written for these content hashes. Run
 * after the pages are written, outside the batch's transaction; a lost update only costs a
 * page export again at the next sync.
 */
export async function markMirrored(client: pg.ClientBase, hashes: ReadonlyMap<NctId, string>): Promise<void> {
  const ids = [...hashes.keys()].sort();
  if (ids.length === 0) return;
  await client.query(
    `update ctgov.studies s set mirrored_hash = x.hash
       from unnest($1::text[], $2::text[]) as x(id, hash)
      where s.nct_id = x.id and s.mirrored_hash is distinct from x.hash`,
    [ids, ids.map((id) => hashes.get(id)!)],
  );
}

/**
 * Limits of one statement's payload for the large writes (raw versions, change rows): a batch
 * holds only a slice of it in memory at once, and a slice of MB-sized records stays far below
 * jsonb's 256 MB ceiling.
 */
const SLICE_STUDIES = 50;
const SLICE_BYTES = 16 * 2 ** 20;

/**
 * New and changed studies: their `studies` row, a version with the raw record, their child
 * rows, and one field_changes row per changed path. Returns the number of change rows.
 * `previous` is a changed study's stored state (normalized by today's rules): its child tables
 * whose rows come out the same are left as they are.
 */
export async function writeStudies(
  client: pg.ClientBase,
  ctx: StoreContext,
  items: ReadonlyArray<{ obs: StudyToWrite; changes: FieldChange[]; previous?: Study }>,
): Promise<number> {
  const studyRows = items.map(({ obs }) => ({ ...toStudyRow(obs.study), content_hash: obs.hash, raw_hash: obs.rawHash }));
  await client.query(UPSERT_STUDIES, [jsonbParam(studyRows), ctx.observedAt]);
  const lastUpdate = new Map(studyRows.map((r) => [r.nct_id, r.last_update_post_date]));

  const versionOf = new Map<string, number>();
  const versionElement = ({ obs }: (typeof items)[number]): Array<string | Buffer> => [
    `{"nct_id":${JSON.stringify(obs.study.nctId)},"content_hash":${JSON.stringify(obs.hash)},` +
      `"ct_last_update_post_date":${JSON.stringify(lastUpdate.get(obs.study.nctId) ?? null)},"raw":`,
    obs.rawJson,
    '}',
  ];
  for (const slice of jsonbSlices(items, versionElement)) {
    const { rows } = await client.query<{ id: number; nct_id: NctId }>(INSERT_VERSIONS, [slice, ctx.observedAt, ctx.runId]);
    for (const v of rows) versionOf.set(v.nct_id, v.id);
  }

  await replaceChildRows(client, items.map((i) => ({ id: i.obs.study.nctId, rows: toChildRows(i.obs.study), ...(i.previous ? { previous: toChildRows(i.previous) } : {}) })));

  // One element per study, its changes as they are (FieldChange serialises to the keys the
  // statement reads): the study's columns are written once, not once per change row.
  const studyChanges = ({ obs, changes }: (typeof items)[number]) =>
    `{"nct_id":${JSON.stringify(obs.study.nctId)},"version_id":${versionOf.get(obs.study.nctId) ?? null},` +
    `"ct_last_update_post_date":${JSON.stringify(lastUpdate.get(obs.study.nctId) ?? null)},"changes":${JSON.stringify(changes)}}`;
  for (const slice of jsonbSlices(items.filter((i) => i.changes.length > 0), (i) => [studyChanges(i)])) {
    await client.query(INSERT_CHANGES, [slice, ctx.observedAt, ctx.runId]);
  }
  return items.reduce((n, i) => n + i.changes.length, 0);
}

/**
 * JSON arrays of the items' elements as jsonb parameters in binary format, at most SLICE_STUDIES
 * elements or about SLICE_BYTES each: an element's parts are strings or bytes (a raw record as it
 * came), copied once into the statement's parameter, and an element is made only when its slice
 * is. jsonb's binary format is a version byte (1) and the JSON text's UTF-8 bytes; node-pg sends a
 * Buffer parameter in binary format. Sent so, the text is neither measured nor encoded again by
 * the driver, and Postgres parses it once, as it binds the parameter. (A `text` parameter cast to
 * jsonb in the statement instead is folded into a constant while planning, at twice the server's
 * CPU for the same payload.)
 */
function* jsonbSlices<T>(items: readonly T[], element: (item: T) => Array<string | Buffer>): Generator<Buffer> {
  let parts: Buffer[] = [JSONB_VERSION, OPEN_BRACKET];
  let count = 0;
  let bytes = 0;
  for (const item of items) {
    if (count > 0) parts.push(COMMA);
    for (const part of element(item)) {
      const buf = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      parts.push(buf);
      bytes += buf.length;
    }
    if (++count >= SLICE_STUDIES || bytes >= SLICE_BYTES) {
      parts.push(CLOSE_BRACKET);
      yield Buffer.concat(parts);
      parts = [JSONB_VERSION, OPEN_BRACKET];
      count = 0;
      bytes = 0;
    }
  }
  if (count > 0) {
    parts.push(CLOSE_BRACKET);
    yield Buffer.concat(parts);
  }
}

/** A value as a jsonb parameter in binary format (see jsonbSlices). */
function jsonbParam(value: unknown): Buffer {
  return Buffer.concat([JSONB_VERSION, Buffer.from(JSON.stringify(value), 'utf8')]);
}
const JSONB_VERSION = Buffer.from([1]);
const OPEN_BRACKET = Buffer.from('[');
const CLOSE_BRACKET = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * Replaces the child rows of the written studies, new ones included: child tables have no
 * foreign key (see migration 0006), so rows left by a study deleted by hand would otherwise
 * collide with its next import. A changed study's table is skipped when its rows are those of
 * its previous state (a new status or date touches no child table; a site added, one).
 */
async function replaceChildRows(client: pg.ClientBase, studies: ReadonlyArray<{ id: NctId; rows: ChildRows; previous?: ChildRows }>): Promise<void> {
  for (const table of CHILD_TABLES) {
    const replaced = studies.filter((s) => !s.previous || !isDeepStrictEqual(s.previous[table], s.rows[table]));
    if (replaced.length === 0) continue;
    const ids = replaced.map((s) => s.id);
    await client.query(CHILD_DELETES[table], [ids, ...idRange(ids)]);
    const rows = replaced.flatMap((s) => s.rows[table] as object[]);
    if (rows.length > 0) await client.query(CHILD_INSERTS[table], [jsonbParam(rows)]);
  }
}

/**
 * Records studies that CT.gov no longer returns: a `removed` change on path `study` and
 * `removed_at`, once (a study already marked removed is left alone).
 */
export async function markRemoved(client: pg.ClientBase, ctx: StoreContext, ids: NctId[]): Promise<NctId[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<{ nct_id: NctId }>(
    `with r as (
       update ctgov.studies set removed_at = $2, last_changed_at = $2
        where nct_id = any($1::text[]) and removed_at is null
       returning nct_id, current_version_id, last_update_post_date
     ), c as (
       insert into ctgov.field_changes (nct_id, path, kind, old_value, new_value, detected_at, run_id, version_id, ct_last_update_post_date)
       select nct_id, $4, 'removed', 'true'::jsonb, null, $2, $3, current_version_id, last_update_post_date from r
     )
     select nct_id from r order by nct_id`,
    [ids, ctx.observedAt, ctx.runId, STUDY_PRESENCE_PATH],
  );
  await addRunCounts(client, ctx.runId, { removed: rows.length });
  // Webhook outbox, committed with the `removed` rows it carries (src/webhooks/).
  if (ctx.webhooks && rows.length > 0) await enqueueDeliveries(client, ctx.runId, rows.map((r) => r.nct_id), ctx.webhooks);
  return rows.map((r) => r.nct_id);
}

/** Remembers the IDs CT.gov merged into another study (the alias now points at the latest). */
export async function upsertAliases(
  client: pg.ClientBase,
  aliases: ReadonlyArray<{ requested: NctId; canonical: NctId }>,
  at: Date,
): Promise<void> {
  if (aliases.length === 0) return;
  await client.query(
    `insert into ctgov.study_aliases (alias, nct_id, first_seen_at)
     select a, c, $3 from unnest($1::text[], $2::text[]) as x(a, c)
     on conflict (alias) do update set nct_id = excluded.nct_id`,
    [aliases.map((a) => a.requested), aliases.map((a) => a.canonical), at],
  );
}

/** Those of `ids` that were never stored. */
export async function selectUnstoredIds(client: pg.ClientBase, ids: readonly NctId[]): Promise<NctId[]> {
  const { rows } = await client.query<{ id: NctId }>(
    'select id from unnest($1::text[]) as id where not exists (select 1 from ctgov.studies s where s.nct_id = id)',
    [ids],
  );
  return rows.map((r) => r.id);
}

const UPSERT_STUDIES = `
insert into ctgov.studies (
  nct_id, brief_title, official_title, acronym, overall_status, last_known_status, why_stopped, study_type, phases,
  enrollment_count, enrollment_type, lead_sponsor, lead_sponsor_class, start_date, start_date_sort,
  primary_completion_date, primary_completion_date_sort, completion_date, completion_date_sort,
  study_first_post_date, last_update_post_date, results_first_post_date, has_results, content_hash, raw_hash,
  first_seen_at, last_seen_at, last_changed_at)
select r.nct_id, r.brief_title, r.official_title, r.acronym, r.overall_status, r.last_known_status, r.why_stopped, r.study_type,
       coalesce(r.phases, '{}'), r.enrollment_count, r.enrollment_type, r.lead_sponsor, r.lead_sponsor_class, r.start_date,
       r.start_date_sort, r.primary_completion_date, r.primary_completion_date_sort, r.completion_date, r.completion_date_sort,
       r.study_first_post_date, r.last_update_post_date, r.results_first_post_date, r.has_results, r.content_hash, r.raw_hash, $2, $2, $2
  from jsonb_to_recordset($1::jsonb) as r(
       nct_id text, brief_title text, official_title text, acronym text, overall_status text, last_known_status text,
       why_stopped text, study_type text, phases text[], enrollment_count integer, enrollment_type text, lead_sponsor text,
       lead_sponsor_class text, start_date text, start_date_sort date, primary_completion_date text,
       primary_completion_date_sort date, completion_date text, completion_date_sort date, study_first_post_date date,
       last_update_post_date date, results_first_post_date date, has_results boolean, content_hash text, raw_hash text)
on conflict (nct_id) do update set
  brief_title = excluded.brief_title, official_title = excluded.official_title, acronym = excluded.acronym,
  overall_status = excluded.overall_status, last_known_status = excluded.last_known_status,
  why_stopped = excluded.why_stopped, study_type = excluded.study_type, phases = excluded.phases,
  enrollment_count = excluded.enrollment_count, enrollment_type = excluded.enrollment_type,
  lead_sponsor = excluded.lead_sponsor, lead_sponsor_class = excluded.lead_sponsor_class,
  start_date = excluded.start_date, start_date_sort = excluded.start_date_sort,
  primary_completion_date = excluded.primary_completion_date,
  primary_completion_date_sort = excluded.primary_completion_date_sort,
  completion_date = excluded.completion_date, completion_date_sort = excluded.completion_date_sort,
  study_first_post_date = excluded.study_first_post_date, last_update_post_date = excluded.last_update_post_date,
  results_first_post_date = excluded.results_first_post_date, has_results = excluded.has_results,
  content_hash = excluded.content_hash, raw_hash = excluded.raw_hash,
  last_seen_at = greatest(studies.last_seen_at, excluded.last_seen_at),
  last_changed_at = excluded.last_changed_at,
  removed_at = null`;

// One jsonb parse of the payload (the raw records come out of it already as jsonb): cheaper than
// json_to_recordset, which validates the JSON text and then parses each raw record again. The
// payload is jsonb in binary format (jsonbSlices).
const INSERT_VERSIONS = `
with v as (
  insert into ctgov.study_versions (nct_id, content_hash, raw, ct_last_update_post_date, first_seen_at, last_seen_at, run_id)
  select e->>'nct_id', e->>'content_hash', e->'raw', (e->>'ct_last_update_post_date')::date, $2, $2, $3
    from jsonb_array_elements($1::jsonb) as e
  returning id, nct_id
), s as (
  update ctgov.studies s set current_version_id = v.id from v where s.nct_id = v.nct_id
)
select id, nct_id from v`;

// JSON null (an absent side of an added or removed path) is SQL NULL, as json_to_recordset made it.
const INSERT_CHANGES = `
insert into ctgov.field_changes (nct_id, path, kind, old_value, new_value, detected_at, run_id, version_id, ct_last_update_post_date)
select s->>'nct_id', c->>'path', c->>'kind', nullif(c->'oldValue', 'null'), nullif(c->'newValue', 'null'), $2, $3,
       (s->>'version_id')::bigint, (s->>'ct_last_update_post_date')::date
  from jsonb_array_elements($1::jsonb) as s, jsonb_array_elements(s->'changes') as c`;

const CHILD_INSERTS: Record<(typeof CHILD_TABLES)[number], string> = {
  conditions: childInsert('conditions', 'nct_id text, ordinal integer, name text, downcase_name text'),
  keywords: childInsert('keywords', 'nct_id text, ordinal integer, name text'),
  sponsors: childInsert('sponsors', 'nct_id text, ordinal integer, role text, name text, agency_class text'),
  arms: childInsert('arms', 'nct_id text, ordinal integer, label text, type text, description text, intervention_names text[]'),
  interventions: childInsert(
    'interventions',
    'nct_id text, ordinal integer, type text, name text, description text, arm_group_labels text[], other_names text[]',
  ),
  outcomes: childInsert('outcomes', 'nct_id text, ordinal integer, kind text, measure text, description text, time_frame text'),
  locations: childInsert(
    'locations',
    'nct_id text, location_key text, facility text, status text, city text, state text, zip text, country text, latitude double precision, longitude double precision',
  ),
  officials: childInsert('officials', 'nct_id text, ordinal integer, name text, affiliation text, role text'),
  study_references: childInsert('study_references', 'nct_id text, ordinal integer, pmid text, type text, citation text'),
  secondary_ids: childInsert('secondary_ids', 'nct_id text, ordinal integer, secondary_id text, type text, domain text, link text'),
  mesh_terms: childInsert('mesh_terms', 'nct_id text, ordinal integer, kind text, mesh_id text, term text, is_ancestor boolean'),
};

/**
 * Deletes a study's rows of one child table, the IDs bounded by their range (idRange): without
 * it, a never-analyzed table was scanned whole for each batch, and a first load's cost per study
 * grew with the table; with it, the primary key is used. With statistics it changes nothing.
 */
const CHILD_DELETES = Object.fromEntries(
  // Table names come from the constant list, never from input.
  CHILD_TABLES.map((table) => [table, `delete from ctgov.${table} where nct_id = any($1::text[]) and nct_id between $2 and $3`]),
) as Record<(typeof CHILD_TABLES)[number], string>;

export const childDeleteStatement = (table: (typeof CHILD_TABLES)[number]): string => CHILD_DELETES[table];

function childInsert(table: string, columns: string): string {
  const names = columns.split(',').map((c) => c.trim().split(' ')[0]).join(', ');
  return `insert into ctgov.${table} (${names}) select ${names} from jsonb_to_recordset($1::jsonb) as r(${columns})`;
}
