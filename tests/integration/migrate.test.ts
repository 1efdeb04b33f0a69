import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, migrate, readMigrations } from '../../src/db/migrate.js';
import { MigrationError } from '../../src/errors.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

const TABLES = [
  'studies', 'conditions', 'keywords', 'sponsors', 'arms', 'interventions', 'outcomes', 'locations',
  'officials', 'study_references', 'secondary_ids', 'mesh_terms', 'study_versions', 'field_changes',
  'sync_runs', 'tracked_studies', 'sync_state', 'sync_failures', 'resync_requests', 'study_aliases',
];

/**
 * A pool of its own (a session of its own). Dropping the test database afterwards terminates
 * backends that are still closing; their FATAL message must not surface as an unhandled error.
 */
function quietPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

async function tableNames(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'ctgov' order by 1",
  );
  return rows.map((r) => r.table_name);
}

describe('migrate', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates schema ctgov with every table on a fresh database', async () => {
    const result = await migrate(t.db.pool, silentLog);
    expect(result.applied).toEqual(readMigrations().map((m) => m.name));
    const names = await tableNames(t.db.pool);
    for (const table of TABLES) expect(names).toContain(table);
  });

  it('is a no-op when run again', async () => {
    const before = await t.db.pool.query('select id, applied_at from ctgov.schema_migrations order by id');
    const result = await migrate(t.db.pool, silentLog);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(readMigrations().length);
    const after = await t.db.pool.query('select id, applied_at from ctgov.schema_migrations order by id');
    expect(after.rows).toEqual(before.rows);
  });

  it('lets concurrent runners apply each migration exactly once', async () => {
    const fresh = await openTestDatabase({ migrate: false });
    // On a server each runner gets its own pool (its own session); embedded, they share one.
    const pools =
      fresh.url !== undefined ? [1, 2, 3].map(() => quietPool(fresh.url!)) : [fresh.db.pool, fresh.db.pool, fresh.db.pool];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, silentLog)));
      const appliedCount = results.reduce((n, r) => n + r.applied.length, 0);
      expect(appliedCount).toBe(readMigrations().length);
      const { rows } = await fresh.db.pool.query('select count(*)::int as n from ctgov.schema_migrations');
      expect(rows[0].n).toBe(readMigrations().length);
    } finally {
      if (fresh.url !== undefined) await Promise.all(pools.map((p) => p.end()));
      await fresh.close();
    }
  });

  it('refuses to run when an applied migration file was changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-migrations-'));
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    const first = join(dir, '0001_core.sql');
    writeFileSync(first, readFileSync(first, 'utf8') + '\n-- edited after landing\n');
    await expect(migrate(t.db.pool, silentLog, dir)).rejects.toThrow(MigrationError);
    await expect(migrate(t.db.pool, silentLog, dir)).rejects.toThrow(/0001_core\.sql was changed after it was applied/);
  });

  it('applies a new migration added after the others and rolls back a failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-migrations-'));
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    const next = String(readMigrations().length + 1).padStart(4, '0');
    writeFileSync(join(dir, `${next}_broken.sql`), 'create table ctgov.half_done (id int);\nselect * from no_such_table;\n');
    await expect(migrate(t.db.pool, silentLog, dir)).rejects.toThrow(/broken\.sql failed/);
    expect(await tableNames(t.db.pool)).not.toContain('half_done');
    writeFileSync(join(dir, `${next}_broken.sql`), 'create table ctgov.half_done (id int);\n');
    const result = await migrate(t.db.pool, silentLog, dir);
    expect(result.applied).toEqual([`${next}_broken.sql`]);
    expect(await tableNames(t.db.pool)).toContain('half_done');
  });

  it('validates and canonicalises IDs in request_resync', async () => {
    const { rows } = await t.db.pool.query("select ctgov.request_resync(array[' nct00855400', 'NCT00855400'], 'test') as id");
    expect(rows).toHaveLength(1);
    const queued = await t.db.pool.query('select nct_id, reason, status from ctgov.resync_requests');
    expect(queued.rows).toEqual([{ nct_id: 'NCT00855400', reason: 'test', status: 'pending' }]);
    await expect(t.db.pool.query("select ctgov.request_resync(array['NCT1; drop table x'], 'x')")).rejects.toThrow(/invalid NCT ID/);
    // Short IDs are refused, not padded: 'NCT855400' is most likely a typo.
    await expect(t.db.pool.query("select ctgov.request_resync(array['NCT855400'], 'x')")).rejects.toThrow(/invalid NCT ID 'NCT855400'/);
  });
});
