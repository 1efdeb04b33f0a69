import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { validateCtgovStudy } from '../ctgov/schema.js';
import { diffStudies } from './diff.js';
import { STUDY_PRESENCE_PATH, type FieldChange, type Study } from './model.js';
import { normalizeValidated } from './normalize.js';
import { CHILD_TABLES, toChildRows, toStudyRow, type ChildRows } from './studyRows.js';
import { enqueueDeliveries } from '../webhooks/enqueueDeliveries.js';
import type { WebhookMatch } from '../webhooks/hookMatch.js';

/**
 * One study as fetched. A full observation carries its normalized form and content hash; a
 * quick one only its raw hash, because before the transaction its raw record matched the
 * stored `raw_hash` (so it is unchanged); storeBatch checks that again under the study's lock.
 */
export type Observation = FullObservation | QuickObservation;

interface ObservationBase {
  nctId: NctId;
  raw: unknown;
  /** The raw record's JSON text, when the source had it; see observationJson. */
  rawJson?: string;
  /** rawRecordHash of the raw record; undefined when it could not be computed. */
  rawHash: string | undefined;
}

export interface FullObservation extends ObservationBase {
  kind: 'full';
  study: Study;
  hash: string;
}

export interface QuickObservation extends ObservationBase {
  kind: 'quick';
  rawHash: string;
}

/** The raw record as JSON text: serialised when needed (most observations never need it), not kept. */
export function observationJson(o: Observation): string {
  return o.rawJson ?? JSON.stringify(o.raw);
}

/**
 * Quick observations whose stored raw hash moved between the check before the transaction and
 * the one under lock (another writer stored the study meanwhile): they must take the full path.
 * Thrown before anything is written; the caller prepares them in full and stores the batch again.
 */
