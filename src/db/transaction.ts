import type pg from 'pg';

export type Queryable = Pick<pg.PoolClient, 'query'>;

// serialization_failure and deadlock_detected: the transaction did nothing and may be retried.
const RETRYABLE = new Set(['40001', '40P01']);

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
      const code = (err as { code?: string }).code;
      if (attempt < retries && code !== undefined && RETRYABLE.has(code)) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
