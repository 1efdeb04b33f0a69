import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { adminQuery, silentLog } from '../tests/support/testDb.js';

/*
 * Where the benchmark stores: a fresh database on the server named by BENCH_DATABASE_URL
 * (created at the start and dropped at the end), or the embedded PGlite behind its loopback
 * socket when it is unset. Either way the sync child gets a plain connection string.
 */

export interface BenchDatabase {
  kind: 'server' | 'embedded';
  /** Connection string of a fresh, migrated database. */
  url: string;
  describe: string;
  close(): Promise<void>;
}

/** `name` is prefixed with BENCH_DB_PREFIX when it is set, so two benches can share a server. */
export async function openBenchDatabase(baseName: string): Promise<BenchDatabase> {
  const name = `${process.env.BENCH_DB_PREFIX ?? ''}${baseName}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_DB_PREFIX: ${name} is not a plain database name (lower case letters, digits, _)`);
  const adminUrl = process.env.BENCH_DATABASE_URL;
  if (adminUrl) {
    await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    await adminQuery(adminUrl, `create database ${name}`);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    const url = u.toString();
    await migrated(url);
    const keep = process.env.BENCH_KEEP === '1';
    return {
      kind: 'server',
      url,
      describe: `${u.host}/${name}`,
      close: () => (keep ? Promise.resolve() : adminQuery(adminUrl, `drop database if exists ${name} with (force)`)),
    };
  }
  const embedded = await startEmbeddedPostgres('memory://', silentLog);
  const c = embedded.clientConfig;
  const url = `postgres://${c.user}@${c.host}:${c.port}/${c.database}`;
  await migrated(url);
  return { kind: 'embedded', url, describe: 'embedded PGlite (in memory)', close: () => embedded.stop() };
}

/** Applies the migrations, as the program does on start. */
export async function migrated(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool, silentLog);
  } finally {
    await pool.end();
  }
}

export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; c: string }>(
      "select current_setting('server_version') as v, current_setting('default_toast_compression') as c",
    );
    return `PostgreSQL ${rows[0]!.v} (toast ${rows[0]!.c})`;
  } finally {
    await client.end();
  }
}
