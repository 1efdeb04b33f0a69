import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { NO_PROBLEMS, integrityProblems, snapshotTables, type TableDigest } from '../support/dbSnapshot.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { waitFor } from '../support/waitFor.js';
import { CHAOS, chaosCatalog, chaosRandom, mirrorContents, writeIdFile } from './chaosSetup.js';
import { runWithKills } from './killLoop.js';

/*
 * Crash safety against a real Postgres server: `ctgov-sync sync --file ids.txt` over CHAOS_STUDIES
 * synthetic studies, (1) SIGKILLed CHAOS_KILLS times and restarted, (2) its database connections
 * cut CHAOS_CUTS times with pg_terminate_backend; after a last, complete run each database must
 * equal that of one uninterrupted run, with no half-stored study and no doubled change row.
 */

const adminUrl = process.env.TEST_DATABASE_URL;
const catalog = chaosCatalog(Math.max(CHAOS.studies, CHAOS.cutStudies));
let fake: FakeCtgov;
let admin: pg.Pool;
const envs: CliEnv[] = [];

interface Baseline {
  tables: Record<string, TableDigest>;
  mirror: Map<string, string>;
}
const baselines = new Map<number, Baseline>();

/** A fresh database, mirror and ID file for a sync of the first `size` catalog studies. */
async function freshEnv(size: number): Promise<CliEnv & { args: string[] }> {
  const e = await cliEnv(fake.url, { sync: { storeBatchSize: 200 } }, { backend: 'server' });
  envs.push(e);
  return { ...e, args: ['sync', '--file', writeIdFile(e.cwd, catalog.ids().slice(0, size))] };
}

/** What one uninterrupted run of the same sync leaves behind (computed once per size). */
async function baselineOf(size: number): Promise<Baseline> {
  const known = baselines.get(size);
  if (known) return known;
  const e = await freshEnv(size);
  const started = Date.now();
  const r = await startCli(e.args, e.env, { timeoutMs: 600_000 }).exited;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  console.info(`[chaos] uninterrupted run of ${size} studies: ${Date.now() - started} ms`);
  const baseline = { tables: await e.withDb(snapshotTables), mirror: mirrorContents(e.mirrorDir).pages };
  expect(baseline.tables.studies!.rows).toBe(size);
  expect(baseline.mirror.size).toBe(size + 1); // and index.md
  baselines.set(size, baseline);
  return baseline;
}

const dbName = (e: CliEnv) => new URL(e.databaseUrl!).pathname.slice(1);

const PROBE = 'chaos-probe';
const probes = new Map<CliEnv, pg.Pool>();

/** Studies committed so far, read through a connection the cuts spare (by application_name). */
/** The newest sync_runs id (0 before the first run has migrated). */
async function lastRunId(e: CliEnv): Promise<number> {
  await studyCount(e); // opens the probe pool
  return probes
    .get(e)!
    .query<{ id: number }>('select coalesce(max(id), 0)::int as id from ctgov.sync_runs')
    .then((r) => r.rows[0]!.id, () => 0);
}

async function studyCount(e: CliEnv): Promise<number> {
  let pool = probes.get(e);
  if (!pool) {
    pool = new pg.Pool({ connectionString: e.databaseUrl, max: 1, application_name: PROBE });
    pool.on('error', () => undefined);
    probes.set(e, pool);
  }
  // Before the first run has migrated there is no table yet.
  return pool.query<{ n: number }>('select count(*)::int as n from ctgov.studies').then((r) => r.rows[0]!.n, () => 0);
}

