import { isNctId, type NctId } from '../ctgov/nctId.js';
import { retryOnLostConnection, withTransaction } from '../db/transaction.js';
import { recordIdentity } from '../ctgov/rawRecord.js';
import { loadRawHashes, type StoreContext } from '../studies/store.js';
import { describeFailedStudies } from './failedStudies.js';
import { recordAbsences } from './recordAbsences.js';
import { exportIndex, exportPages, type ExportCounts } from './exportMirror.js';
import { finishRun, startRun, type FailureRecord, type RunCounts, type RunStatus, type RunTrigger } from '../sql/runs.js';
import type { RawRecord } from '../ctgov/rawRecord.js';
import { commitBatch, prepareBatches, type BatchOutcome, type PreparedBatch, type SyncDeps } from './syncBatch.js';

export interface SourceBatch {
  records: RawRecord[];
  failures: FailureRecord[];
  /** Studies that CT.gov no longer returns, found while fetching this batch. */
  removed?: NctId[];
  /** Requested IDs that CT.gov merged into another study. */
  aliases?: Array<{ requested: NctId; canonical: NctId }>;
}

export interface RunSpec {
  job: string;
  trigger: RunTrigger;
  observedAt: Date;
  params?: unknown;
  requested?: number;
  track?: StoreContext['track'];
  /** Called with the HTTP request count at the end, when the source is the API. */
  httpRequests?: () => number;
  /** Called with the run's id once its row exists (a caller can report on a run that fails). */
  onStarted?: (runId: number) => void;
  /** The run's abort signal: a run stopped by it was interrupted (Ctrl-C, shutdown), not broken. */
  signal?: AbortSignal;
  /**
   * The most studies one transaction writes (new or changed; unchanged ones ride along): a
   * source batch is cut into parts of this many (`sync.storeBatchSize`). Unbounded if unset.
   */
  maxWrittenPerBatch?: number;
}

export interface RunSummary {
  runId: number;
  status: RunStatus;
  counts: RunCounts;
  failures: FailureRecord[];
  exported: ExportCounts;
}

export interface Progress {
  done: number;
  failed: number;
}

const MAX_LISTED_FAILURES = 1000;

/**
 * Batches committing at once. The next batch is prepared (CPU) while the previous ones are in
 * their transactions (database), and two transactions keep a second core busy on a first load.
 */
const IN_FLIGHT = 2;

type Commit = { ok: true; outcome: BatchOutcome; absent: FailureRecord[] } | { ok: false; error: unknown };

interface Slot {
  ids: ReadonlySet<string>;
  done: Promise<Commit>;
}

/**
 * Drives one sync run over a stream of batches: a `sync_runs` row, one transaction per batch,
 * the mirror pages of what changed, and the run closed as succeeded, partial or failed. A
 * systemic error (the database gone, the API out of retries) fails the run and is rethrown;
 * the batches committed before it stay.
 *
 * Up to IN_FLIGHT batches commit at once, each in its own transaction; a batch that shares a
 * study with one in flight waits for it, so a study's batches still commit in source order.
 * Outcomes are counted in source order.
 */
