import type { Queryable } from '../db/transaction.js';

/** A value from ctgov.sync_state (watermarks, cursors), or undefined when never written. */
export async function readSyncState<T>(db: Queryable, key: string): Promise<T | undefined> {
  const { rows } = await db.query<{ value: T }>('select value from ctgov.sync_state where key = $1', [key]);
  return rows[0]?.value;
}

export async function writeSyncState(db: Queryable, key: string, value: unknown): Promise<void> {
  await db.query(
    `insert into ctgov.sync_state (key, value, updated_at) values ($1, $2, now())
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [key, JSON.stringify(value)],
  );
}
