import type pg from 'pg';
import { isConnectionLost } from '../errors.js';
import { sqlStateKind } from './sqlState.js';

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Runs `fn` in one transaction on a pooled client: commit on success, rollback on error.
 * Serialization failures and deadlocks are retried a bounded number of times.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: { retries?: number } = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('begin');
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      try {
        await client.query('rollback');
      } catch {
        broken = true; // the connection itself is gone; don't hand it back to the pool
      }
      // serialization_failure and deadlock_detected: the transaction did nothing and may be retried.
      if (attempt < retries && sqlStateKind(err) === 'retry') continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * Runs `fn`, and again while it fails on a lost connection, for the bookkeeping after a failure
 * (closing a run as failed). A server that cut one connection (a restart, pg_terminate_backend)
 * has usually cut the pool's idle ones too, and the pool learns that only when it reads their
 * sockets: a query right after the cut can draw one of them. Each such failure discards the dead
 * connection, so at most one try per pooled connection, and one on a fresh connection, is needed.
 * With the database really gone the last try fails too, and its error is thrown.
 */
export async function retryOnLostConnection<T>(pool: Pick<pg.Pool, 'totalCount'>, fn: () => Promise<T>): Promise<T> {
  const attempts = pool.totalCount + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isConnectionLost(err)) throw err;
    }
  }
}
