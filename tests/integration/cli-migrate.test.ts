import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';
import { createServerDatabase, testBackend } from '../support/testDb.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ctgov-cli-'));
}

describe('ctgov-sync migrate (real process)', () => {
  it('creates ./data and the schema in the embedded database when DATABASE_URL is unset, then changes nothing', async () => {
    const cwd = tempDir();
    const first = await runCli(['migrate'], { cwd });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`applied ${readMigrations().length} migrations to embedded`));
    expect(existsSync(join(cwd, 'data', 'pgdata'))).toBe(true);
    const second = await runCli(['migrate'], { cwd });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`up to date \\(${readMigrations().length} migrations\\)`));
  });

  // Registered only in the server pass (TEST_DATABASE_URL set); the embedded pass covers ./data above.
  if (testBackend === 'server') it('migrates the server named by DATABASE_URL', async () => {
    const server = (await createServerDatabase())!;
    try {
      const first = await runCli(['migrate'], { env: { DATABASE_URL: server.url } });
      expect(first.code).toBe(0);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query("select count(*)::int as n from information_schema.tables where table_schema = 'ctgov'");
      await client.end();
      expect(rows[0].n).toBeGreaterThanOrEqual(20);
      const second = await runCli(['migrate'], { env: { DATABASE_URL: server.url } });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/up to date/);
    } finally {
      await server.drop();
    }
  });

  it('exits 2 with one clear line when the database is unreachable', async () => {
    const r = await runCli(['migrate'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ctgov-sync: cannot connect to database postgres:\/\/nobody@127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
  });

  it('exits 2 naming the key for a bad cron expression or a negative rate limit, touching nothing', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'cron.json'), JSON.stringify({ schedules: { incremental: 'every day' } }));
    writeFileSync(join(cwd, 'rate.json'), JSON.stringify({ ctgov: { rateLimitPerMinute: -5 } }));
    const cron = await runCli(['migrate'], { cwd, env: { CONFIG_FILE: 'cron.json' } });
    expect(cron.code).toBe(2);
    expect(cron.stderr.trim()).toBe('ctgov-sync: configuration error: schedules.incremental: expected a valid cron expression');
    const rate = await runCli(['migrate'], { cwd, env: { CONFIG_FILE: 'rate.json' } });
    expect(rate.code).toBe(2);
    expect(rate.stderr.trim()).toMatch(/^ctgov-sync: configuration error: ctgov\.rateLimitPerMinute: .*>0$/);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('refuses a DATA_DIR that another live process holds', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'ctgov-sync.lock'), String(process.pid));
    const r = await runCli(['migrate'], { env: { DATA_DIR: dataDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`in use by another ctgov-sync process \\(pid ${process.pid}\\)`));
    expect(existsSync(join(dataDir, 'pgdata'))).toBe(false);
  });

  it('prints help for the program and each command, and exits 2 on unknown commands or flags', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: ctgov-sync/);
    const migrateHelp = await runCli(['migrate', '--help']);
    expect(migrateHelp.code).toBe(0);
    expect(migrateHelp.stdout).toMatch(/apply pending database migrations/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['migrate', '--frobnicate'])).code).toBe(2);
  });
});
