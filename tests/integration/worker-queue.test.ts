import { hostname } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { releaseAbandonedWork } from '../../src/worker/releaseAbandonedWork.js';
import { createFailedRunLog } from '../../src/worker/failedRuns.js';
import { recordFailedRun } from '../../src/sql/runs.js';
import type { Job } from '../../src/worker/job.js';
import { createJobLocks } from '../../src/worker/jobLock.js';
import { createJobRunner } from '../../src/worker/jobRunner.js';
import { createLane } from '../../src/worker/lane.js';
import { createWorkerMetrics } from '../../src/worker/metrics.js';
import { claimRequests, finishRequests, hasClaimableRequests, queueDepth, releaseRequests } from '../../src/sql/queue.js';
import { openTestDatabase, silentLog, testBackend, type TestDatabase } from '../support/testDb.js';

/*
 * The resync queue's SQL, the failed-run bookkeeping and the job locks, on the test database.
 */

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.db.pool.query('truncate ctgov.resync_requests, ctgov.sync_runs restart identity cascade');
});

const q = (sql: string, params: unknown[] = []) => t.db.pool.query(sql, params).then((r) => r.rows);
const TIMINGS = { staleAfterMs: 60_000, maxAttempts: 3 };

async function request(ids: string[], reason = 'test'): Promise<number[]> {
  const rows = await q('select ctgov.request_resync($1::text[], $2) as id', [ids, reason]);
  return rows.map((r) => Number(r.id));
}

