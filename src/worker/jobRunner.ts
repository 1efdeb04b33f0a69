import type { AppContext } from '../app.js';
import type { CtgovClient } from '../ctgov/client.js';
import type { RunTrigger } from '../sql/runs.js';
import { linkAbort } from '../linkAbort.js';
import type { ClientFactory } from './clientFactory.js';
import type { FailedRunLog } from './failedRuns.js';
import type { Job, JobContext, JobResult } from './job.js';
import type { JobLock, JobLocks } from './jobLock.js';
import type { Lane } from './lane.js';
import type { WorkerMetrics } from './metrics.js';

export interface JobRunnerDeps {
  app: AppContext;
  lane: Lane;
  locks: JobLocks;
  metrics: WorkerMetrics;
  failures: FailedRunLog;
  newClient: ClientFactory;
  /** Aborted when the worker stops: no new runs, in-flight HTTP aborted. */
  shutdown: AbortSignal;
}

export interface JobRunner {
  /** Starts a run unless one of the same job is still going in this process (then logs and skips). */
  trigger(job: Job, trigger: RunTrigger): Promise<void> | undefined;
  /** Runs in progress or waiting for the CT.gov lane. */
  inFlight(): Promise<void>[];
  isRunning(job: string): boolean;
}

/**
 * Runs jobs: never two runs of one job at once in this process (a tick that finds the last run
 * still going is skipped), and never on two workers at once (the job's advisory lock; a worker
 * that finds it taken skips the tick). CT.gov jobs wait their turn in the lane. A run that
 * throws is logged, counted and recorded as failed, later if the database is what failed.
 */
export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { app, metrics, shutdown } = deps;
  const active = new Map<string, Promise<void>>();

  async function execute(job: Job, trigger: RunTrigger): Promise<void> {
    if (shutdown.aborted) return;
    await deps.failures.flush();
    let lock: JobLock | undefined;
    try {
      lock = await deps.locks.tryAcquire(job.name);
    } catch (err) {
      // No run was started: nothing to record. The next tick tries again.
      app.log.warn({ job: job.name, err }, 'job not started: cannot take its lock');
      metrics.tickSkipped(job.name, 'error');
      return;
    }
    if (!lock) {
      app.log.debug({ job: job.name }, 'job is running on another worker; tick skipped');
      metrics.tickSkipped(job.name, 'locked');
      return;
    }
    const controller = new AbortController();
    const unlink = linkAbort(shutdown, controller);
    lock.onLost((err) => controller.abort(new Error(`job lock lost: ${err.message}`)));
    const observedAt = new Date(app.clock().getTime());
    const log = app.log.child({ job: job.name, trigger });
    let client: CtgovClient | undefined;
    const ctx: JobContext = {
      app: { ...app, clock: () => new Date(observedAt.getTime()) },
      log,
      trigger,
      observedAt,
      ctgov: () => (client ??= deps.newClient(controller.signal)),
    };
    metrics.setRunning(job.name, true);
    try {
      const result = await job.run(ctx, controller.signal);
      finished(job.name, result, log);
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      metrics.observeRun(job.name, 'failed');
      if (shutdown.aborted) log.info({ err }, 'run interrupted by shutdown');
      else log.error({ err }, 'job run failed');
      await deps.failures.add({ job: job.name, trigger, observedAt, error: message });
    } finally {
      metrics.setRunning(job.name, false);
      unlink();
      await client?.close({ abort: true });
      await lock.release();
    }
  }

  function finished(job: string, result: JobResult | undefined, log: AppContext['log']): void {
    if (!result) {
      log.debug('nothing to do');
      return;
    }
    metrics.observeRun(job, result.status, result.counts);
    const named = result.failedStudies ? { failedStudies: result.failedStudies } : {};
    log.info({ runId: result.runId, status: result.status, ...result.counts, ...named }, 'job run finished');
  }

  return {
    trigger(job, trigger) {
      if (shutdown.aborted) return undefined;
      if (active.has(job.name)) {
        app.log.warn({ job: job.name }, 'previous run still going; tick skipped');
        metrics.tickSkipped(job.name, 'overlap');
        return undefined;
      }
      const run = job.usesCtgov ? deps.lane.run(() => execute(job, trigger)) : execute(job, trigger);
      const tracked = run
        .catch((err: unknown) => app.log.error({ job: job.name, err }, 'job runner error'))
        .finally(() => active.delete(job.name));
      active.set(job.name, tracked);
      return tracked;
    },
    inFlight: () => [...active.values()],
    isRunning: (job) => active.has(job),
  };
}
