import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { NO_PROBLEMS, integrityProblems, snapshotTables } from '../support/dbSnapshot.js';
import { startFakeCtgov, type FakeCtgov, type FakeHistoryVersion } from '../support/fakeCtgov.js';
import { CHAOS, chaosCatalog, chaosRandom, mirrorContents, writeIdFile } from './chaosSetup.js';
import { runWithKills } from './killLoop.js';

/*
 * Crash safety of the history backfill on a Postgres server: 50 studies synced live, then
 * `ctgov-sync backfill` SIGKILLed CHAOS_KILLS times at random moments (fetching, inside a study's
 * transaction, rendering pages) and restarted; after a last, complete run every table and every
 * mirror page must equal those of one uninterrupted backfill of the same studies.
 */

const STUDIES = 50;
const adminUrl = process.env.TEST_DATABASE_URL;
const catalog = chaosCatalog(STUDIES);
let fake: FakeCtgov;
let admin: pg.Pool;
const envs: CliEnv[] = [];
const PROBE = 'chaos-probe';
const probes = new Map<CliEnv, pg.Pool>();

/** Four versions per study: registration, two edits (status, enrollment), today's record. */
function historyOf(i: number): FakeHistoryVersion[] {
  const year = 2010 + (i % 10);
  const at = (v: number) => `${year + v}-0${1 + (i % 8)}-1${v}`;
  const v0 = catalog.study(i);
  const ps = v0.protocolSection;
  ps.statusModule = { ...ps.statusModule, overallStatus: 'NOT_YET_RECRUITING' };
  ps.designModule = { ...ps.designModule, enrollmentInfo: { count: 50 + i, type: 'ESTIMATED' } };
  const v1 = structuredClone(v0);
  v1.protocolSection.statusModule.overallStatus = 'RECRUITING';
  const v2 = structuredClone(v1);
  v2.protocolSection.designModule.enrollmentInfo = { count: 80 + i, type: 'ESTIMATED' };
  return [
    { date: at(0), study: v0 },
    { date: at(1), study: v1 },
    { date: at(2), study: v2 },
    { date: at(3), study: catalog.study(i), markup: i % 2 === 0 ? 'reflowed' : 'standard' },
  ];
}

/** A database and mirror of their own, with the 50 studies synced live (uninterrupted). */
async function syncedEnv(): Promise<CliEnv> {
  const e = await cliEnv(fake.url, {}, { backend: 'server' });
  envs.push(e);
  const r = await startCli(['sync', '--file', writeIdFile(e.cwd, catalog.ids())], e.env, { timeoutMs: 300_000 }).exited;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return e;
}

async function backfilledCount(e: CliEnv): Promise<number> {
  let pool = probes.get(e);
  if (!pool) {
    pool = new pg.Pool({ connectionString: e.databaseUrl, max: 1, application_name: PROBE });
    pool.on('error', () => undefined);
    probes.set(e, pool);
  }
  return pool.query<{ n: number }>('select count(*)::int as n from ctgov.history_backfills').then((r) => r.rows[0]!.n, () => 0);
}

async function inTransaction(e: CliEnv): Promise<boolean> {
  const { rows } = await admin.query(
    `select 1 from pg_stat_activity where datname = $1 and application_name <> $2 and xact_start is not null and state <> 'idle'`,
    [new URL(e.databaseUrl!).pathname.slice(1), PROBE],
  );
  return rows.length > 0;
}

beforeAll(async () => {
  if (!adminUrl) throw new Error('the chaos suite runs against a Postgres server: set TEST_DATABASE_URL');
  admin = new pg.Pool({ connectionString: adminUrl, max: 2 });
  fake = await startFakeCtgov({ studies: catalog.all() });
  for (let i = 0; i < STUDIES; i++) fake.setHistory(catalog.ids()[i]!, historyOf(i));
  // Slow history answers, so that a kill lands anywhere in a run of 250 requests.
  fake.injectFaults({ kind: 'slow', path: '/int/', delayMs: 15 });
});

afterAll(async () => {
  await fake?.close();
  for (const p of probes.values()) await p.end();
  await admin?.end();
  for (const e of envs) await e.done();
});

describe('crash safety of the history backfill', () => {
  it(`survives ${CHAOS.kills} SIGKILLs during a backfill of ${STUDIES} studies and ends equal to an uninterrupted backfill`, async () => {
    const base = await syncedEnv();
    const done = await startCli(['backfill'], base.env, { timeoutMs: 300_000 }).exited;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`${STUDIES} studies backfilled, 0 unchanged, 0 without history, 0 failed; ${STUDIES * 4} versions fetched`));
    const baseline = { tables: await base.withDb(snapshotTables), mirror: mirrorContents(base.mirrorDir).pages };
    expect(baseline.tables.history_backfills!.rows).toBe(STUDIES);

    const e = await syncedEnv();
    const result = await runWithKills({
      args: ['backfill'],
      env: e.env,
      kills: CHAOS.kills,
      total: STUDIES,
      random: chaosRandom('backfill-kills'),
      progress: () => backfilledCount(e),
      inTransaction: () => inTransaction(e),
      jitterMs: 500,
      earlyMs: 1_500,
      timeoutMs: 300_000,
    });
    const inTx = result.kills.filter((k) => k.inTransaction).length;
    console.info(
      `[chaos] backfill kills: ${result.kills.length} delivered (${inTx} with a transaction open), ${result.finishedEarly} run(s) finished first; ` +
        `studies backfilled at each kill: ${result.kills.map((k) => `${k.progress} (${k.mode}, ${k.atMs} ms)`).join(', ')}`,
    );
    expect(result.kills).toHaveLength(CHAOS.kills);
    expect(result.final.stderr).toBe('');
    expect(result.final.code).toBe(0);

    expect(await e.withDb(integrityProblems)).toEqual(NO_PROBLEMS);
    expect(await e.withDb(snapshotTables)).toEqual(baseline.tables);
    const mirror = mirrorContents(e.mirrorDir);
    for (const [name, text] of baseline.mirror) expect(mirror.pages.get(name), name).toBe(text);
    expect(mirror.tempFiles).toEqual([]);
  });
});
