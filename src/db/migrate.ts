import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import type { Logger } from '../log.js';
import { packageRoot } from '../paths.js';

export interface MigrationFile {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

// Arbitrary constant shared by every ctgov-sync process: only one migrates at a time.
const MIGRATION_LOCK_KEY = 7_311_270_001;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'sql', 'migrations');
}

export function readMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  return files.map((name, index) => {
    const m = FILE_PATTERN.exec(name);
    if (!m) throw new MigrationError(`migration file ${name} is not named NNNN_slug.sql`);
    const id = Number(m[1]);
    if (id !== index + 1) throw new MigrationError(`migration ${name} is out of sequence: expected number ${index + 1}`);
    const sql = readFileSync(join(dir, name), 'utf8');
    return { id, name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies pending migrations in order, each in its own transaction, under a session advisory
 * lock so concurrent runners wait and then find nothing to do. An applied file whose checksum
 * changed, or a ledger entry this version does not know, is an error: migrations are forward-only.
 */
export function migrate(pool: pg.Pool, log: Logger, dir?: string): Promise<MigrateResult> {
  // The embedded database multiplexes every connection onto one session, where advisory locks
  // are re-entrant; runners in one process therefore also queue behind each other here.
  const previous = running.get(pool) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => migrateLocked(pool, log, dir));
  running.set(pool, next);
  return next;
}

const running = new WeakMap<pg.Pool, Promise<unknown>>();

async function migrateLocked(pool: pg.Pool, log: Logger, dir?: string): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query('create schema if not exists ctgov');
      await client.query(`create table if not exists ctgov.schema_migrations (
        id integer primary key,
        name text not null unique,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await client.query<{ id: number; name: string; checksum: string }>(
        'select id, name, checksum from ctgov.schema_migrations order by id',
      );
      const known = new Map(migrations.map((m) => [m.id, m]));
      for (const row of rows) {
        const file = known.get(row.id);
        if (!file) throw new MigrationError(`database has migration ${row.name}, which this version of ctgov-sync does not know`);
        if (file.name !== row.name || file.checksum !== row.checksum) {
          throw new MigrationError(`migration ${file.name} was changed after it was applied (checksum mismatch); add a new migration instead`);
        }
      }
      const done = new Set(rows.map((r) => r.id));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await applyOne(client, m);
        log.info({ migration: m.name }, 'migration applied');
        applied.push(m.name);
      }
      return { applied, alreadyApplied: done.size };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

async function applyOne(client: pg.PoolClient, m: MigrationFile): Promise<void> {
  try {
    await client.query('begin');
    await client.query(m.sql);
    await client.query('insert into ctgov.schema_migrations (id, name, checksum) values ($1, $2, $3)', [m.id, m.name, m.checksum]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
  }
}