/** Whether the sync has a transaction open right now (its own connections, not the probe's). */
async function openTransactions(e: CliEnv): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = $1 and application_name <> $2 and xact_start is not null and state <> 'idle'`,
    [dbName(e), PROBE],
  );
  return rows.map((r) => r.pid);
}

beforeAll(async () => {
  if (!adminUrl) throw new Error('the chaos suite runs against a Postgres server: set TEST_DATABASE_URL');
  admin = new pg.Pool({ connectionString: adminUrl, max: 2 });
  fake = await startFakeCtgov({ studies: catalog.all() });
});

afterAll(async () => {
  await fake?.close();
  for (const p of probes.values()) await p.end();
  await admin?.end();
  for (const e of envs) await e.done();
});

/**
 * The database must equal the uninterrupted run's, and so must the mirror: every page present,
 * none torn or stale (a study committed just before a kill has its page written by the next
 * run, see studies.mirrored_hash), and no temp file a kill left mid-write (the next run removes them).
 */
async function expectSameAsBaseline(e: CliEnv, baseline: Baseline, scenario: string): Promise<void> {
  expect(await e.withDb(integrityProblems)).toEqual(NO_PROBLEMS);
  expect(await e.withDb(snapshotTables)).toEqual(baseline.tables);
  const mirror = mirrorContents(e.mirrorDir);
  for (const [name, text] of mirror.pages) expect(text, name).toBe(baseline.mirror.get(name));
  const missing = [...baseline.mirror.keys()].filter((name) => !mirror.pages.has(name));
  console.info(`[chaos] ${scenario}: ${mirror.pages.size} mirror page(s), ${missing.length} missing, ${mirror.tempFiles.length} temp file(s) left`);
  expect(missing).toEqual([]);
  expect(mirror.tempFiles).toEqual([]);
}

describe('crash safety on a Postgres server', () => {
  it(`survives ${CHAOS.kills} SIGKILLs at random moments and ends equal to an uninterrupted run`, async () => {
    const baseline = await baselineOf(CHAOS.studies);
    const e = await freshEnv(CHAOS.studies);
    const result = await runWithKills({
      args: e.args,
      env: e.env,
      kills: CHAOS.kills,
      total: CHAOS.studies,
      random: chaosRandom('server-kills'),
      progress: () => studyCount(e),
      inTransaction: async () => (await openTransactions(e)).length > 0,
      jitterMs: 2_000,
      earlyMs: 2_500,
      timeoutMs: 600_000,
    });
    const inTx = result.kills.filter((k) => k.inTransaction).length;
    console.info(
      `[chaos] server kills: ${result.kills.length} delivered (${inTx} with a transaction open), ` +
        `${result.finishedEarly} run(s) finished first; studies stored at each kill: ${result.kills.map((k) => `${k.progress} (${k.mode}, ${k.atMs} ms)`).join(', ')}`,
    );
    expect(result.kills).toHaveLength(CHAOS.kills);
    expect(result.final.stderr).toBe('');
    expect(result.final.code).toBe(0);
    await expectSameAsBaseline(e, baseline, 'server kills');
  });

  it(`a database connection cut mid-transaction fails the run cleanly (${CHAOS.cuts} cuts), and the next run completes it`, async () => {
    const size = CHAOS.cutStudies;
    const baseline = await baselineOf(size);
    let e = await freshEnv(size);
    const random = chaosRandom('server-cuts');
    let cuts = 0;
    let startupCuts = 0;
    // An attempt misses when the transaction it saw commits before the cut lands (a batch's
    // transaction lasts tens of milliseconds): the budget allows for many misses.
    for (let attempt = 1; cuts < CHAOS.cuts && attempt <= CHAOS.cuts * 10; attempt++) {
      const before = await studyCount(e);
      const runBefore = await lastRunId(e);
      const proc = startCli(e.args, e.env, { timeoutMs: 300_000 });
      const target = Math.min(size - 1, before + Math.ceil((random() * (size - before)) / (CHAOS.cuts - cuts + 1)));
      await waitFor(async () => !proc.running || (await studyCount(e)) >= target, { timeoutMs: 300_000, what: `progress ${target}`, everyMs: 50 });
      const state = await waitFor(
        async () => (!proc.running ? 'finished' : (await openTransactions(e)).length > 0 ? 'in transaction' : undefined),
        { timeoutMs: 60_000, what: 'a transaction of the sync', everyMs: 5 },
      );
      if (state === 'finished') {
        // The run ended before a transaction could be cut; with every study stored, the next
        // attempt would have nothing left to cut into: start again from an empty database.
        if ((await studyCount(e)) >= size) e = await freshEnv(size);
        continue;
      }
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name <> $2', [
        dbName(e),
        PROBE,
      ]);
      const r = await proc.exited;
      if (r.code === 0) {
        // The transaction committed just before the cut: only idle connections were cut, and the
        // run went on to finish. As above, a finished catalog leaves nothing to cut into.
        if ((await studyCount(e)) >= size) e = await freshEnv(size);
        continue;
      }
      expect(r.signal).toBeNull();
      expect([1, 2]).toContain(r.code);
      const messages = r.stderr.split('\n').filter((l) => l.startsWith('ctgov-sync:'));
      expect(messages, r.stderr).toEqual([expect.stringMatching(/^ctgov-sync: lost the connection to the database: /)]);
      if ((await lastRunId(e)) === runBefore) {
        // Cut in the program's start-up transaction (migrations), before its run began: it
        // stopped cleanly, but that is not a cut in the middle of a run.
        startupCuts++;
        continue;
      }
      cuts++;
      const run = await e.withDb(async (pool) => (await pool.query('select status, error from ctgov.sync_runs order by id desc limit 1')).rows[0]);
      expect(run).toMatchObject({ status: 'failed', error: expect.any(String) });
    }
    if (startupCuts > 0) console.info(`[chaos] server connection cuts: ${startupCuts} more landed in start-up (exit 2, no run begun)`);
    console.info(`[chaos] server connection cuts: ${cuts} delivered mid-transaction, each run failed cleanly and was recorded as failed`);
    expect(cuts).toBe(CHAOS.cuts);
    const final = await startCli(e.args, e.env, { timeoutMs: 600_000 }).exited;
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);
    await expectSameAsBaseline(e, baseline, 'server cuts');
  });
});
