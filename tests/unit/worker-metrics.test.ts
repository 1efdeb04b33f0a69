import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../src/worker/metrics.js';

const counts = { requested: 3, fetched: 3, inserted: 1, changed: 1, unchanged: 1, removed: 0, failed: 0, http_requests: 2 };

describe('worker metrics', () => {
  it('counts runs, studies, HTTP requests, retries and rate-limit waits in a registry of their own', async () => {
    const m = createWorkerMetrics();
    m.onClientEvent({ type: 'request', endpoint: '/studies', status: 200, durationMs: 120 });
    m.onClientEvent({ type: 'request', endpoint: '/studies', status: 429, durationMs: 5 });
    m.onClientEvent({ type: 'request', endpoint: '/version', status: undefined, durationMs: 5 });
    m.onClientEvent({ type: 'retry', endpoint: '/studies', reason: 'rateLimited', attempt: 1, delayMs: 1000 });
    m.onClientEvent({ type: 'rateLimitWait', ms: 1500, source: 'server' });
    m.observeRun('refresh', 'succeeded', counts, new Date('2026-11-01T00:00:00Z'));
    m.observeRun('refresh', 'failed');
    m.tickSkipped('refresh', 'overlap');
    const text = await m.render();
    expect(text).toContain('ctgov_sync_http_requests_total{endpoint="/studies",status="200"} 1');
    expect(text).toContain('ctgov_sync_http_requests_total{endpoint="/studies",status="429"} 1');
    expect(text).toContain('ctgov_sync_http_requests_total{endpoint="/version",status="none"} 1');
    expect(text).toContain('ctgov_sync_http_retries_total{endpoint="/studies",reason="rateLimited"} 1');
    expect(text).toContain('ctgov_sync_rate_limit_waits_total{source="server"} 1');
    expect(text).toContain('ctgov_sync_rate_limit_wait_seconds_total{source="server"} 1.5');
    expect(text).toContain('ctgov_sync_runs_total{job="refresh",status="succeeded"} 1');
    expect(text).toContain('ctgov_sync_runs_total{job="refresh",status="failed"} 1');
    expect(text).toContain('ctgov_sync_studies_total{job="refresh",outcome="changed"} 1');
    expect(text).toContain('ctgov_sync_job_last_success_timestamp_seconds{job="refresh"} 1793491200');
    expect(text).toContain('ctgov_sync_job_ticks_skipped_total{job="refresh",reason="overlap"} 1');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await register.metrics()).not.toContain('ctgov_sync_');
  });

  it('reads the queue depth at scrape time and keeps the last values when the database does not answer', async () => {
    const m = createWorkerMetrics();
    let fail = false;
    m.setQueueDepthSource(async () => {
      if (fail) throw new Error('database gone');
      return { pending: 4 };
    });
    expect(await m.render()).toContain('ctgov_sync_resync_queue_depth{status="pending"} 4');
    fail = true;
    const text = await m.render();
    expect(text).toContain('ctgov_sync_resync_queue_depth{status="pending"} 4');
    expect(text).toContain('ctgov_sync_resync_queue_depth{status="running"} 0');
  });
});
