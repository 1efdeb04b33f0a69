import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { NO_PROBLEMS, integrityProblems, snapshotTables } from '../support/dbSnapshot.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { seededRandom } from '../support/fakeCtgovFaults.js';
import { SyntheticCatalog } from '../support/syntheticCatalog.js';
import { testBackend } from '../support/testDb.js';
import { waitFor } from '../support/waitFor.js';

/*
 * Two `ctgov-sync sync` processes at once. On a server: over overlapping study sets, twice, with
 * changes and removals on CT.gov between the rounds, into one database; the result must
 * equal running the same syncs one after the other (no change row lost or doubled, no deadlock
 * left unhandled). On the embedded database: the second process is refused while the first runs.
 */

const SIZE = 200;
const catalog = new SyntheticCatalog(SIZE, { maxBytes: 20_000 });
const ids = catalog.ids();
let fake: FakeCtgov;
const envs: CliEnv[] = [];

beforeAll(async () => {
  fake = await startFakeCtgov({ studies: catalog.all() });
});

afterAll(async () => {
  await fake?.close();
  for (const e of envs) await e.done();
});

async function env(): Promise<CliEnv> {
  // Small batches and shuffled ID files, so that the two runs' transactions interleave over shared studies.
  const e = await cliEnv(fake.url, { ctgov: { idBatchSize: 20 }, sync: { storeBatchSize: 20 } });
  envs.push(e);
  return e;
}

function shuffled(list: string[], seed: number): string[] {
  const random = seededRandom(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function sync(e: CliEnv, file: string): Promise<void> {
  const r = await startCli(['sync', '--file', file], e.env, { timeoutMs: 120_000 }).exited;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

if (testBackend === 'server') {
  describe('two concurrent syncs against one Postgres server', () => {
    it('leave the same studies, versions and change rows as the same syncs run one after the other', async () => {
      const [together, apart] = [await env(), await env()];
      const files = (e: CliEnv, round: number) => {
        const a = join(e.cwd, `a${round}.txt`);
        const b = join(e.cwd, `b${round}.txt`);
        writeFileSync(a, shuffled(ids.slice(0, 130), round * 2 + 1).join('\n'));
        writeFileSync(b, shuffled(ids.slice(70), round * 2 + 2).join('\n'));
        return [a, b] as const;
      };
      for (let round = 0; round < 2; round++) {
        if (round === 1) {
          for (let i = 0; i < SIZE; i += 3) fake.setStudy(catalog.study(i, 1));
          for (let i = 0; i < SIZE; i += 5) fake.setStudy(catalog.study(i, 2));
          for (const i of [10, 100, 101, 190]) fake.removeStudy(ids[i]!);
        }
        const [a1, b1] = files(together, round);
        const [a2, b2] = files(apart, round);
        await Promise.all([Promise.all([sync(together, a1), sync(together, b1)]), sync(apart, a2).then(() => sync(apart, b2))]);
      }
      const [concurrent, sequential] = [await together.withDb(snapshotTables), await apart.withDb(snapshotTables)];
      expect(await together.withDb(integrityProblems)).toEqual(NO_PROBLEMS);
      expect(concurrent).toEqual(sequential);
      await together.withDb(async (pool) => {
        const kinds = (await pool.query('select kind, count(*)::int as n from ctgov.field_changes group by kind order by kind')).rows;
        expect(kinds.map((k) => k.kind)).toEqual(['added', 'changed', 'removed']);
        // Each study removed once, though both runs asked for it.
        const removed = (await pool.query("select count(*)::int as n from ctgov.field_changes where path = 'study'")).rows[0].n;
        expect(removed).toBe(4);
        const runs = (await pool.query('select status, started_at, finished_at from ctgov.sync_runs order by started_at')).rows;
        expect(runs.map((r) => r.status)).toEqual(Array(4).fill('succeeded'));
        // The two runs of each round really ran at the same time.
        for (let i = 0; i < 4; i += 2) expect(runs[i + 1].started_at.getTime()).toBeLessThan(runs[i].finished_at.getTime());
      });
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      const dbName = new URL(together.databaseUrl!).pathname.slice(1);
      const { rows } = await admin.query('select deadlocks::int as n from pg_stat_database where datname = $1', [dbName]);
      await admin.end();
      console.info(`[reliability] 2 rounds of 2 concurrent syncs: ${concurrent.field_changes!.rows} change rows, equal to sequential; deadlocks reported by Postgres: ${rows[0]?.n}`);
    });
  });
} else {
  describe('two concurrent syncs on one embedded DATA_DIR', () => {
    it('refuses the second process with exit 2 while the first runs, and the first completes', async () => {
      const e = await env();
      const file = join(e.cwd, 'ids.txt');
      writeFileSync(file, ids.slice(0, 50).join('\n'));
      fake.injectFaults({ kind: 'slow', delayMs: 3_000, path: '/studies', nth: 1 });
      const first = startCli(['sync', '--file', file], e.env, { timeoutMs: 120_000 });
      const lock = join(e.env.DATA_DIR!, 'ctgov-sync.lock');
      // The first process has the database once it asks CT.gov for the studies.
      await waitFor(() => !first.running || (fake.requests.length > 0 && existsSync(lock)), { timeoutMs: 60_000, what: 'the first sync to fetch' });
      expect(first.running).toBe(true);
      expect(readFileSync(lock, 'utf8').trim()).toBe(String(first.pid));
      const second = await startCli(['sync', '--file', file], e.env, { timeoutMs: 60_000 }).exited;
      expect(second.code).toBe(2);
      expect(second.stderr.trim()).toMatch(new RegExp(`^ctgov-sync: the embedded database in .* is in use by another ctgov-sync process \\(pid ${first.pid}\\)`));
      const done = await first.exited;
      expect(done.stderr).toBe('');
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(/50 new, 0 changed/);
      expect(existsSync(lock)).toBe(false);
    });
  });
}
