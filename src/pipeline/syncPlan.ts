import type { AppContext } from '../app.js';
import type { CtgovClient } from '../ctgov/client.js';
import type { NctId } from '../ctgov/nctId.js';
import { syncMirror } from './mirrorTarget.js';
import { idSource, parseQueryExpression, querySource } from './apiSources.js';
import { runBatches, type Progress, type RunSummary, type SourceBatch } from './runBatches.js';
import type { RunTrigger } from './runs.js';
import { webhookMatches } from '../webhooks/hookMatch.js';

export interface SyncPlan {
  ids: NctId[];
  queries: Array<{ expr: string; params: ReturnType<typeof parseQueryExpression> }>;
}

/** One run over IDs then queries; shared by the CLI and the worker's jobs. */
export interface SyncPlanOptions {
  /** Why the studies are tracked (tracked_studies.source). */
  source: 'config' | 'cli' | 'query' | 'resync';
  trigger: RunTrigger;
  signal: AbortSignal;
  job?: string;
  onProgress?: (p: Progress) => void;
}

export function syncPlan(app: AppContext, client: CtgovClient, plan: SyncPlan, options: SyncPlanOptions): Promise<RunSummary> {
  const { source, trigger, signal, onProgress, job = 'sync' } = options;
  const batchSize = app.config.sync.storeBatchSize;
  async function* batches(): AsyncGenerator<SourceBatch> {
    if (plan.ids.length > 0) yield* idSource(client, plan.ids, signal);
    for (const q of plan.queries) yield* querySource(client, q.params, batchSize, signal);
  }
  return runBatches(
    { pool: app.db.pool, log: app.log, mirror: syncMirror(app.config), webhooks: webhookMatches(app.config.webhooks) },
    {
      job,
      trigger,
      observedAt: app.clock(),
      params: { ids: plan.ids.length, queries: plan.queries.map((q) => q.expr) },
      requested: plan.ids.length,
      track: { source, reason: plan.queries.map((q) => q.expr).join('; ') || null },
      httpRequests: () => client.stats().requests,
    },
    batches(),
    onProgress,
  );
}
