import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { waitFor } from './waitFor.js';

export const silentLog = pino({ level: 'silent' });

export interface TestDatabase {
  db: Database;
  /** A connection string for child processes (server mode only). */
  url: string | undefined;
  backend: 'server' | 'embedded';
  close(): Promise<void>;
}

/** Which backend this test run uses: the server named by TEST_DATABASE_URL, else embedded PGlite. */
export const testBackend: 'server' | 'embedded' = process.env.TEST_DATABASE_URL ? 'server' : 'embedded';

/**
 * An isolated database for one test file: a fresh database on the real server when
 * TEST_DATABASE_URL is set (dropped afterwards), an in-memory PGlite otherwise.
 */
export async function openTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const server = await createServerDatabase();
  const db = await openDatabase(
    { url: server?.url ?? null, dataDir: 'memory://', poolSize: 8, statementTimeoutMs: 0 },
    silentLog,
  );
  if (options.migrate !== false) await migrate(db.pool, silentLog);
  return {
    db,
    url: server?.url,
    backend: testBackend,
    async close() {
      await db.close();
      await server?.drop();
    },
  };
}

/** A fresh, empty database on the test server, or undefined when the tests run embedded. */
export async function createServerDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return undefined;
  const dbName = `ctgov_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${dbName}`);
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return {
    url: u.toString(),
    drop: () => dropWhenIdle(adminUrl, dbName),
  };
}

/**
 * Drops a test database once the sessions the test closed are really gone (a client's end()
 * can resolve before its backend exits). Whatever is still connected after a few seconds is
 * forced off: a test that leaks a connection must not keep its database forever.
 */
async function dropWhenIdle(adminUrl: string, dbName: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const idle = async () => (await client.query('select count(*)::int as n from pg_stat_activity where datname = $1', [dbName])).rows[0].n === 0;
    // Not idle in time is no failure: `with (force)` ends what is left (a broken connection fails the drop).
    await waitFor(idle, { timeoutMs: 5_000, everyMs: 50 }).catch(() => undefined);
    await client.query(`drop database if exists ${dbName} with (force)`);
  } finally {
    await client.end();
  }
}

export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