export class StaleObservationError extends Error {
  constructor(readonly nctIds: ReadonlySet<NctId>) {
    super(`stored raw hash moved for ${nctIds.size} study(ies) during the batch`);
  }
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

export interface FailureRecord {
  nctId: string | null;
  stage: 'fetch' | 'parse' | 'validate' | 'normalize' | 'store' | 'export';
  error: string;
  payloadExcerpt: string | null;
}

export interface StoreContext {
  runId: number;
  observedAt: Date;
  /** Adds the stored studies to tracked_studies (if not tracked yet) with this source. */
  track?: { source: 'config' | 'cli' | 'query' | 'import' | 'resync'; reason: string | null };
  /** Configured webhooks: the changes written get their outbox rows in the same transaction. */
  webhooks?: readonly WebhookMatch[];
}

export interface StoreResult {
  inserted: NctId[];
  changed: NctId[];
  unchanged: NctId[];
  changeRows: number;
  /** Unchanged studies whose mirror page was not written for their current content (see mirrored_hash). */
  unmirrored: NctId[];
  /** The content hash now stored for each inserted, changed and unmirrored study. */
  contentHashes: Map<NctId, string>;
}

interface ExistingRow {
  nct_id: NctId;
  content_hash: string;
  raw_hash: string | null;
  mirrored_hash: string | null;
  removed_at: Date | null;
}

/**
 * Stores one batch inside the caller's transaction: each study is compared with its stored
 * state under a per-study lock, so re-running a batch (or two runners racing) never writes a
 * change twice. Unchanged studies only move `last_seen_at`; new and changed ones get a version,
 * their `studies` row and child tables, and one field_changes row per changed path.
 */
export async function storeBatch(
  client: pg.ClientBase,
  ctx: StoreContext,
  observations: Observation[],
  failures: FailureRecord[] = [],
): Promise<StoreResult> {
  const byId = new Map<NctId, Observation>();
  for (const o of observations) byId.set(o.nctId, o); // the last copy of a duplicate wins
  const ids = [...byId.keys()].sort();
  const result: StoreResult = { inserted: [], changed: [], unchanged: [], changeRows: 0, unmirrored: [], contentHashes: new Map() };

  if (ids.length > 0) {
    await client.query('select pg_advisory_xact_lock(hashtextextended(id, 7311)) from unnest($1::text[]) as id order by id', [ids]);
    const existing = await selectExisting(client, ids);
    const stale = new Set(ids.filter((id) => !quickStillHolds(byId.get(id)!, existing.get(id))));
    if (stale.size > 0) throw new StaleObservationError(stale);
    const candidates = ids.filter((id) => {
      const o = byId.get(id)!;
      return o.kind === 'full' && existing.get(id)?.content_hash !== o.hash;
    });
    const previous = await loadPreviousStudies(client, candidates.filter((id) => existing.has(id)));

    const toWrite: Array<{ obs: FullObservation; changes: FieldChange[] }> = [];
    const rehash: Array<{ id: NctId; hash: string; rawHash: string | null }> = [];
    for (const id of ids) {
      const obs = byId.get(id)!;
      const row = existing.get(id);
      if (obs.kind === 'quick') {
        result.unchanged.push(id);
        if (row!.mirrored_hash !== row!.content_hash) note(result, 'unmirrored', id, row!.content_hash);
        continue;
      }
      const changes = row?.content_hash === obs.hash ? [] : diffStudies(previous.get(id), obs.study);
      if (row?.removed_at) changes.unshift({ path: STUDY_PRESENCE_PATH, kind: 'added', oldValue: null, newValue: true });
      if (!row) note(result, 'inserted', id, obs.hash);
      else if (changes.length > 0) note(result, 'changed', id, obs.hash);
      else {
        result.unchanged.push(id);
        if (row.mirrored_hash !== obs.hash) note(result, 'unmirrored', id, obs.hash);
      }
      if (changes.length > 0 || !row) toWrite.push({ obs, changes });
      // Same content under another hash (the normalization grew) or other bytes (lists
      // reordered): adopt the new hashes, no version; the next identical record is then quick.
      else if (row.content_hash !== obs.hash || row.raw_hash !== (obs.rawHash ?? null)) {
        rehash.push({ id, hash: obs.hash, rawHash: obs.rawHash ?? null });
      }
    }

    await touchUnchanged(client, result.unchanged, ctx.observedAt);
    if (rehash.length > 0) {
      await client.query(
        `update ctgov.studies s set content_hash = x.hash, raw_hash = x.raw_hash
           from unnest($1::text[], $2::text[], $3::text[]) as x(id, hash, raw_hash) where s.nct_id = x.id`,
        [rehash.map((r) => r.id), rehash.map((r) => r.hash), rehash.map((r) => r.rawHash)],
      );
    }
    if (toWrite.length > 0) result.changeRows = await writeStudies(client, ctx, toWrite);
    // Webhook outbox, committed with the change rows it carries (src/webhooks/).
    if (ctx.webhooks && result.changeRows > 0) await enqueueDeliveries(client, ctx.runId, toWrite.map((w) => w.obs.nctId), ctx.webhooks);
    if (ctx.track) await trackStudies(client, ids, ctx.track);
  }

  if (failures.length > 0) await insertFailures(client, ctx.runId, failures);
  await client.query(
    `update ctgov.sync_runs
        set fetched = fetched + $2, inserted = inserted + $3, changed = changed + $4,
            unchanged = unchanged + $5, failed = failed + $6
      where id = $1`,
    [ctx.runId, ids.length, result.inserted.length, result.changed.length, result.unchanged.length, failures.length],
  );
  return result;
}

function note(result: StoreResult, list: 'inserted' | 'changed' | 'unmirrored', id: NctId, hash: string): void {
  result[list].push(id);
  result.contentHashes.set(id, hash);
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

/** A quick observation is still unchanged under the lock: present, not removed, same raw hash. */
function quickStillHolds(o: Observation, row: ExistingRow | undefined): boolean {
  return o.kind === 'full' || (row !== undefined && row.removed_at === null && row.raw_hash === o.rawHash);
}

async function selectExisting(client: pg.ClientBase, ids: NctId[]): Promise<Map<NctId, ExistingRow>> {
  const { rows } = await client.query<ExistingRow>(
    'select nct_id, content_hash, raw_hash, mirrored_hash, removed_at from ctgov.studies where nct_id = any($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.nct_id, r]));
}

/** The stored state to diff against: the current raw version, normalized by today's rules. */
async function loadPreviousStudies(client: pg.ClientBase, ids: NctId[]): Promise<Map<NctId, Study>> {
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<{ nct_id: NctId; raw: unknown }>(
    `select s.nct_id, v.raw
       from ctgov.studies s
       join ctgov.study_versions v on v.id = s.current_version_id
      where s.nct_id = any($1::text[])`,
    [ids],
  );
  // The same validate → normalize path as a fresh record, so both sides are read alike.
  return new Map(rows.map((r) => [r.nct_id, normalizeValidated(validateCtgovStudy(r.raw))]));
}

async function touchUnchanged(client: pg.ClientBase, ids: NctId[], observedAt: Date): Promise<void> {
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

/**
 * Limits of one statement's payload for the large writes (raw versions, change rows): a batch
 * holds only a slice of it in memory at once, and a slice of MB-sized records stays far below
 * jsonb's 256 MB ceiling.
 */
const SLICE_STUDIES = 50;
const SLICE_CHARS = 16 * 2 ** 20;

async function writeStudies(
  client: pg.ClientBase,
  ctx: StoreContext,
  items: Array<{ obs: FullObservation; changes: FieldChange[] }>,
): Promise<number> {
  const ids = items.map((i) => i.obs.study.nctId);
  const studyRows = items.map(({ obs }) => ({ ...toStudyRow(obs.study), content_hash: obs.hash, raw_hash: obs.rawHash ?? null }));
  await client.query(UPSERT_STUDIES, [JSON.stringify(studyRows), ctx.observedAt]);
  const lastUpdate = new Map(studyRows.map((r) => [r.nct_id, r.last_update_post_date]));

  const versionOf = new Map<string, number>();
  const versionJson = ({ obs }: (typeof items)[number]) =>
    `{"nct_id":${JSON.stringify(obs.study.nctId)},"content_hash":${JSON.stringify(obs.hash)},` +
    `"ct_last_update_post_date":${JSON.stringify(lastUpdate.get(obs.study.nctId) ?? null)},"raw":${observationJson(obs)}}`;
  for (const slice of jsonSlices(items, versionJson)) {
    const { rows } = await client.query<{ id: number; nct_id: NctId }>(INSERT_VERSIONS, [slice, ctx.observedAt, ctx.runId]);
    for (const v of rows) versionOf.set(v.nct_id, v.id);
  }

  await replaceChildRows(client, ids, items.map((i) => toChildRows(i.obs.study)));

  const changesJson = ({ obs, changes }: (typeof items)[number]) =>
    changes
      .map((c) =>
        JSON.stringify({
          nct_id: obs.study.nctId,
          path: c.path,
          kind: c.kind,
          old_value: c.oldValue,
          new_value: c.newValue,
          version_id: versionOf.get(obs.study.nctId) ?? null,
          ct_last_update_post_date: lastUpdate.get(obs.study.nctId),
        }),
      )
      .join(',');
  for (const slice of jsonSlices(items.filter((i) => i.changes.length > 0), changesJson)) {
    await client.query(INSERT_CHANGES, [slice, ctx.observedAt, ctx.runId]);
  }
  return items.reduce((n, i) => n + i.changes.length, 0);
}

/** JSON arrays of the items' elements, at most SLICE_STUDIES items or about SLICE_CHARS characters each. */
function* jsonSlices<T>(items: readonly T[], elements: (item: T) => string): Generator<string> {
  let parts: string[] = [];
  let chars = 0;
  for (const item of items) {
    const json = elements(item);
    parts.push(json);
    chars += json.length;
    if (parts.length >= SLICE_STUDIES || chars >= SLICE_CHARS) {
      yield `[${parts.join(',')}]`;
      parts = [];
      chars = 0;
    }
  }
  if (parts.length > 0) yield `[${parts.join(',')}]`;
}

/**
 * Replaces the child rows of the written studies, new ones included: child tables have no
 * foreign key (see migration 0006), so rows left by a study deleted by hand would otherwise
 * collide with its next import.
 */
async function replaceChildRows(client: pg.ClientBase, ids: NctId[], perStudy: ChildRows[]): Promise<void> {
  for (const table of CHILD_TABLES) {
    // Table names come from the constant list above, never from input.
    await client.query(`delete from ctgov.${table} where nct_id = any($1::text[])`, [ids]);
    const rows = perStudy.flatMap((c) => c[table] as object[]);
    if (rows.length > 0) await client.query(CHILD_INSERTS[table], [JSON.stringify(rows)]);
  }
}

async function trackStudies(client: pg.ClientBase, ids: NctId[], track: NonNullable<StoreContext['track']>): Promise<void> {
  await client.query(
    `insert into ctgov.tracked_studies (nct_id, source, reason)
     select id, $2, $3 from unnest($1::text[]) as id
     on conflict (nct_id) do update set active = true where tracked_studies.active = false`,
    [ids, track.source, track.reason],
  );
}

export async function insertFailures(client: pg.ClientBase, runId: number, failures: FailureRecord[]): Promise<void> {
  await client.query(
    `insert into ctgov.sync_failures (run_id, nct_id, stage, error, payload_excerpt)
     select $1, r.nct_id, r.stage, r.error, r.payload_excerpt
       from json_to_recordset($2::json) as r(nct_id text, stage text, error text, payload_excerpt text)`,
    [
      runId,
      JSON.stringify(
        failures.map((f) => ({ nct_id: f.nctId, stage: f.stage, error: f.error, payload_excerpt: f.payloadExcerpt })),
      ),
    ],
  );
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
  await client.query('update ctgov.sync_runs set removed = removed + $2 where id = $1', [ctx.runId, rows.length]);
  // Webhook outbox, committed with the `removed` rows it carries (src/webhooks/).
  if (ctx.webhooks && rows.length > 0) await enqueueDeliveries(client, ctx.runId, rows.map((r) => r.nct_id), ctx.webhooks);
  return rows.map((r) => r.nct_id);
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
  from json_to_recordset($1::json) as r(
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
// json_to_recordset, which validates the JSON text and then parses each raw record again.
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
select e->>'nct_id', e->>'path', e->>'kind', nullif(e->'old_value', 'null'), nullif(e->'new_value', 'null'), $2, $3,
       (e->>'version_id')::bigint, (e->>'ct_last_update_post_date')::date
  from jsonb_array_elements($1::jsonb) as e`;

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

function childInsert(table: string, columns: string): string {
  const names = columns.split(',').map((c) => c.trim().split(' ')[0]).join(', ');
  return `insert into ctgov.${table} (${names}) select ${names} from json_to_recordset($1::json) as r(${columns})`;
}
