import type pg from 'pg';
import type { HistoryChange, HistoryClient, HistoryVersion } from '../ctgov/history.js';
import type { NctId } from '../ctgov/nctId.js';
import { validateCtgovStudy } from '../ctgov/schema.js';
import { withTransaction } from '../db/transaction.js';
import { normalizeValidated } from '../studies/normalize.js';
import { buildHistory, type HistoryState } from './buildHistory.js';
import { historyStudyToV2 } from './historyRecord.js';
import { dayStart, loadStoredHistory, loadStudyBase, rebuildStudyHistory, recordEmptyHistory, type BackfillState } from './historyStore.js';

export type StudyOutcome =
  | { kind: 'backfilled'; versionsFetched: number; rows: number }
  | { kind: 'unchanged' }
  | { kind: 'noHistory' }
  | { kind: 'failed'; reason: string };

export interface StudyBackfillDeps {
  pool: pg.Pool;
  history: HistoryClient;
  runId: number;
  at: Date;
  signal?: AbortSignal;
  force?: boolean;
  canonical?: boolean;
  /** Called as each version arrives. */
  onVersion?: () => void;
}

/**
 * Backfills one study: reads its history index, fetches the versions not yet stored, and
 * rebuilds its history in one transaction. Nothing is written when nothing is new.
 *
 * Versions dated on or after the first live observation are not used: live syncs recorded that
 * period themselves. Of several versions with the same date, the last one stands (CT.gov's
 * same-day resubmissions), so only those are fetched.
 */
export async function backfillStudy(deps: StudyBackfillDeps, nctId: NctId): Promise<StudyOutcome> {
  const base = await loadStudyBase(deps.pool, nctId);
  if (!base) return { kind: 'failed', reason: `${nctId} is not stored yet: sync it before backfilling its history` };
  const answer = await deps.history.getIndex(nctId, { signal: deps.signal });
  if (answer.kind === 'notFound') {
    return { kind: 'failed', reason: `CT.gov has no history for ${nctId} (HTTP 404: ${answer.message || 'no body'})` };
  }
  const listed = answer.index.changes;
  const used = usedVersions(listed, base.firstLive.seenAt);
  if ('error' in used) return { kind: 'failed', reason: `${nctId}: ${used.error}` };
  if (used.versions.length === 0) {
    if (base.state && base.state.versionsUsed === 0) return { kind: 'unchanged' };
    await withTransaction(deps.pool, (client) => recordEmptyHistory(client, nctId, deps.runId, deps.at));
    return { kind: 'noHistory' };
  }
  const newest = used.versions[used.versions.length - 1]!;
  const state: BackfillState = {
    versionsListed: listed.length,
    versionsUsed: used.versions.length,
    lastUsedVersion: newest.version,
    lastUsedDate: newest.date,
  };
  const previous = base.state;
  // The versions stored before still stand when the index still lists the last one used, as it was.
  const reuse = !deps.force && previous?.lastUsedVersion != null && listed[previous.lastUsedVersion]?.date === previous.lastUsedDate;
  if (reuse && previous.lastUsedVersion === state.lastUsedVersion && previous.versionsUsed === state.versionsUsed) return { kind: 'unchanged' };

  const usedSet = new Set(used.versions.map((v) => v.version));
  const states: HistoryState[] = [];
  if (reuse) {
    for (const s of await loadStoredHistory(deps.pool, nctId)) {
      if (usedSet.has(s.version)) states.push({ ...s, study: normalizeValidated(validateCtgovStudy(s.raw)) });
    }
  }
  const toFetch = used.versions.filter((v) => !reuse || v.version > previous!.lastUsedVersion!);
  const arrived = await fetchVersions(deps, nctId, toFetch);
  for (const { change, body } of arrived) {
    const raw = historyStudyToV2(body.study);
    const study = normalizeValidated(validateCtgovStudy(raw));
    if (study.nctId !== nctId) throw new Error(`${nctId}: history version ${change.version} is a record of ${study.nctId}`);
    states.push({ version: change.version, date: change.date, study, raw, postDate: postDateOf(raw) });
  }
  states.sort((a, b) => a.version - b.version);
  const live = normalizeValidated(validateCtgovStudy(base.firstLive.raw));
  const built = buildHistory(states, live, { canonical: deps.canonical ?? true });
  const rows = await withTransaction(deps.pool, (client) =>
    rebuildStudyHistory(client, { nctId, runId: deps.runId, firstLive: base.firstLive, built, state, at: deps.at }),
  );
  return { kind: 'backfilled', versionsFetched: arrived.length, rows };
}

type UsedVersion = HistoryChange & { date: string };

/** The versions a backfill uses: dated before the first live observation, the last of each date. */
export function usedVersions(changes: readonly HistoryChange[], firstSeenAt: Date): { versions: UsedVersion[] } | { error: string } {
  const versions: UsedVersion[] = [];
  for (const c of changes) {
    if (c.date === undefined) return { error: `the history index gives no date for version ${c.version}` };
    if (dayStart(c.date) >= firstSeenAt) continue;
    const last = versions[versions.length - 1];
    if (last && last.date === c.date) versions.pop();
    else if (last && last.date > c.date) return { error: `the history index dates version ${c.version} (${c.date}) before version ${last.version} (${last.date})` };
    versions.push({ ...c, date: c.date });
  }
  return { versions };
}

function postDateOf(raw: Record<string, unknown>): string | null {
  const status = (raw.protocolSection as Record<string, any> | undefined)?.statusModule;
  const date = status?.lastUpdatePostDateStruct?.date;
  return typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : null;
}

/** Version requests a study keeps waiting on at once; the client's own concurrency and rate limit pace them. */
const VERSIONS_AHEAD = 4;

/**
 * The versions, a few requests at a time (a history can list over a thousand; each waiting request
 * holds a listener on the signal). The first failure stops the others, so a broken study stops
 * costing requests.
 */
async function fetchVersions(deps: StudyBackfillDeps, nctId: NctId, changes: readonly UsedVersion[]): Promise<Array<{ change: UsedVersion; body: HistoryVersion }>> {
  const study = new AbortController();
  const onAbort = () => study.abort(deps.signal?.reason);
  if (deps.signal?.aborted) onAbort();
  else deps.signal?.addEventListener('abort', onAbort, { once: true });
  const out: Array<{ change: UsedVersion; body: HistoryVersion }> = new Array(changes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < changes.length && !study.signal.aborted) {
      const i = next++;
      const change = changes[i]!;
      try {
        out[i] = { change, body: await deps.history.getVersion(nctId, change.version, { signal: study.signal }) };
        deps.onVersion?.();
      } catch (err) {
        study.abort(err);
        throw err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(VERSIONS_AHEAD, changes.length) }, worker));
    // Stopped between two requests: nothing was thrown, but the list is not whole.
    if (study.signal.aborted) throw study.signal.reason;
    return out;
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
  }
}
