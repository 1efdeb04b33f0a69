import { resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { ConfigError, DbConnectionError } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import { startEmbeddedPostgres } from './embedded.js';
import { sqlStateKind } from './sqlState.js';

// bigint (int8) and numeric come back as strings by default; our counts and ids fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Database {
  kind: 'server' | 'embedded';
  pool: pg.Pool;
  /** A human-readable, password-free description of where the data lives. */
  describe: string;
  /** Settings for a dedicated client (LISTEN) outside the pool. */
  clientConfig: pg.ClientConfig;
  close(): Promise<void>;
}

/**
 * Opens the configured database: a pool to the server named by DATABASE_URL, or, when it is
 * unset, an embedded PGlite persisted under DATA_DIR and served on loopback so the same `pg`
 * code path (and every SQL statement) serves both.
 */
export async function openDatabase(config: Config['database'], log: Logger): Promise<Database> {
  if (config.url) return openServer(config.url, config, log);
  const embedded = await startEmbeddedPostgres(config.dataDir === 'memory://' ? 'memory://' : resolve(config.dataDir), log).catch((err: unknown) => {
    throw unusableDataDir(config.dataDir, err);
  });
  const clientConfig: pg.ClientConfig = { ...embedded.clientConfig };
  try {
    // One connection: pglite-socket's multiplexer can hand one connection another's results when
    // several query while one is inside a transaction. PGlite runs one statement at a time anyway.
    // The socket also takes one connection, so replacing ours races the old one's close and the
    // new one is refused ("Connection terminated unexpectedly"): keep it for the pool's lifetime.
    const pool = await connectPool({ ...clientConfig, max: 1, idleTimeoutMillis: 0 }, embedded.describe, log);
    keepConnectionOnStatementErrors(pool);
    return {
      kind: 'embedded',
      pool,
      describe: embedded.describe,
      clientConfig,
      async close() {
        await pool.end().catch(() => undefined);
        await embedded.stop();
      },
    };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

async function openServer(url: string, config: Config['database'], log: Logger): Promise<Database> {
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    ...(config.statementTimeoutMs > 0 ? { statement_timeout: config.statementTimeoutMs } : {}),
  };
  const describe = redactUrl(url);
  const pool = await connectPool({ ...clientConfig, max: config.poolSize }, describe, log);
  return { kind: 'server', pool, describe, clientConfig, close: () => pool.end().catch(() => undefined) };
}

/**
 * pg-pool discards the client of any pool.query() that fails, even when only the statement failed
 * and the connection is fine. On the embedded database that discarded connection is the only one,
 * and the next query would race its close (see above): keep it unless the connection itself broke.
 */
function keepConnectionOnStatementErrors(pool: pg.Pool): void {
  const query = async (text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await client.query(text as string, values);
    } catch (err) {
      if (!isStatementError(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  };
  pool.query = query as typeof pool.query;
}

// An error with a SQLSTATE ended the statement, not the session, unless it says the session ended.
function isStatementError(err: unknown): boolean {
  const kind = sqlStateKind(err);
  return kind !== undefined && kind !== 'connection';
}

async function connectPool(poolConfig: pg.PoolConfig, describe: string, log: Logger): Promise<pg.Pool> {
  const pool = new pg.Pool(poolConfig);
  // A client whose connection dies (server restart, pg_terminate_backend, network cut) emits
  // 'error'; unhandled, that kills the process. Checked out, the pool does not listen for it, so
  // every client gets a listener of its own: the query in flight fails with the error instead,
  // and withTransaction discards the broken client. The pool re-emits idle clients' errors.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'database connection lost')));
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new DbConnectionError(`cannot connect to database ${describe}: ${(err as Error).message || String(err)}`, {
      cause: err,
    });
  }
  return pool;
}

/** A DATA_DIR that cannot be created or written (a file, a read-only disk): one line naming the setting. */
function unusableDataDir(dir: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code || !['EEXIST', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC'].includes(code)) return err;
  return new ConfigError('DATA_DIR', `cannot use ${dir} for the embedded database (${code}): ${(err as Error).message}`);
}
