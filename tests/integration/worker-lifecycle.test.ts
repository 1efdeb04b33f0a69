import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { CTGOV_FIXTURE_DIR, readFixture } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { testBackend } from '../support/testDb.js';
import { waitFor } from '../support/waitFor.js';
import {
  consistencyProblems,
  exitWithin,
  getText,
  openDb,
  startWorkerProcess,
  workerEnv,
  type LogLine,
  type WorkerEnv,
  type WorkerProcess,
} from '../support/workerHarness.js';

/*
 * One `ctgov-sync worker` process on a fresh database, driven through its schedule, its queue
 * and its HTTP endpoint, then stopped with SIGTERM; then the `resync` CLI and a second worker
 * that picks up what was queued while no worker ran. While a worker runs, progress is followed
 * in its log; the database is inspected once it has stopped (an embedded database cannot be
 * opened while the worker holds it).
 */

const WATCHLIST = ['NCT00000410', 'NCT00162175', 'NCT00184067', 'NCT00203242', 'NCT00329836', 'NCT00353704'];
const CHANGED = 'NCT00162175';
const RESYNCED = 'NCT00184067';

const finished = (job: string, status?: string) => (l: LogLine) => l.msg === 'job run finished' && l.job === job && (status === undefined || l.status === status);

describe('ctgov-sync worker (real process)', () => {
  let fake: FakeCtgov;
  let env: WorkerEnv;
  let worker: WorkerProcess;
  let httpPort: number;
  const seen: { changeRunId?: number; newStatus?: string; oldStatus?: string; resyncRequestId?: number } = {};

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR, dataTimestamp: '2026-10-14T09:00:00' });
    env = await workerEnv(fake.url, {
      watchlist: { ids: WATCHLIST, queries: [] },
      schedules: { incremental: '*/1 * * * * *' },
      // Server: only a NOTIFY can meet the 5-second deadline below. Embedded has no LISTEN and polls.
      sync: { queuePollMs: testBackend === 'server' ? 60_000 : 300 },
    });
    worker = startWorkerProcess(env);
    httpPort = await worker.ready();
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await fake?.close();
    await env?.done();
  });

  it('syncs the watchlist on start-up, writes the mirror, and serves /healthz and /metrics', async () => {
    const startup = await worker.waitForLog(finished('sync'));
    expect(startup).toMatchObject({ trigger: 'startup', status: 'succeeded', fetched: WATCHLIST.length, inserted: WATCHLIST.length, failed: 0 });
    for (const id of WATCHLIST) expect(existsSync(join(env.mirrorDir, `${id}.md`))).toBe(true);
    expect(existsSync(join(env.mirrorDir, 'index.md'))).toBe(true);

    const health = await getText(httpPort, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', database: 'ok', scheduler: 'running' });

    const metrics = await getText(httpPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('ctgov_sync_runs_total{job="sync",status="succeeded"} 1');
    expect(metrics.body).toContain(`ctgov_sync_studies_total{job="sync",outcome="inserted"} ${WATCHLIST.length}`);
    expect(metrics.body).toMatch(/ctgov_sync_http_requests_total\{endpoint="\/studies",status="200"\} [1-9]/);
    expect(metrics.body).toMatch(/ctgov_sync_job_last_success_timestamp_seconds\{job="sync"\} 1\d{9}/);
    expect(metrics.body).toContain('ctgov_sync_resync_queue_depth{status="pending"} 0');
    expect((await getText(httpPort, '/nothing-here')).status).toBe(404);
  });

  it('incremental: skipped while dataTimestamp stays, then fetches exactly the updated study', async () => {
    // The first run (no watermark yet) covers everything tracked; the ones after it are skipped.
    const first = await worker.waitForLog(finished('incremental', 'succeeded'));
    expect(first).toMatchObject({ fetched: WATCHLIST.length, changed: 0 });
    await worker.waitForLog((l) => finished('incremental', 'skipped')(l) && (l.runId as number) > (first.runId as number) + 1);
    for (const s of worker.lines.filter(finished('incremental', 'skipped'))) expect(s).toMatchObject({ fetched: 0, http_requests: 1 });

    const study = readFixture(CHANGED) as { protocolSection: { statusModule: Record<string, any> } };
    const status = study.protocolSection.statusModule;
    seen.oldStatus = status.overallStatus as string;
    seen.newStatus = seen.oldStatus === 'TERMINATED' ? 'COMPLETED' : 'TERMINATED';
    status.overallStatus = seen.newStatus;
    status.lastUpdatePostDateStruct = { ...status.lastUpdatePostDateStruct, date: '2026-10-20' };
    fake.setStudy(study);
    fake.resetCounts();
    fake.setDataTimestamp('2026-10-20T09:00:00');

    const run = await worker.waitForLog((l) => finished('incremental', 'succeeded')(l) && l.runId !== first.runId);
    expect(run).toMatchObject({ fetched: 1, changed: 1, unchanged: 0, inserted: 0, failed: 0 });
    seen.changeRunId = run.runId as number;
    // The watermark is the data's date, 2026-10-14; minus the 2 overlap days.
    const listing = fake.requests.filter((r) => r.path === '/studies' && r.query['filter.advanced'] !== undefined);
    expect(listing.map((r) => [r.query['filter.advanced'], r.query.fields])).toEqual([['AREA[LastUpdatePostDate]RANGE[2026-10-12,MAX]', 'NCTId,NCTIdAlias']]);
    const byId = fake.requests.filter((r) => r.path === '/studies' && r.query['filter.ids'] !== undefined);
    expect(byId.map((r) => r.query['filter.ids'])).toEqual([CHANGED]);
    await worker.waitForLog((l) => finished('incremental', 'skipped')(l) && (l.runId as number) > seen.changeRunId!);
  });

  it('processes a resync request made against the running worker within 5 seconds', async () => {
    const started = Date.now();
    if (env.databaseUrl) {
      // A real server: straight through SQL; the worker hears the NOTIFY.
      const client = new pg.Client({ connectionString: env.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query("select ctgov.request_resync(array['nct00184067'], 'test') as id");
        seen.resyncRequestId = Number(rows[0].id);
        const done = await waitFor(async () => {
          const r = await client.query('select * from ctgov.resync_requests where id = $1', [seen.resyncRequestId]);
          return r.rows[0]?.status === 'done' ? r.rows[0] : undefined;
        }, { timeoutMs: 5_000, everyMs: 20 });
        expect(done.run_id).not.toBeNull();
      } finally {
        await client.end();
      }
    } else {
      // Embedded: the worker holds the database, so the CLI hands the request to its HTTP endpoint.
      const r = await runCli(['resync', 'nct00184067', '--reason', 'test'], { env: env.env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`queued 1 resync request for ${RESYNCED}\n`);
    }
    const processed = await worker.waitForLog((l) => l.msg === 'resync requests processed', Math.max(0, 5_000 - (Date.now() - started)));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(processed).toMatchObject({ status: 'succeeded', done: 1, failed: 0 });
  });

  it('stops on SIGTERM with exit code 0', async () => {
    worker.kill('SIGTERM');
    expect(await exitWithin(worker, 15_000)).toEqual({ code: 0, signal: null });
    expect(worker.lines.some((l) => l.msg === 'worker stopped')).toBe(true);
    expect(worker.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('left the database with the runs, the exact change, the watermark and the done request', async () => {
    const { pool, close } = await openDb(env);
    try {
      const startup = await pool.query("select trigger, status, fetched from ctgov.sync_runs where job = 'sync'");
      expect(startup.rows).toEqual([{ trigger: 'startup', status: 'succeeded', fetched: WATCHLIST.length }]);
      const tracked = await pool.query("select nct_id from ctgov.tracked_studies where source = 'config' order by nct_id");
      expect(tracked.rows.map((r) => r.nct_id)).toEqual(WATCHLIST);

      const changes = await pool.query('select nct_id, path, kind, old_value, new_value from ctgov.field_changes where run_id = $1 order by path', [
        seen.changeRunId,
      ]);
      expect(changes.rows).toEqual([
        { nct_id: CHANGED, path: 'status.lastUpdatePostDate', kind: 'changed', old_value: expect.anything(), new_value: '2026-10-20' },
        { nct_id: CHANGED, path: 'status.overallStatus', kind: 'changed', old_value: seen.oldStatus, new_value: seen.newStatus },
      ]);
      const run = await pool.query('select params from ctgov.sync_runs where id = $1', [seen.changeRunId]);
      expect(run.rows[0].params).toMatchObject({ lastUpdateFrom: '2026-10-12', dataTimestamp: '2026-10-20T09:00:00' });
      const mark = await pool.query("select value from ctgov.sync_state where key = 'incremental.watermark'");
      expect(mark.rows[0].value).toEqual({ date: '2026-10-20', dataTimestamp: '2026-10-20T09:00:00', runId: seen.changeRunId });

      const request = await pool.query(
        `select q.nct_id, q.reason, q.status, q.error, q.claimed_by, r.job, r.trigger, r.status as run_status, r.fetched
           from ctgov.resync_requests q join ctgov.sync_runs r on r.id = q.run_id`,
      );
      expect(request.rows).toEqual([
        {
          nct_id: RESYNCED,
          reason: 'test',
          status: 'done',
          error: null,
          claimed_by: expect.stringMatching(/:\d+$/),
          job: 'resync',
          trigger: 'queue',
          run_status: 'succeeded',
          fetched: 1,
        },
      ]);
      expect(await consistencyProblems(pool)).toEqual([]);
      expect((await pool.query("select count(*)::int as n from ctgov.sync_runs where status = 'running'")).rows[0].n).toBe(0);
    } finally {
      await close();
    }
  });

  it('resync CLI: bad NCT IDs and bad usage exit 2 with one line', async () => {
    const bad = await runCli(['resync', 'NCT00000410', 'NCTX1'], { env: env.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/invalid NCT ID "NCTX1"/);
    expect(bad.stdout).toBe('');
    for (const args of [['resync'], ['resync', '--all', 'NCT00000410']]) {
      const r = await runCli(args, { env: env.env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('resync --all queues every tracked study, and a worker started later processes them', async () => {
    const queued = await runCli(['resync', '--all', '--reason', 'nightly check'], { env: env.env });
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(0);
    expect(queued.stdout).toBe(`queued ${WATCHLIST.length} resync requests for every tracked study\n`);

    const second = startWorkerProcess(env);
    try {
      await second.ready();
      const processed = await second.waitForLog((l) => l.msg === 'resync requests processed', 15_000);
      expect(processed).toMatchObject({ status: 'succeeded', done: WATCHLIST.length, failed: 0 });
      second.kill('SIGTERM');
      expect(await exitWithin(second, 15_000)).toEqual({ code: 0, signal: null });
      // The watchlist was synced before: no second start-up sync.
      expect(second.lines.filter(finished('sync'))).toEqual([]);
    } finally {
      second.kill('SIGKILL');
    }
    const { pool, close } = await openDb(env);
    try {
      const rows = await pool.query("select nct_id, status from ctgov.resync_requests where reason = 'nightly check' order by nct_id");
      expect(rows.rows).toEqual(WATCHLIST.map((nct_id) => ({ nct_id, status: 'done' })));
    } finally {
      await close();
    }
    expect(readdirSync(env.mirrorDir).filter((f) => f.endsWith('.md'))).toHaveLength(WATCHLIST.length + 1);
  });
});
