import type { NctId } from '../ctgov/nctId.js';
import { withTransaction } from '../db/transaction.js';
import { type FailureRecord, type StoreContext } from '../studies/store.js';
import { recordAbsences } from './recordAbsences.js';
import { exportIndex, type ExportCounts } from './exportMirror.js';
import { finishRun, startRun, type RunCounts, type RunStatus, type RunTrigger } from './runs.js';
import { syncBatch, type RawRecord, type SyncDeps } from './syncBatch.js';

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
 * Drives one sync run over a stream of batches: a `sync_runs` row, one transaction per batch,
 * the mirror pages of what changed, and the run closed as succeeded, partial or failed. A
 * systemic error (the database gone, the API out of retries) fails the run and is rethrown;
 * the batches committed before it stay.
 */
export async function runBatches(
  deps: SyncDeps,
  spec: RunSpec,
  source: AsyncIterable<SourceBatch>,
  onProgress?: (p: Progress) => void,
): Promise<RunSummary> {
  const runId = await startRun(deps.pool, spec);
  const log = deps.log.child({ runId, job: spec.job });
  const failures: FailureRecord[] = [];
  const exported: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  const progress: Progress = { done: 0, failed: 0 };
  const ctx: StoreContext = { runId, observedAt: spec.observedAt, ...(spec.track ? { track: spec.track } : {}) };
  try {
    for await (const batch of source) {
      const outcome = await syncBatch({ ...deps, log }, ctx, batch.records, batch.failures);
      progress.done += outcome.inserted.length + outcome.changed.length + outcome.unchanged.length;
      progress.failed += outcome.failures.length;
      if (failures.length < MAX_LISTED_FAILURES) failures.push(...outcome.failures.slice(0, MAX_LISTED_FAILURES - failures.length));
      exported.written += outcome.exported.written;
      exported.unchanged += outcome.exported.unchanged;
      if (batch.removed?.length || batch.aliases?.length) {
        const unknown = await withTransaction(deps.pool, (client) => recordAbsences(client, ctx, batch.removed ?? [], batch.aliases ?? []));
        progress.failed += unknown.length;
        failures.push(...unknown.slice(0, Math.max(0, MAX_LISTED_FAILURES - failures.length)));
      }
      onProgress?.(progress);
    }
    if (deps.mirror) await exportIndex(deps.pool, deps.mirror, spec.observedAt);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error({ err: message }, 'sync run failed');
    await finishRun(deps.pool, runId, { status: 'failed', error: message, httpRequests: spec.httpRequests?.() ?? 0 }).catch(
      (e: unknown) => log.error({ err: (e as Error).message }, 'could not record the failed run'),
    );
    throw err;
  }
  const final = await finishRun(deps.pool, runId, { httpRequests: spec.httpRequests?.() ?? 0 });
  const { status, ...counts } = final;
  log.info({ ...counts, status }, 'sync run finished');
  return { runId, status, counts, failures, exported };
}
