import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { validateCtgovStudy } from '../ctgov/schema.js';
import { addRunCounts, insertFailures, type FailureRecord } from '../sql/runs.js';
import { trackStudies } from '../sql/tracking.js';
import { diffStudies } from '../studies/diff.js';
import { STUDY_PRESENCE_PATH, type FieldChange, type Study } from '../studies/model.js';
import { normalizeValidated } from '../studies/normalize.js';
import {
  lockStudies,
  selectCurrentRaw,
  selectStoredStates,
  touchUnchanged,
  updateHashes,
  writeStudies,
  type StoreContext,
  type StoredState,
} from '../studies/store.js';
import type { FullObservation, Observation } from './observation.js';
import { validateNormalizeHash } from './validateNormalizeHash.js';
import { enqueueDeliveries } from '../webhooks/enqueueDeliveries.js';

export interface WriteResult {
  inserted: NctId[];
  changed: NctId[];
  unchanged: NctId[];
  changeRows: number;
  /** Unchanged studies whose mirror page was not written for their current content (see mirrored_hash). */
  unmirrored: NctId[];
  /** The content hash now stored for each inserted, changed and unmirrored study. */
  contentHashes: Map<NctId, string>;
  /** The failures given, and those of quick observations that failed when taken in full. */
  failures: FailureRecord[];
}

/**
 * One batch inside the caller's transaction, top to bottom: lock the studies, load what is
 * stored, diff each against it, write. Unchanged studies only move `last_seen_at`; new and
 * changed ones get a version, their `studies` row and child rows, and one field_changes row per
 * changed path. The locks make re-running a batch (or two runners racing) write nothing twice.
 */
export async function writeBatch(
  client: pg.ClientBase,
  ctx: StoreContext,
  observations: readonly Observation[],
  upstreamFailures: readonly FailureRecord[] = [],
): Promise<WriteResult> {
  const failures = [...upstreamFailures];
  const latest = new Map<NctId, Observation>();
  for (const o of observations) latest.set(o.nctId, o); // the last copy of a duplicate wins
  const lockIds = [...latest.keys()].sort();
  const plan: WritePlan = { ...emptyResult(), toWrite: [], newHashes: [] };
  if (lockIds.length > 0) {
    await lockStudies(client, lockIds);
    const stored = await selectStoredStates(client, lockIds);
    const byId = recheckQuick(latest, stored, failures);
    const previous = await loadPreviousStudies(client, changedContent(byId, stored));
    planWrites(plan, byId, stored, previous);
    await touchUnchanged(client, plan.unchanged, ctx.observedAt);
    await updateHashes(client, plan.newHashes);
    if (plan.toWrite.length > 0) plan.changeRows = await writeStudies(client, ctx, plan.toWrite);
    // Webhook outbox, committed with the change rows it carries (src/webhooks/).
    if (ctx.webhooks && plan.changeRows > 0) await enqueueDeliveries(client, ctx.runId, plan.toWrite.map((w) => w.obs.nctId), ctx.webhooks);
    if (ctx.track && byId.size > 0) await trackStudies(client, [...byId.keys()], ctx.track);
  }
  if (failures.length > 0) await insertFailures(client, ctx.runId, failures);
  const { inserted, changed, unchanged } = plan;
  await addRunCounts(client, ctx.runId, {
    fetched: inserted.length + changed.length + unchanged.length,
    inserted: inserted.length,
    changed: changed.length,
    unchanged: unchanged.length,
    failed: failures.length,
  });
  const { toWrite: _w, newHashes: _h, ...result } = plan;
  return { ...result, failures };
}

interface WritePlan extends Omit<WriteResult, 'failures'> {
  toWrite: Array<{ obs: FullObservation; changes: FieldChange[]; previous?: Study }>;
  /** Same content under another hash (the normalization grew) or other bytes (lists reordered). */
  newHashes: Array<{ id: NctId; hash: string; rawHash: string | null }>;
}