export async function runBatches(
  deps: SyncDeps,
  spec: RunSpec,
  source: AsyncIterable<SourceBatch>,
  onProgress?: (p: Progress) => void,
): Promise<RunSummary> {
  const runId = await startRun(deps.pool, spec);
  spec.onStarted?.(runId);
  const log = deps.log.child({ runId, job: spec.job });
  const failures: FailureRecord[] = [];
  const exported: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  const progress: Progress = { done: 0, failed: 0 };
  const ctx: StoreContext = {
    runId,
    observedAt: spec.observedAt,
    ...(spec.track ? { track: spec.track } : {}),
    ...(deps.webhooks?.length ? { webhooks: deps.webhooks } : {}),
  };
  const inFlight: Slot[] = [];

  // Given only what it needs of the source batch: its records (and their texts) are not kept
  // alive while the batch commits, only the observations prepared from them.
  async function commit(prepared: PreparedBatch, batch: Pick<SourceBatch, 'removed' | 'aliases'>): Promise<Commit> {
    try {
      const outcome = await commitBatch({ ...deps, log }, ctx, prepared);
      const absent =
        batch.removed?.length || batch.aliases?.length
          ? await withTransaction(deps.pool, (client) => recordAbsences(client, ctx, batch.removed ?? [], batch.aliases ?? []))
          : [];
      // A removed study's page says so (IDs never stored have no page and are skipped).
      if (deps.mirror && batch.removed?.length) {
        const pages = await exportPages(deps.pool, deps.mirror, batch.removed, ctx.observedAt);
        outcome.exported.written += pages.written;
        outcome.exported.unchanged += pages.unchanged;
      }
      return { ok: true, outcome, absent };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** Waits for the oldest batch in flight and counts it; rethrows its error. */
  async function settleOldest(): Promise<void> {
    const result = await inFlight.shift()!.done;
    if (!result.ok) throw result.error;
    const { outcome, absent } = result;
    progress.done += outcome.inserted.length + outcome.changed.length + outcome.unchanged.length;
    progress.failed += outcome.failures.length + absent.length;
    for (const f of [...outcome.failures, ...absent]) if (failures.length < MAX_LISTED_FAILURES) failures.push(f);
    exported.written += outcome.exported.written;
    exported.unchanged += outcome.exported.unchanged;
    onProgress?.(progress);
  }

  try {
    for await (const batch of source) {
      const stored = await loadRawHashes(deps.pool, recordIds(batch));
      // What the source found absent is recorded with its last part, once its records are stored.
      for await (const { prepared, last } of prepareBatches(batch.records, batch.failures, stored, spec.maxWrittenPerBatch ?? Infinity)) {
        const absences = last ? { removed: batch.removed, aliases: batch.aliases } : {};
        const ids = batchIds(prepared, absences);
        while (inFlight.length >= IN_FLIGHT || inFlight.some((s) => overlaps(s.ids, ids))) await settleOldest();
        inFlight.push({ ids, done: commit(prepared, absences) });
      }
    }
    while (inFlight.length > 0) await settleOldest();
    if (deps.mirror) await exportIndex(deps.pool, deps.mirror, spec.observedAt);
  } catch (err) {
    // Batches still committing finish (or fail) before the run is closed; their rows stay.
    await Promise.all(inFlight.map((s) => s.done));
    const message = err instanceof Error ? err.message : String(err);
    if (spec.signal?.aborted) log.info({ err }, 'sync run interrupted');
    else log.error({ err }, 'sync run failed');
    await retryOnLostConnection(deps.pool, () =>
      finishRun(deps.pool, runId, { status: 'failed', error: message, httpRequests: spec.httpRequests?.() ?? 0 }),
    ).catch((e: unknown) => log.error({ err: e }, 'could not record the failed run'));
    throw err;
  }
  const final = await finishRun(deps.pool, runId, { httpRequests: spec.httpRequests?.() ?? 0 });
  const { status, ...counts } = final;
  log.info(
    { ...counts, status, ...(failures.length > 0 ? { failedStudies: describeFailedStudies(failures.map((f) => f.nctId), counts.failed) } : {}) },
    'sync run finished',
  );
  return { runId, status, counts, failures, exported };
}

/** Every study a batch writes: its records, and what it marks removed or aliased. */
function batchIds(prepared: PreparedBatch, batch: Pick<SourceBatch, 'removed' | 'aliases'>): Set<string> {
  const ids = new Set<string>(prepared.observations.map((o) => o.nctId));
  for (const id of batch.removed ?? []) ids.add(id);
  for (const a of batch.aliases ?? []) ids.add(a.canonical);
  return ids;
}

/** The NCT IDs the batch's records claim (unvalidated: only used to look up stored hashes). */
function recordIds(batch: SourceBatch): string[] {
  const ids: string[] = [];
  for (const r of batch.records) {
    const id = recordIdentity(r).nctId;
    if (id !== undefined && isNctId(id)) ids.push(id);
  }
  return ids;
}

function overlaps(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const id of b) if (a.has(id)) return true;
  return false;
}