describe('resync queue', () => {
  it('claims pending requests oldest first, each once, and closes them done or failed for the claimer only', async () => {
    await request(['NCT00000001', 'NCT00000002']);
    await request(['NCT00000003']);
    expect(await queueDepth(t.db.pool)).toEqual({ pending: 3 });
    const a = await claimRequests(t.db.pool, 'host:1', 2, TIMINGS);
    const b = await claimRequests(t.db.pool, 'host:2', 5, TIMINGS);
    expect(a.map((c) => c.nctId)).toEqual(['NCT00000001', 'NCT00000002']);
    expect(b.map((c) => c.nctId)).toEqual(['NCT00000003']);
    expect(await claimRequests(t.db.pool, 'host:3', 5, TIMINGS)).toEqual([]);
    expect(await hasClaimableRequests(t.db.pool, TIMINGS)).toBe(false);
    expect(await queueDepth(t.db.pool)).toEqual({ running: 3 });

    const observedAt = new Date('2026-11-01T00:00:00.123Z');
    const run = await q("insert into ctgov.sync_runs (job, trigger, observed_at) values ('resync', 'queue', $1) returning id", [observedAt]);
    // host:2 cannot close host:1's rows.
    expect(await finishRequests(t.db.pool, 'host:2', a, observedAt, new Map())).toEqual({ done: 0, failed: 0 });
    const closed = await finishRequests(t.db.pool, 'host:1', a, observedAt, new Map([['NCT00000002', 'fetch: not found']]));
    expect(closed).toEqual({ done: 1, failed: 1 });
    expect(await q('select nct_id, status, error, run_id, claimed_by, attempts from ctgov.resync_requests order by id')).toEqual([
      { nct_id: 'NCT00000001', status: 'done', error: null, run_id: run[0].id, claimed_by: 'host:1', attempts: 1 },
      { nct_id: 'NCT00000002', status: 'failed', error: 'fetch: not found', run_id: run[0].id, claimed_by: 'host:1', attempts: 1 },
      { nct_id: 'NCT00000003', status: 'running', error: null, run_id: null, claimed_by: 'host:2', attempts: 1 },
    ]);

    await releaseRequests(t.db.pool, 'host:2', b.map((c) => c.id));
    expect(await q('select status, claimed_by, attempts from ctgov.resync_requests where id = $1', [b[0]!.id])).toEqual([
      { status: 'pending', claimed_by: null, attempts: 0 },
    ]);
  });

  it('claims again a request whose worker stopped heartbeating, and fails it after the last attempt', async () => {
    const [stale, exhausted, alive] = await request(['NCT00000011', 'NCT00000012', 'NCT00000013']);
    await q(
      `update ctgov.resync_requests set status = 'running', claimed_by = 'gone:1', claimed_at = now() - interval '1 hour',
              heartbeat_at = case when id = $2 then now() else now() - interval '10 minutes' end,
              attempts = case when id = $1 then 3 else 1 end`,
      [exhausted, alive],
    );
    expect(await hasClaimableRequests(t.db.pool, TIMINGS)).toBe(true);
    const claimed = await claimRequests(t.db.pool, 'host:9', 10, TIMINGS);
    expect(claimed.map((c) => c.id)).toEqual([stale]);
    expect(await q('select id, status, claimed_by, attempts, error from ctgov.resync_requests order by id')).toEqual([
      { id: stale, status: 'running', claimed_by: 'host:9', attempts: 2, error: null },
      { id: exhausted, status: 'failed', claimed_by: 'gone:1', attempts: 3, error: 'abandoned by its worker 3 time(s)' },
      { id: alive, status: 'running', claimed_by: 'gone:1', attempts: 1, error: null },
    ]);
  });

  if (testBackend === 'server') {
    it('lets concurrent claimers take disjoint rows (FOR UPDATE SKIP LOCKED)', async () => {
      const ids = Array.from({ length: 60 }, (_, i) => `NCT${String(100 + i).padStart(8, '0')}`);
      await request(ids);
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => claimRequests(t.db.pool, `host:${i}`, 15, TIMINGS)));
      const all = claims.flat().map((c) => c.nctId);
      expect(all).toHaveLength(60);
      expect(new Set(all).size).toBe(60);
    });
  }

  it('hands back work abandoned by a dead worker at start-up', async () => {
    await request(['NCT00000021', 'NCT00000022']);
    const dead = `${hostname()}:2147483646`;
    await q("update ctgov.resync_requests set status = 'running', claimed_by = case when nct_id = 'NCT00000021' then $1 else 'elsewhere:1' end, claimed_at = now(), heartbeat_at = now()", [dead]);
    await q("insert into ctgov.sync_runs (job, trigger, observed_at) values ('refresh', 'cron', now())");
    await releaseAbandonedWork(t.db, silentLog);
    const rows = await q('select nct_id, status from ctgov.resync_requests order by nct_id');
    const runs = await q('select status, error from ctgov.sync_runs');
    if (t.db.kind === 'embedded') {
      // One process per DATA_DIR: whatever is running was abandoned.
      expect(rows).toEqual([
        { nct_id: 'NCT00000021', status: 'pending' },
        { nct_id: 'NCT00000022', status: 'pending' },
      ]);
      expect(runs).toEqual([{ status: 'failed', error: 'abandoned: the process stopped before the run finished' }]);
    } else {
      // A server: only a dead process of this host is known to be gone.
      expect(rows).toEqual([
        { nct_id: 'NCT00000021', status: 'pending' },
        { nct_id: 'NCT00000022', status: 'running' },
      ]);
      expect(runs).toEqual([{ status: 'running', error: null }]);
    }
  });
});

describe('failed runs', () => {
  const at = (s: string) => new Date(`2026-11-01T00:00:${s}Z`);

  it('closes a run left running, inserts one for a run that never got a row, and never duplicates', async () => {
    await q("insert into ctgov.sync_runs (job, trigger, observed_at) values ('refresh', 'cron', $1)", [at('01.001')]);
    await q("insert into ctgov.sync_runs (job, trigger, observed_at, status, finished_at, error) values ('refresh', 'cron', $1, 'failed', now(), 'first')", [
      at('02.002'),
    ]);
    for (const s of ['01.001', '02.002', '03.003', '03.003']) {
      await recordFailedRun(t.db.pool, { job: 'refresh', trigger: 'cron', observedAt: at(s), error: 'database gone' });
    }
    expect(await q("select observed_at, status, error, finished_at is not null as finished from ctgov.sync_runs order by observed_at")).toEqual([
      { observed_at: at('01.001'), status: 'failed', error: 'database gone', finished: true },
      { observed_at: at('02.002'), status: 'failed', error: 'first', finished: true },
      { observed_at: at('03.003'), status: 'failed', error: 'database gone', finished: true },
    ]);
  });

  it('keeps failures while the database is away and records them once it answers', async () => {
    let down = true;
    const pool = {
      query: (sql: string, params: unknown[]) => (down ? Promise.reject(new Error('connection terminated')) : t.db.pool.query(sql, params)),
    } as unknown as pg.Pool;
    const failures = createFailedRunLog(pool, silentLog);
    await failures.add({ job: 'incremental', trigger: 'cron', observedAt: at('04.004'), error: 'connection terminated' });
    expect(failures.pending).toBe(1);
    await failures.flush();
    expect(failures.pending).toBe(1);
    down = false;
    await failures.flush();
    expect(failures.pending).toBe(0);
    expect(await q("select job, status, error from ctgov.sync_runs where job = 'incremental'")).toEqual([
      { job: 'incremental', status: 'failed', error: 'connection terminated' },
    ]);
  });
});

