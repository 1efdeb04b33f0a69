import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { CTGOV_FIXTURE_DIR, fixtureIds } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { silentLog } from '../support/testDb.js';
import { waitFor } from '../support/waitFor.js';
import {
  consistencyProblems,
  exitWithin,
  getText,
  openDb,
  startTcpProxy,
  startWorkerProcess,
  workerEnv,
  type LogLine,
  type WorkerEnv,
  type WorkerProcess,
} from '../support/workerHarness.js';

/*
 * Real worker processes: graceful shutdown (SIGTERM in the middle of a run, a second signal while
 * a transaction cannot finish, the shutdown time limit), and two workers sharing a database.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setUp(config: Record<string, unknown>): Promise<{ fake: FakeCtgov; env: WorkerEnv }> {
  const fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
  cleanups.push(() => fake.close());
  const env = await workerEnv(fake.url, config);
  cleanups.push(() => env.done());
  return { fake, env };
}

function start(env: WorkerEnv): WorkerProcess {
  const w = startWorkerProcess(env);
  cleanups.push(async () => w.kill('SIGKILL'));
  return w;
}

describe('worker shutdown (real process)', () => {
  it('SIGTERM in the middle of a run exits 0, records the run as failed and leaves no half-written study', async () => {
    const ids = fixtureIds().slice(0, 40);
    const { fake, env } = await setUp({
      watchlist: { ids, queries: [] },
      ctgov: { idBatchSize: 4, concurrency: 1 },
      sync: { shutdownTimeoutMs: 20_000 },
    });
    // Each /studies answer takes 300 ms: the start-up sync of 10 batches lasts about 3 s.
    fake.injectFaults({ kind: 'slow', path: '/studies', delayMs: 300 });
    const worker = start(env);
    await worker.ready();
    await waitFor(() => fake.requests.filter((r) => r.path === '/studies' && r.finished !== undefined).length >= 4, { timeoutMs: 30_000, everyMs: 50 });
    worker.kill('SIGTERM');
    expect(await exitWithin(worker, 10_000)).toEqual({ code: 0, signal: null });
    expect(worker.lines.some((l) => l.msg === 'run interrupted by shutdown' && l.job === 'sync')).toBe(true);

    const { pool, close } = await openDb(env);
    try {
      const runs = await pool.query("select status, error, fetched, inserted from ctgov.sync_runs where job = 'sync'");
      expect(runs.rows).toHaveLength(1);
      const run = runs.rows[0];
      expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/shutting down/) });
      expect(run.fetched).toBeGreaterThanOrEqual(4);
      expect(run.fetched).toBeLessThan(ids.length);
      const stored = await pool.query('select count(*)::int as n from ctgov.studies');
      expect(stored.rows[0].n).toBe(run.inserted);
      expect(await consistencyProblems(pool)).toEqual([]);
    } finally {
      await close();
    }
  });

  /** A migrated server database whose `studies` table the test holds locked: the worker's first batch blocks. */
  async function blockedWorker(shutdownTimeoutMs: number): Promise<{ env: WorkerEnv; worker: WorkerProcess; lock: pg.Client }> {
    const { env } = await setUp({ watchlist: { ids: fixtureIds().slice(0, 4), queries: [] }, sync: { shutdownTimeoutMs } });
    const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 1 });
    await migrate(pool, silentLog);
    await pool.end();
    const lock = new pg.Client({ connectionString: env.databaseUrl });
    await lock.connect();
    cleanups.push(() => lock.end());
    await lock.query('begin');
    await lock.query('lock table ctgov.studies in exclusive mode');
    const worker = start(env);
    await worker.ready();
    const dbName = new URL(env.databaseUrl!).pathname.slice(1);
    await waitFor(async () => {
      // pg_stat_activity is read once per transaction unless the snapshot is cleared.
      await lock.query('select pg_stat_clear_snapshot()');
      const r = await lock.query("select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'", [dbName]);
      return r.rows[0].n > 0;
    }, { timeoutMs: 20_000, everyMs: 50 });
    return { env, worker, lock };
  }

  if (process.env.TEST_DATABASE_URL) {
    it('a second signal exits at once while the open transaction cannot finish; the server rolls it back', async () => {
      const { env, worker, lock } = await blockedWorker(60_000);
      worker.kill('SIGTERM');
      await worker.waitForLog((l) => l.msg === 'shutting down');
      worker.kill('SIGINT');
      const exit = await exitWithin(worker, 5_000);
      expect(exit.code).toBe(130);
      expect(worker.lines.some((l) => l.msg === 'second signal: exiting now')).toBe(true);
      await lock.query('rollback');

      const { pool, close } = await openDb(env);
      try {
        expect((await pool.query('select count(*)::int as n from ctgov.studies')).rows[0].n).toBe(0);
        expect(await consistencyProblems(pool)).toEqual([]);
      } finally {
        await close();
      }
    });

    it('gives up after sync.shutdownTimeoutMs with exit code 1', async () => {
      const { worker, lock } = await blockedWorker(1_000);
      const signalled = Date.now();
      worker.kill('SIGTERM');
      const exit = await exitWithin(worker, 10_000);
      expect(exit.code).toBe(1);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_000);
      expect(worker.lines.some((l) => l.msg === 'runs did not finish in time; exiting')).toBe(true);
      await lock.query('rollback');
    });
  }
});

