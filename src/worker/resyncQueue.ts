import { hostname } from 'node:os';
import type { AppContext } from '../app.js';
import { syncPlan } from '../pipeline/syncPlan.js';
import { linkAbort } from '../linkAbort.js';
import type { ClientFactory } from './clientFactory.js';
import type { FailedRunLog } from './failedRuns.js';
import type { Lane } from './lane.js';
import type { WorkerMetrics } from './metrics.js';
import {
  claimRequests,
  finishRequests,
  hasClaimableRequests,
  heartbeatRequests,
  releaseRequests,
  type ClaimedRequest,
  type QueueTimings,
  QUEUE_TIMINGS,
} from '../sql/queue.js';

export interface ResyncQueueDeps {
  app: AppContext;
  lane: Lane;
  metrics: WorkerMetrics;
  failures: FailedRunLog;
  newClient: ClientFactory;
  shutdown: AbortSignal;
  timings?: QueueTimings & { heartbeatMs: number };
}

export interface ResyncQueue {
  /** Something may be waiting: claim and process until nothing is left. */
  wake(): void;
  /** No new claims; resolves when the batch in progress (if any) is done. */
  stop(): Promise<void>;
  readonly busy: boolean;
}

/** How this process names itself in resync_requests.claimed_by. */
export const CLAIMER = `${hostname()}:${process.pid}`;

const HEARTBEAT_MS = 20_000;

/**
 * Processes ctgov.resync_requests: claims a batch (FOR UPDATE SKIP LOCKED, so concurrent workers
 * take disjoint rows), syncs it as one run (job 'resync', trigger 'queue'), marks the rows done
 * with the run's id or failed with the study's error, and goes on while rows remain. A heartbeat
 * keeps claimed rows from being taken for abandoned while the run lasts.
 */
export function createResyncQueue(deps: ResyncQueueDeps): ResyncQueue {
  const { app, metrics } = deps;
  const pool = app.db.pool;
  const timings = deps.timings ?? { ...QUEUE_TIMINGS, heartbeatMs: HEARTBEAT_MS };
  const limit = app.config.ctgov.idBatchSize;
  const log = app.log.child({ job: 'resync' });
  let stopped = false;
  let again = false;
  let draining: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (again && !stopped) {
      again = false;
      try {
        while (!stopped && (await hasClaimableRequests(pool, timings))) {
          const n = await deps.lane.run(() => (stopped || deps.shutdown.aborted ? Promise.resolve(0) : processBatch()));
          if (n === 0) break;
        }
      } catch (err) {
        log.warn({ err }, 'resync queue check failed');
      }
    }
  }

  async function processBatch(): Promise<number> {
    await deps.failures.flush();
    const claimed = await claimRequests(pool, CLAIMER, limit, timings);
    if (claimed.length === 0) return 0;
    const ids = [...new Set(claimed.map((c) => c.nctId))];
    const observedAt = new Date(app.clock().getTime());
    const controller = new AbortController();
    const unlink = linkAbort(deps.shutdown, controller);
    const heartbeat = setInterval(() => {
      heartbeatRequests(pool, CLAIMER, claimed.map((c) => c.id)).catch((err: unknown) =>
        log.warn({ err }, 'resync heartbeat failed'),
      );
    }, timings.heartbeatMs);
    const client = deps.newClient(controller.signal);
    metrics.setRunning('resync', true);
    log.info({ requests: claimed.length, ids: ids.length }, 'resync requests claimed');
    try {
      const summary = await syncPlan({ ...app, clock: () => new Date(observedAt.getTime()) }, client, { ids, queries: [] }, {
        source: 'resync',
        trigger: 'queue',
        signal: controller.signal,
        job: 'resync',
      });
      const errors = new Map<string, string>();
      for (const f of summary.failures) if (f.nctId) errors.set(f.nctId, `${f.stage}: ${f.error}`);
      const r = await finishRequests(pool, CLAIMER, claimed, observedAt, errors);
      metrics.observeRun('resync', summary.status, summary.counts);
      metrics.resyncRequests('done', r.done);
      metrics.resyncRequests('failed', r.failed);
      log.info({ runId: summary.runId, status: summary.status, ...r }, 'resync requests processed');
    } catch (err) {
      await onRunError(err, claimed, observedAt);
    } finally {
      clearInterval(heartbeat);
      metrics.setRunning('resync', false);
      unlink();
      await client.close({ abort: true });
    }
    return claimed.length;
  }

  async function onRunError(err: unknown, claimed: ClaimedRequest[], observedAt: Date): Promise<void> {
    const message = (err as Error)?.message ?? String(err);
    metrics.observeRun('resync', 'failed');
    const ids = claimed.map((c) => c.id);
    try {
      if (deps.shutdown.aborted) {
        // Interrupted, not failed: the next worker to start processes them.
        log.info({ err }, 'resync run interrupted by shutdown; requests handed back');
        await releaseRequests(pool, CLAIMER, ids);
        return;
      }
      log.error({ err }, 'resync run failed');
      await deps.failures.add({ job: 'resync', trigger: 'queue', observedAt, error: message });
      const r = await finishRequests(pool, CLAIMER, claimed, observedAt, new Map(claimed.map((c) => [c.nctId, message])));
      metrics.resyncRequests('failed', r.failed);
    } catch (e) {
      // The database is away: the rows stay running, stop heartbeating, and are claimed again later.
      log.warn({ err: e }, 'could not update the claimed resync requests');
    }
  }

  function wake(): void {
    if (stopped) return;
    again = true;
    if (draining) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (again) wake();
    });
  }

  return {
    wake,
    get busy() {
      return draining !== undefined;
    },
    async stop() {
      stopped = true;
      await draining;
    },
  };
}
