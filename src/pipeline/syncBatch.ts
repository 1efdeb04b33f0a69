import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { withTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import { storeBatch, type FailureRecord, type Observation, type StoreContext, type StoreResult } from '../studies/store.js';
import { exportPages, type ExportCounts, type MirrorTarget } from './exportMirror.js';
import { failureOf, prepareRecord } from './prepare.js';

export interface SyncDeps {
  pool: pg.Pool;
  log: Logger;
  /** When set, the pages of new and changed studies are re-exported after each batch commits. */
  mirror?: MirrorTarget;
}

export interface RawRecord {
  raw: unknown;
  /** The record's JSON text, when the caller has it (saves serialising it again). */
  rawJson?: string;
}

export interface BatchOutcome extends StoreResult {
  failures: FailureRecord[];
  exported: ExportCounts;
}

/**
 * One batch through the pipeline: validate → normalize → hash (pure, per record), then diff and
 * store in one transaction, then export the pages that changed. Bad records are quarantined
 * and the rest of the batch goes on; a database that is down fails the batch (and the run).
 */
export async function syncBatch(
  deps: SyncDeps,
  ctx: StoreContext,
  records: readonly RawRecord[],
  upstreamFailures: readonly FailureRecord[] = [],
): Promise<BatchOutcome> {
  const observations: Observation[] = [];
  const failures: FailureRecord[] = [...upstreamFailures];
  for (const r of records) {
    const p = prepareRecord(r.raw, r.rawJson);
    if (p.ok) observations.push(p.observation);
    else failures.push(p.failure);
  }
  const stored = await storeIsolating(deps, ctx, observations, failures);
  for (const f of stored.failures) deps.log.warn({ nctId: f.nctId, stage: f.stage, error: f.error }, 'study quarantined');
  let exported: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  const touched: NctId[] = [...stored.inserted, ...stored.changed];
  if (deps.mirror && touched.length > 0) exported = await exportPages(deps.pool, deps.mirror, touched, ctx.observedAt);
  return { ...stored, exported };
}

/**
 * Stores the batch in one transaction. If the database rejects the data itself (a constraint or
 * a value out of range, SQLSTATE classes 22 and 23), the batch is split in halves until the
 * offending study is alone, and that study is quarantined at stage `store`.
 */
async function storeIsolating(
  deps: SyncDeps,
  ctx: StoreContext,
  observations: Observation[],
  failures: FailureRecord[],
): Promise<StoreResult & { failures: FailureRecord[] }> {
  try {
    const result = await withTransaction(deps.pool, (client) => storeBatch(client, ctx, observations, failures));
    return { ...result, failures };
  } catch (err) {
    if (!isDataError(err) || observations.length === 0) throw err;
    if (observations.length === 1) {
      const only = observations[0]!;
      const quarantined = [...failures, failureOf(only.study.nctId, 'store', err, only.rawJson)];
      return storeIsolating(deps, ctx, [], quarantined);
    }
    const mid = Math.ceil(observations.length / 2);
    const left = await storeIsolating(deps, ctx, observations.slice(0, mid), failures);
    const right = await storeIsolating(deps, ctx, observations.slice(mid), []);
    return {
      inserted: [...left.inserted, ...right.inserted],
      changed: [...left.changed, ...right.changed],
      unchanged: [...left.unchanged, ...right.unchanged],
      changeRows: left.changeRows + right.changeRows,
      failures: [...left.failures, ...right.failures],
    };
  }
}

function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