const EVERY_SECOND = '*/1 * * * * *';

/*
 * Two workers on one database (a server only: two processes cannot share an embedded DATA_DIR).
 * Every job ticks every second on both, so without the advisory locks their runs would overlap;
 * every queued request must be processed by exactly one of them. Registered in the server pass only.
 */
if (process.env.TEST_DATABASE_URL) describe('two workers on one database (real processes)', () => {
  let fake: FakeCtgov | undefined;
  let env: WorkerEnv | undefined;
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await fake?.close();
    await env?.done();
  });

  it('process every queued request exactly once and never run one job at the same moment', async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    // Slow answers make runs long enough to collide if nothing kept them apart.
    fake.injectFaults({ kind: 'slow', path: '/studies', delayMs: 150 });
    const ids = fixtureIds();
    env = await workerEnv(fake.url, {
      watchlist: { ids: ids.slice(0, 10), queries: ['cond=NSCLC'] },
      schedules: { incremental: EVERY_SECOND, refresh: EVERY_SECOND, mirror: EVERY_SECOND, discover: EVERY_SECOND },
      ctgov: { idBatchSize: 5 },
      sync: { refreshBatchSize: 5, queuePollMs: 200 },
    });
    const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
    try {
      await migrate(pool, silentLog);
      const a = startWorkerProcess(env);
      const b = startWorkerProcess(env);
      workers.push(a, b);
      await Promise.all([a.ready(), b.ready()]);

      // 60 requests for 60 distinct studies, in a few calls while both workers run.
      const wanted = ids.slice(100, 160);
      for (let i = 0; i < wanted.length; i += 15) {
        await pool.query('select ctgov.request_resync($1::text[], $2)', [wanted.slice(i, i + 15), `batch ${i / 15}`]);
      }
      const requests = await waitFor(async () => {
        const r = await pool.query<{ nct_id: string; status: string; run_id: number; claimed_by: string }>(
          'select nct_id, status, run_id, claimed_by from ctgov.resync_requests order by id',
        );
        return r.rows.every((x) => x.status === 'done' || x.status === 'failed') ? r.rows : undefined;
      }, { timeoutMs: 30_000, everyMs: 50 });
      expect(requests).toHaveLength(wanted.length);
      expect(requests.filter((r) => r.status !== 'done')).toEqual([]);
      // Exactly once: the resync runs together asked for each study once.
      const resyncRuns = await pool.query<{ requested: number; fetched: number }>(
        "select requested, fetched from ctgov.sync_runs where job = 'resync' and status <> 'running'",
      );
      expect(resyncRuns.rows.reduce((n, r) => n + r.requested, 0)).toBe(wanted.length);
      expect(resyncRuns.rows.reduce((n, r) => n + r.fetched, 0)).toBe(wanted.length);
      const runIds = new Set(requests.map((r) => r.run_id));
      const linked = await pool.query("select count(*)::int as n from ctgov.sync_runs where id = any($1::bigint[]) and job = 'resync'", [[...runIds]]);
      expect(linked.rows[0].n).toBe(runIds.size);

      // Let both tick through a few more seconds of every job.
      await waitFor(async () => {
        const r = await pool.query<{ job: string; n: number }>(
          "select job, count(*)::int as n from ctgov.sync_runs where job in ('incremental', 'refresh', 'mirror', 'discover') group by job",
        );
        return r.rows.length === 4 && r.rows.every((x) => x.n >= 3);
      }, { timeoutMs: 30_000, everyMs: 50 });
      for (const w of [a, b]) w.kill('SIGTERM');
      for (const w of [a, b]) expect(await exitWithin(w, 15_000)).toEqual({ code: 0, signal: null });
      // Both workers took part in the jobs, so the locks were actually contested.
      const byWorker = [a, b].map((w) => w.lines.filter((l) => l.msg === 'job run finished').length);
      expect(byWorker.every((n) => n > 0)).toBe(true);

      const runs = await pool.query<{ id: number; job: string; started_at: Date; finished_at: Date | null }>(
        "select id, job, started_at, finished_at from ctgov.sync_runs where job <> 'resync' order by job, started_at, id",
      );
      const overlaps: string[] = [];
      for (let i = 1; i < runs.rows.length; i++) {
        const prev = runs.rows[i - 1]!;
        const cur = runs.rows[i]!;
        if (prev.job !== cur.job) continue;
        if (prev.finished_at === null || prev.finished_at > cur.started_at) overlaps.push(`${cur.job}: run ${prev.id} and run ${cur.id}`);
      }
      expect(overlaps).toEqual([]);
      expect(runs.rows.filter((r) => r.job === 'sync')).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});

