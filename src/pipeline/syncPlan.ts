import type { AppContext } from '../app.js';
import type { CtgovClient } from '../ctgov/client.js';
import type { NctId } from '../ctgov/nctId.js';
import { mirrorToKeepInSync } from './mirrorTarget.js';
import { idSource, parseQueryExpression, querySource } from './apiSources.js';
import { runBatches, type Progress, type RunSummary, type SourceBatch } from './runBatches.js';
import type { RunTrigger } from '../sql/runs.js';
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
  /** Overrides sync.maxQueryStudies for this run (`sync --max`). */
  maxQueryStudies?: number;
  /** Called with each query's totalCount (from its first page), e.g. for a progress bar. */
  onQueryTotal?: (totalCount: number) => void;
  /** Called with the run's id once it is recorded. */
  onRunStarted?: (runId: number) => void;
}

export function syncPlan(app: AppContext, client: CtgovClient, plan: SyncPlan, options: SyncPlanOptions): Promise<RunSummary> {
  const { source, trigger, signal, onProgress, job = 'sync' } = options;
  const maxStudies = options.maxQueryStudies ?? app.config.sync.maxQueryStudies;
  async function* batches(): AsyncGenerator<SourceBatch> {
    if (plan.ids.length > 0) yield* idSource(client, plan.ids, signal);
    for (const q of plan.queries) yield* querySource(client, q.params, signal, { expr: q.expr, maxStudies, ...(options.onQueryTotal ? { onTotal: options.onQueryTotal } : {}) });
  }
  return runBatches(
    { pool: app.db.pool, log: app.log, mirror: mirrorToKeepInSync(app.config), webhooks: webhookMatches(app.config.webhooks) },
    {
      job,
      trigger,
      observedAt: app.clock(),
      params: { ids: plan.ids.length, queries: plan.queries.map((q) => q.expr) },
      requested: plan.ids.length,
      track: { source, reason: plan.queries.map((q) => q.expr).join('; ') || null },
      httpRequests: () => client.stats().requests,
      maxWrittenPerBatch: app.config.sync.storeBatchSize,
      ...(options.onRunStarted ? { onStarted: options.onRunStarted } : {}),
      signal,
    },
    batches(),
    onProgress,
  );
}
