import type pg from 'pg';
import type { HistoryClient } from '../ctgov/history.js';
import type { NctId } from '../ctgov/nctId.js';
import { AppError, coerceError, DbConnectionError } from '../errors.js';
import type { Logger } from '../log.js';
import { exportIndex, exportPages, type MirrorTarget } from '../pipeline/exportMirror.js';
import { addRunCounts, finishRun, insertFailures, mergeRunParams, startRun, type RunStatus, type RunTrigger } from '../sql/runs.js';
import { retryOnLostConnection, withTransaction } from '../db/transaction.js';
import { fsyncMirrorDirs } from '../mirror/write.js';
import { markMirrored } from '../studies/store.js';
import { backfillStudy } from './backfillStudy.js';
import { pagesPending } from './historyStore.js';

export interface BackfillDeps {
  pool: pg.Pool;
  log: Logger;
  history: HistoryClient;
  /** When set, the pages of backfilled studies are rendered again afterwards. */
  mirror?: MirrorTarget;
}

export interface BackfillSpec {
  ids: readonly NctId[];
  job?: string;
  trigger: RunTrigger;
  observedAt: Date;
  force?: boolean;
  signal?: AbortSignal;
  /** Compare text exactly instead of on its canonical form (tests only). */
  canonical?: boolean;
  httpRequests?: () => number;
}

export interface BackfillProgress {
  done: number;
  total: number;
  failed: number;
  versionsFetched: number;
}

export interface BackfillSummary {
  runId: number;
  status: RunStatus;
  /** Studies whose history was (re)built. */
  backfilled: number;
  /** Studies with nothing new since their last backfill. */
  unchanged: number;
  /** Studies whose index lists no version before their first live observation. */
  noHistory: number;
  failures: Array<{ nctId: NctId; error: string }>;
  versionsFetched: number;
  rows: number;
  pagesWritten: number;
}

/**
 * One backfill run: a `sync_runs` row (job `backfill`), each study in its own transaction, a
 * study that fails recorded in `sync_failures` (stage `history`) while the others go on, then
 * the mirror pages of the backfilled studies. A systemic error (the database gone, shutdown)
 * fails the run; the studies done before it stay done.
 */
export async function runBackfill(deps: BackfillDeps, spec: BackfillSpec, onProgress?: (p: BackfillProgress) => void): Promise<BackfillSummary> {
  const job = spec.job ?? 'backfill';
  const runId = await startRun(deps.pool, { job, trigger: spec.trigger, observedAt: spec.observedAt, params: { force: spec.force ?? false }, requested: spec.ids.length });
  const log = deps.log.child({ runId, job });
  const summary: BackfillSummary = { runId, status: 'succeeded', backfilled: 0, unchanged: 0, noHistory: 0, failures: [], versionsFetched: 0, rows: 0, pagesWritten: 0 };
  const progress: BackfillProgress = { done: 0, total: spec.ids.length, failed: 0, versionsFetched: 0 };
  const backfilledIds: NctId[] = [];
  try {
    for (const nctId of spec.ids) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      const outcome = await backfillStudy(
        {
          pool: deps.pool,
          history: deps.history,
          runId,
          at: spec.observedAt,
          signal: spec.signal,
          force: spec.force,
          canonical: spec.canonical,
          onVersion: () => {
            progress.versionsFetched++;
            summary.versionsFetched++;
            onProgress?.(progress);
          },
        },
        nctId,
      ).catch((err: unknown) => {
        if (spec.signal?.aborted || isSystemic(err)) throw err;
        return { kind: 'failed' as const, reason: err instanceof Error ? err.message : String(err) };
      });
      if (outcome.kind === 'backfilled') {
        summary.backfilled++;
        summary.rows += outcome.rows;
        backfilledIds.push(nctId);
      } else if (outcome.kind === 'unchanged') summary.unchanged++;
      else if (outcome.kind === 'noHistory') summary.noHistory++;
      else {
        summary.failures.push({ nctId, error: outcome.reason });
        progress.failed++;
        log.warn({ nctId, error: outcome.reason }, 'history backfill failed');
        await recordFailure(deps.pool, runId, nctId, outcome.reason);
      }
      progress.done++;
      onProgress?.(progress);
    }
    if (deps.mirror) summary.pagesWritten = await renderPages(deps.pool, deps.mirror, backfilledIds, spec.observedAt);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error({ err: message }, 'backfill run failed');
    // Each statement is retried on its own: the counts are added, so the close must not run twice.
    const retried = <T>(statement: () => Promise<T>) => retryOnLostConnection(deps.pool, statement);
    await closeRun(deps.pool, runId, summary, { status: 'failed', error: message, httpRequests: spec.httpRequests?.() ?? 0 }, retried).catch((e: unknown) =>
      log.error({ err: (e as Error).message }, 'could not record the failed run'),
    );
    throw err;
  }
  summary.status = await closeRun(deps.pool, runId, summary, { httpRequests: spec.httpRequests?.() ?? 0 });
  log.info({ backfilled: summary.backfilled, unchanged: summary.unchanged, failed: summary.failures.length, versions: summary.versionsFetched }, 'backfill run finished');
  return summary;
}

/**
 * The pages of the studies just backfilled, and of those an earlier run backfilled but died before
 * rendering; then they are recorded as written (mirrored_hash), after the renames are durable.
 */
async function renderPages(pool: pg.Pool, mirror: MirrorTarget, backfilled: NctId[], now: Date): Promise<number> {
  const pending = await pagesPending(pool, backfilled);
  if (pending.size === 0) return 0;
  const counts = await exportPages(pool, mirror, [...pending.keys()], now);
  await exportIndex(pool, mirror, now);
  await fsyncMirrorDirs();
  await withTransaction(pool, (client) => markMirrored(client, pending));
  return counts.written;
}

/** The run's counts in sync_runs' columns: fetched = studies read, changed = backfilled, unchanged = nothing new. */
async function closeRun(
  pool: pg.Pool,
  runId: number,
  s: BackfillSummary,
  outcome: { status?: RunStatus; error?: string; httpRequests: number },
  run: <T>(statement: () => Promise<T>) => Promise<T> = (statement) => statement(),
): Promise<RunStatus> {
  // The run row starts at zero, so adding the totals once sets them.
  await run(() => addRunCounts(pool, runId, { fetched: s.backfilled + s.unchanged + s.noHistory, changed: s.backfilled, unchanged: s.unchanged + s.noHistory, failed: s.failures.length }));
  await run(() => mergeRunParams(pool, runId, { versionsFetched: s.versionsFetched, changeRows: s.rows, noHistory: s.noHistory }));
  return (await run(() => finishRun(pool, runId, outcome))).status;
}

async function recordFailure(pool: pg.Pool, runId: number, nctId: NctId, error: string): Promise<void> {
  await insertFailures(pool, runId, [{ nctId, stage: 'history', error: error.replaceAll('\u0000', '\uFFFD'), payloadExcerpt: null }]);
}

/** Errors that are not about one study: the database (a SQLSTATE, a lost connection). */
function isSystemic(err: unknown): boolean {
  if (coerceError(err) instanceof DbConnectionError) return true;
  if (err instanceof AppError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