describe('job locks', () => {
  const app = (): AppContext => ({ config: loadConfig({}), log: silentLog, db: t.db, clock: () => new Date(), close: async () => undefined });
  const job = (runs: string[]): Job => ({
    name: 'refresh',
    usesCtgov: false,
    schedule: () => '* * * * *',
    run: async () => {
      runs.push('ran');
      return undefined;
    },
  });

  function runner(metrics = createWorkerMetrics()) {
    const shutdown = new AbortController();
    return {
      metrics,
      runner: createJobRunner({
        app: app(),
        lane: createLane(),
        locks: createJobLocks(t.db, silentLog),
        metrics,
        failures: createFailedRunLog(t.db.pool, silentLog),
        newClient: () => {
          throw new Error('no CT.gov here');
        },
        shutdown: shutdown.signal,
      }),
    };
  }

  if (testBackend === 'server') {
    it('skips a tick while another worker holds the job lock, and runs once it is released', async () => {
      const other = new pg.Client(t.db.clientConfig);
      await other.connect();
      try {
        await other.query("select pg_advisory_lock(hashtextextended('ctgov-sync job refresh', 7312))");
        const runs: string[] = [];
        const { runner: r, metrics } = runner();
        await r.trigger(job(runs), 'cron');
        expect(runs).toEqual([]);
        expect(await metrics.render()).toContain('ctgov_sync_job_ticks_skipped_total{job="refresh",reason="locked"} 1');
        await other.query("select pg_advisory_unlock(hashtextextended('ctgov-sync job refresh', 7312))");
        await r.trigger(job(runs), 'cron');
        expect(runs).toEqual(['ran']);
      } finally {
        await other.end();
      }
    });

    it('aborts the run when its lock connection is lost', async () => {
      const { runner: r } = runner();
      let seen: AbortSignal | undefined;
      const lockPids = () =>
        // pg_locks spans the whole server, where other test files' workers take the same job lock.
        q(`select pid from pg_locks
            where locktype = 'advisory' and objid = (hashtextextended('ctgov-sync job refresh', 7312) & 4294967295)::oid
              and database = (select oid from pg_database where datname = current_database())`);
      const running = r.trigger(
        {
          ...job([]),
          run: async (_ctx, signal) => {
            seen = signal;
            const [lock] = await lockPids();
            await q('select pg_terminate_backend($1)', [lock.pid]);
            await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve())));
            throw signal.reason;
          },
        },
        'cron',
      );
      await running;
      expect(seen?.aborted).toBe(true);
      expect(String((seen?.reason as Error).message)).toMatch(/job lock lost/);
      expect(await q("select job, status from ctgov.sync_runs where job = 'refresh'")).toEqual([{ job: 'refresh', status: 'failed' }]);
    });
  }

  it('never runs a job twice at once in one process: the overlapping tick is skipped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const slow: Job = { ...job([]), run: async () => ((runs++, await gate), undefined) };
    const { runner: r, metrics } = runner();
    const first = r.trigger(slow, 'cron');
    expect(r.trigger(slow, 'cron')).toBeUndefined();
    expect(r.isRunning('refresh')).toBe(true);
    release();
    await first;
    await r.trigger(slow, 'cron');
    expect(runs).toBe(2);
    expect(await metrics.render()).toContain('ctgov_sync_job_ticks_skipped_total{job="refresh",reason="overlap"} 1');
  });
});
