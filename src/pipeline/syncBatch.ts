/*
 * One batch through the pipeline: validate → normalize → hash (pure, per record: prepareBatch),
 * then lock → load stored → diff → write in one transaction (writeBatch), then export the pages
 * that changed (commitBatch). Bad records are quarantined and the rest of the batch goes on; a
 * database that is down fails the batch (and the run). runBatches drives a run's batches.
 */
import type pg from 'pg';
import { recordText, type RawRecord } from '../ctgov/rawRecord.js';
import type { NctId } from '../ctgov/nctId.js';
import { sqlStateKind } from '../db/sqlState.js';
import { withTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import type { FailureRecord } from '../sql/runs.js';
import { markMirrored, type StoreContext } from '../studies/store.js';
import { fsyncMirrorDirs } from '../mirror/write.js';
import { exportPages, type ExportCounts, type MirrorTarget } from './exportMirror.js';
import { failureOf } from './failureOf.js';
import type { Observation } from './observation.js';
import { validateNormalizeHash } from './validateNormalizeHash.js';
import { writeBatch, type WriteResult } from './writeBatch.js';
import type { WebhookMatch } from '../webhooks/hookMatch.js';

export interface SyncDeps {
  pool: pg.Pool;
  log: Logger;
  /** When set, the pages of new and changed studies are re-exported after each batch commits. */
  mirror?: MirrorTarget;
  /** Configured webhooks (see StoreContext.webhooks). */
  webhooks?: readonly WebhookMatch[];
}

export interface BatchOutcome extends WriteResult {
  exported: ExportCounts;
}

/** A batch after the pure stages: what can be stored, and what was quarantined on the way. */
export interface PreparedBatch {
  observations: Observation[];
  failures: FailureRecord[];
}

/** Records prepared between two turns of the event loop. */
const PREPARE_SLICE = 20;

/**
 * The pure stages of a batch (CPU only), which runBatches overlaps with the previous batch's
 * transaction. It yields to the event loop every few records so that the statements of that
 * transaction go out as soon as the database answers the previous one.
 */
export async function prepareBatch(
  records: readonly RawRecord[],
  upstreamFailures: readonly FailureRecord[] = [],
  storedRawHashes?: ReadonlyMap<string, string>,
): Promise<PreparedBatch> {
  let whole: PreparedBatch | undefined;
  for await (const part of prepareBatches(records, upstreamFailures, storedRawHashes, Infinity)) whole = part.prepared;
  return whole!;
}

/**
 * prepareBatch, cut into parts of at most `maxWritten` studies to write (new, changed, or not
 * yet known: full observations): what a part holds from here to its commit (the normalized
 * study, its change and child rows, its version's bytes) is all but nothing for an unchanged
 * study, which only rides along. The upstream failures go with the first part; a part is
 * prepared only when the consumer asks for it. Always yields at least one part; the last says so.
 */
export async function* prepareBatches(
  records: readonly RawRecord[],
  upstreamFailures: readonly FailureRecord[],
  storedRawHashes: ReadonlyMap<string, string> | undefined,
  maxWritten: number,
): AsyncGenerator<{ prepared: PreparedBatch; last: boolean }> {
  let part: PreparedBatch = { observations: [], failures: [...upstreamFailures] };
  let written = 0;
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % PREPARE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const p = validateNormalizeHash(records[i]!, storedRawHashes);
    if (!p.ok) {
      part.failures.push(p.failure);
      continue;
    }
    part.observations.push(p.observation);
    if (p.observation.kind === 'full' && ++written >= maxWritten && i < records.length - 1) {
      yield { prepared: part, last: false };
      part = { observations: [], failures: [] };
      written = 0;
    }
  }
  yield { prepared: part, last: true };
}

/** The batch's transaction (writeBatch), then the pages of the studies it added or changed. */
export async function commitBatch(deps: SyncDeps, ctx: StoreContext, batch: PreparedBatch): Promise<BatchOutcome> {
  const stored = await storeIsolating(deps, ctx, batch.observations, batch.failures);
  for (const f of stored.failures) deps.log.warn({ nctId: f.nctId, stage: f.stage, error: f.error }, 'study quarantined');
  let exported: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  // New and changed studies, and unchanged ones whose page a crash left behind (see mirrored_hash).
  const touched: NctId[] = [...stored.inserted, ...stored.changed, ...stored.unmirrored];
  if (deps.mirror && touched.length > 0) {
    exported = await exportPages(deps.pool, deps.mirror, touched, ctx.observedAt);
    // The renames made durable before the pages are recorded as written.
    await fsyncMirrorDirs();
    await withTransaction(deps.pool, (client) => markMirrored(client, stored.contentHashes)).catch((err: unknown) =>
      deps.log.warn({ err }, 'could not record the pages as written; the next sync writes them again'),
    );
  }
  return { ...stored, exported };
}

/**
 * Writes the batch in one transaction. If the database rejects the data itself (a constraint or
 * a value out of range), the batch is split in halves until the offending study is alone, and
 * that study is quarantined at stage `store`.
 */
async function storeIsolating(
  deps: SyncDeps,
  ctx: StoreContext,
  observations: Observation[],
  failures: FailureRecord[],
): Promise<WriteResult> {
  try {
    return await withTransaction(deps.pool, (client) => writeBatch(client, ctx, observations, failures));
  } catch (err) {
    if (sqlStateKind(err) !== 'data' || observations.length === 0) throw err;
    if (observations.length === 1) {
      const only = observations[0]!;
      const quarantined = [...failures, failureOf(only.nctId, 'store', err, only.kind === 'full' ? only.rawJson.toString() : recordText(only.record))];
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
      unmirrored: [...left.unmirrored, ...right.unmirrored],
      contentHashes: new Map([...left.contentHashes, ...right.contentHashes]),
      failures: [...left.failures, ...right.failures],
    };
  }
}
