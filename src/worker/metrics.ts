import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClientEvent } from '../ctgov/client.js';
import type { RunCounts } from '../sql/runs.js';
import { withTimeout } from './withTimeout.js';

export type TickSkipReason = 'overlap' | 'locked' | 'error';

export interface WorkerMetrics {
  readonly registry: Registry;
  onClientEvent(e: ClientEvent): void;
  /** A run of `job` ended with `status` (a JobResult's, or 'failed' for one that threw). */
  observeRun(job: string, status: string, counts?: RunCounts, at?: Date): void;
  tickSkipped(job: string, reason: TickSkipReason): void;
  setRunning(job: string, running: boolean): void;
  lastSuccess(job: string, at: Date): void;
  resyncRequests(status: 'done' | 'failed', n: number): void;
  /** Queue depth is read from the database at scrape time through this function. */
  setQueueDepthSource(read: () => Promise<Record<string, number>>): void;
  render(): Promise<string>;
  readonly contentType: string;
}

/** Statuses counted as a job doing its work (skipped = checked, nothing new upstream). */
const SUCCESS = new Set(['succeeded', 'partial', 'skipped']);
const STUDY_OUTCOMES = ['fetched', 'inserted', 'changed', 'unchanged', 'removed', 'failed'] as const;
const QUEUE_READ_TIMEOUT_MS = 2000;

/** The worker's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const runs = new Counter({ name: 'ctgov_sync_runs_total', help: 'Job runs by job and final status', labelNames: ['job', 'status'], registers });
  const studies = new Counter({
    name: 'ctgov_sync_studies_total',
    help: 'Studies handled by runs, by job and outcome (fetched, inserted, changed, unchanged, removed, failed)',
    labelNames: ['job', 'outcome'],
    registers,
  });
  const requests = new Counter({
    name: 'ctgov_sync_http_requests_total',
    help: 'HTTP requests to CT.gov by endpoint and status ("none" when no response arrived)',
    labelNames: ['endpoint', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'ctgov_sync_http_request_duration_seconds',
    help: 'Duration of HTTP requests to CT.gov',
    labelNames: ['endpoint'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const retries = new Counter({
    name: 'ctgov_sync_http_retries_total',
    help: 'Retried CT.gov requests by endpoint and reason',
    labelNames: ['endpoint', 'reason'],
    registers,
  });
  const waits = new Counter({ name: 'ctgov_sync_rate_limit_waits_total', help: 'Rate-limit waits by source', labelNames: ['source'], registers });
  const waitSeconds = new Counter({
    name: 'ctgov_sync_rate_limit_wait_seconds_total',
    help: 'Time spent waiting for the rate limit (limiter: our own pacing, server: 429 Retry-After)',
    labelNames: ['source'],
    registers,
  });
  const historyVersions = new Counter({
    name: 'ctgov_sync_history_versions_fetched_total',
    help: 'Record versions fetched from the CT.gov history endpoint (/history/{v}, HTTP 200)',
    registers,
  });
  const backfilled = new Counter({
    name: 'ctgov_sync_studies_backfilled_total',
    help: 'Studies whose change history a backfill run rebuilt from CT.gov record versions',
    registers,
  });
  const skipped = new Counter({
    name: 'ctgov_sync_job_ticks_skipped_total',
    help: 'Schedule ticks not run: the previous run was still going (overlap), another worker held the job (locked), or its lock could not be taken (error)',
    labelNames: ['job', 'reason'],
    registers,
  });
  const running = new Gauge({ name: 'ctgov_sync_job_running', help: '1 while a run of the job is in progress', labelNames: ['job'], registers });
  const lastSuccess = new Gauge({
    name: 'ctgov_sync_job_last_success_timestamp_seconds',
    help: 'When a run of the job last ended succeeded, partial or skipped (Unix time)',
    labelNames: ['job'],
    registers,
  });
  const resync = new Counter({ name: 'ctgov_sync_resync_requests_total', help: 'Resync requests processed by final status', labelNames: ['status'], registers });
  let readQueue: (() => Promise<Record<string, number>>) | undefined;
  new Gauge({
    name: 'ctgov_sync_resync_queue_depth',
    help: 'Resync requests waiting (pending) or being worked on (running)',
    labelNames: ['status'],
    registers,
    async collect() {
      if (!readQueue) return;
      // A scrape during a database outage keeps the last values instead of failing or hanging.
      const depth = await withTimeout(readQueue(), QUEUE_READ_TIMEOUT_MS).catch(() => undefined);
      if (!depth) return;
      for (const status of ['pending', 'running']) this.set({ status }, depth[status] ?? 0);
    },
  });

  const metrics: WorkerMetrics = {
    registry,
    contentType: registry.contentType,
    onClientEvent(e) {
      if (e.type === 'request') {
        requests.inc({ endpoint: e.endpoint, status: e.status === undefined ? 'none' : String(e.status) });
        duration.observe({ endpoint: e.endpoint }, e.durationMs / 1000);
        if (e.endpoint === '/history/{v}' && e.status === 200) historyVersions.inc();
      } else if (e.type === 'retry') {
        retries.inc({ endpoint: e.endpoint, reason: e.reason });
      } else {
        waits.inc({ source: e.source });
        waitSeconds.inc({ source: e.source }, e.ms / 1000);
      }
    },
    observeRun(job, status, counts, at = new Date()) {
      runs.inc({ job, status });
      if (counts) for (const outcome of STUDY_OUTCOMES) if (counts[outcome] > 0) studies.inc({ job, outcome }, counts[outcome]);
      if (job === 'backfill' && counts && counts.changed > 0) backfilled.inc(counts.changed);
      if (SUCCESS.has(status)) metrics.lastSuccess(job, at);
    },
    tickSkipped: (job, reason) => skipped.inc({ job, reason }),
    setRunning: (job, on) => running.set({ job }, on ? 1 : 0),
    lastSuccess: (job, at) => lastSuccess.set({ job }, at.getTime() / 1000),
    resyncRequests(status, n) {
      if (n > 0) resync.inc({ status }, n);
    },
    setQueueDepthSource(read) {
      readQueue = read;
    },
    render: () => registry.metrics(),
  };
  return metrics;
}