function emptyResult(): Omit<WriteResult, 'failures'> {
  return { inserted: [], changed: [], unchanged: [], changeRows: 0, unmirrored: [], contentHashes: new Map() };
}

/**
 * The observations to write, in NCT ID order. A quick observation was decided before the
 * transaction; if the stored raw hash moved since (another writer stored the study meanwhile),
 * it is validated, normalized and hashed now and takes the full path (or fails, and is dropped
 * into `failures`).
 */
function recheckQuick(latest: ReadonlyMap<NctId, Observation>, stored: ReadonlyMap<NctId, StoredState>, failures: FailureRecord[]): Map<NctId, Observation> {
  const byId = new Map<NctId, Observation>();
  for (const id of [...latest.keys()].sort()) {
    const o = latest.get(id)!;
    const row = stored.get(id);
    if (o.kind === 'full' || (row !== undefined && row.removed_at === null && row.raw_hash === o.rawHash)) {
      byId.set(id, o);
      continue;
    }
    const v = validateNormalizeHash(o.record);
    if (!v.ok) failures.push(v.failure);
    else byId.set(v.observation.nctId, v.observation);
  }
  return byId;
}

/** The stored studies whose content the batch may change: those it has to diff against. */
function changedContent(byId: ReadonlyMap<NctId, Observation>, stored: ReadonlyMap<NctId, StoredState>): NctId[] {
  return [...byId.values()].filter((o) => o.kind === 'full' && stored.has(o.nctId) && stored.get(o.nctId)!.content_hash !== o.hash).map((o) => o.nctId);
}

/**
 * The stored state to diff against: the current raw version, validated and normalized by
 * today's rules, the same path as a fresh record, so both sides are read alike. (Only the
 * normalized fields of a study are diffed, and they are not stored: the rules may have grown
 * since the version was written.)
 */
async function loadPreviousStudies(client: pg.ClientBase, ids: readonly NctId[]): Promise<Map<NctId, Study>> {
  const raws = await selectCurrentRaw(client, ids);
  return new Map([...raws].map(([id, raw]) => [id, normalizeValidated(validateCtgovStudy(raw))]));
}

/** Diffs each study against its stored state and sorts it into the plan's lists (pure). */
function planWrites(plan: WritePlan, byId: ReadonlyMap<NctId, Observation>, stored: ReadonlyMap<NctId, StoredState>, previous: ReadonlyMap<NctId, Study>): void {
  const listWithHash = (list: 'inserted' | 'changed' | 'unmirrored', id: NctId, hash: string) => {
    plan[list].push(id);
    plan.contentHashes.set(id, hash);
  };
  for (const [id, obs] of byId) {
    const row = stored.get(id);
    if (obs.kind === 'quick') {
      plan.unchanged.push(id);
      if (row!.mirrored_hash !== row!.content_hash) listWithHash('unmirrored', id, row!.content_hash);
      continue;
    }
    const changes = row?.content_hash === obs.hash ? [] : diffStudies(previous.get(id), obs.study);
    if (row?.removed_at) changes.unshift({ path: STUDY_PRESENCE_PATH, kind: 'added', oldValue: null, newValue: true });
    if (!row) listWithHash('inserted', id, obs.hash);
    else if (changes.length > 0) listWithHash('changed', id, obs.hash);
    else {
      plan.unchanged.push(id);
      if (row.mirrored_hash !== obs.hash) listWithHash('unmirrored', id, obs.hash);
    }
    const before = previous.get(id);
    if (changes.length > 0 || !row) plan.toWrite.push({ obs, changes, ...(before ? { previous: before } : {}) });
    // Same content under another hash or other bytes: adopt the new hashes, no version; the
    // next identical record is then quick.
    else if (row.content_hash !== obs.hash || row.raw_hash !== obs.rawHash) {
      plan.newHashes.push({ id, hash: obs.hash, rawHash: obs.rawHash });
    }
  }
}
