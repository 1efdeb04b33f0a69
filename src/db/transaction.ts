import type pg from 'pg';
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