// A server only: the worker reaches it through a proxy the test can cut.
if (process.env.TEST_DATABASE_URL) describe('database outage (real process)', () => {
  const finishedRefresh = (l: LogLine) => l.msg === 'job run finished' && l.job === 'refresh' && l.status === 'succeeded';

  it('fails the run in progress, stays up, records the failure once the database is back, and works again', async () => {
    const { fake, env } = await setUp({
      watchlist: { ids: fixtureIds().slice(0, 4), queries: [] },
      schedules: { refresh: '*/1 * * * * *' },
      sync: { refreshBatchSize: 2, queuePollMs: 60_000 },
    });
    fake.injectFaults({ kind: 'slow', path: '/studies', delayMs: 400 });
    const direct = new URL(env.databaseUrl!);
    const proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    cleanups.push(() => proxy.close());
    const proxied = new URL(direct.href);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const worker = startWorkerProcess(env, { DATABASE_URL: proxied.href });
    cleanups.push(async () => worker.kill('SIGKILL'));
    const httpPort = await worker.ready();
    await worker.waitForLog(finishedRefresh);

    // Cut the database while a refresh run waits for CT.gov.
    const seen = fake.requests.length;
    await waitFor(() => fake.requests.slice(seen).some((r) => r.path === '/studies' && r.finished === undefined), { everyMs: 50 });
    proxy.cut();
    await worker.waitForLog((l) => l.msg === 'job run failed' && l.job === 'refresh');
    await worker.waitForLog((l) => l.msg === 'failed run not recorded yet');
    const down = await getText(httpPort, '/healthz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({ status: 'unavailable', database: 'unreachable' });

    const restoredAt = worker.lines.length;
    proxy.restore();
    await worker.waitForLog(finishedRefresh, 30_000, restoredAt);
    expect((await getText(httpPort, '/healthz')).status).toBe(200);

    // The LISTEN connection came back too: with polling once a minute, only a NOTIFY is this fast.
    await worker.waitForLog((l) => l.msg === 'resync listener reconnected', 30_000, restoredAt);
    const client = new pg.Client({ connectionString: env.databaseUrl });
    await client.connect();
    cleanups.push(() => client.end());
    const { rows } = await client.query("select ctgov.request_resync(array['NCT00000410'], 'after outage') as id");
    await waitFor(async () => {
      const r = await client.query('select status from ctgov.resync_requests where id = $1', [rows[0].id]);
      return r.rows[0]?.status === 'done';
    }, { timeoutMs: 5_000, everyMs: 20 });

    worker.kill('SIGTERM');
    expect(await exitWithin(worker, 15_000)).toEqual({ code: 0, signal: null });
    const runs = await client.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from ctgov.sync_runs where job = 'refresh' group by status order by status",
    );
    const byStatus = Object.fromEntries(runs.rows.map((r) => [r.status, r.n]));
    expect(byStatus.failed).toBeGreaterThanOrEqual(1);
    expect(byStatus.succeeded).toBeGreaterThanOrEqual(2);
    expect(byStatus.running).toBeUndefined();
  });
});
