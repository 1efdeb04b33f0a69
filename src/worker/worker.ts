import type { AppContext } from '../app.js';
import { ConfigError } from '../errors.js';
import { answerResync } from './answerResync.js';
import { clientFactory } from './clientFactory.js';
import { createCtgovState } from './ctgovState.js';
import { createFailedRunLog } from './failedRuns.js';
import { checkHealth } from './health.js';
import { startHttpServer } from './httpServer.js';
import type { Job } from './job.js';
import { createJobLocks } from './jobLock.js';
import { createJobRunner } from './jobRunner.js';
import { createLane } from './lane.js';
import { loadLastSuccesses } from './loadLastSuccesses.js';
import { createWorkerMetrics } from './metrics.js';
import { queueDepth } from '../sql/queue.js';
import { startQueueWakeups, type QueueWakeups } from './queueWakeups.js';
import { releaseAbandonedWork } from './releaseAbandonedWork.js';
import { createResyncQueue } from './resyncQueue.js';
import { startScheduler, type Scheduler } from './scheduler.js';
import { removeWorkerInfo, writeWorkerInfo } from './workerInfo.js';
import { handleWeb } from '../web/webRoutes.js';
import { assertHttpAuth } from '../web/security.js';
import { startWebhookDelivery } from '../webhooks/deliveryWorker.js';
import { createWebhookMetrics } from '../webhooks/webhookMetrics.js';

export interface RunningWorker {
  readonly httpPort: number;
  /**
   * Stops scheduling and claiming, aborts CT.gov requests in flight, and waits (at most
   * `sync.shutdownTimeoutMs`) for runs to wind down: the batch being stored commits or rolls
   * back as a whole. Resolves `timedOut: true` if they did not finish in time. Idempotent.
   */
  stop(): Promise<{ timedOut: boolean }>;
}

/**
 * Starts the worker on a migrated database: the start-up jobs (schedule null), the cron
 * schedule, the resync queue (LISTEN and polling), and the health/metrics endpoint.
 */
export async function startWorker(app: AppContext, jobs: readonly Job[]): Promise<RunningWorker> {
  const { config, log, db } = app;
  assertHttpAuth(config.http);
  const shutdown = new AbortController();
  const metrics = createWorkerMetrics();
  const failures = createFailedRunLog(db.pool, log);
  const lane = createLane();
  const ctgov = createCtgovState(config.ctgov.baseUrl, log, metrics.registry);
  const newClient = clientFactory(config, log, metrics, ctgov);
  const runner = createJobRunner({ app, lane, locks: createJobLocks(db, log), metrics, failures, newClient, shutdown: shutdown.signal });
  const queue = createResyncQueue({ app, lane, metrics, failures, newClient, shutdown: shutdown.signal });

  await releaseAbandonedWork(db, log);
  await loadLastSuccesses(db.pool, metrics);
  metrics.setQueueDepthSource(() => queueDepth(db.pool));

  let scheduler: Scheduler | undefined;
  let wakeups: QueueWakeups | undefined;
  const http = await listenOrExplain(config.http.host, config.http.port, () => startHttpServer(
    config.http.host,
    config.http.port,
    {
      health: () =>
        checkHealth({
          pool: db.pool,
          schedulerRunning: () => scheduler?.running ?? false,
          queueMode: () => wakeups?.mode ?? 'polling',
          runningJobs: () => jobs.map((j) => j.name).filter((n) => runner.isRunning(n)),
          ctgov: () => ctgov.report(),
        }),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
      resync: (body) => answerResync(db.pool, body, () => queue.wake()),
      web: (req, res, url) => handleWeb(req, res, url, { pool: db.pool, ctgovStudyBaseUrl: config.mirror.ctgovStudyBaseUrl }),
      authToken: config.http.authToken,
    },
    log,
  ));

  const deliveries = startWebhookDelivery({
    pool: db.pool,
    log: log.child({ component: 'webhooks' }),
    hooks: config.webhooks,
    options: config.webhookDelivery,
    metrics: createWebhookMetrics(metrics.registry, db.pool),
    userAgent: config.ctgov.userAgent,
  });
  for (const job of jobs) if (job.schedule(config) === null) void runner.trigger(job, 'startup');
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const entries = jobs.flatMap((j) => {
    const expression = j.schedule(config);
    return expression === null ? [] : [{ name: j.name, expression }];
  });
  scheduler = startScheduler(entries, config.schedules.timezone, log, (name) => void runner.trigger(byName.get(name)!, 'cron'));
  wakeups = startQueueWakeups(db, config.sync.queuePollMs, log, () => queue.wake());
  const infoDir = db.kind === 'embedded' && config.database.dataDir !== 'memory://' ? config.database.dataDir : undefined;
  if (infoDir) writeWorkerInfo(infoDir, { pid: process.pid, host: config.http.host, port: http.port });
  log.info({ database: db.describe, httpPort: http.port, pid: process.pid }, 'worker started');

  let stopping: Promise<{ timedOut: boolean }> | undefined;
  async function stop(): Promise<{ timedOut: boolean }> {
    await scheduler?.stop();
    await wakeups?.stop();
    shutdown.abort(new Error('worker shutting down'));
    const settled = Promise.allSettled([...runner.inFlight(), queue.stop()]).then(() => false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), config.sync.shutdownTimeoutMs);
    });
    const timedOut = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    await deliveries.stop();
    if (!timedOut) await failures.flush();
    await http.close();
    if (infoDir) removeWorkerInfo(infoDir);
    return { timedOut };
  }
  return {
    httpPort: http.port,
    stop: () => (stopping ??= stop()),
  };
}

/** A port in use or not allowed: one line naming the setting, not `unexpected error: listen EADDRINUSE`. */
async function listenOrExplain<T>(host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError('HTTP_PORT', `port ${port} on ${host} is in use by another process (choose another HTTP_PORT, or 0 for any free port)`);
    if (code === 'EACCES') throw new ConfigError('HTTP_PORT', `not allowed to listen on port ${port} (ports below 1024 need privileges)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('HTTP_HOST', `cannot listen on ${host}: not an address of this machine`);
    throw err;
  }
}
