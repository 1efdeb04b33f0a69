import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { withTransaction } from '../../src/db/transaction.js';
import { silentLog } from '../support/testDb.js';

describe('embedded database', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ url: null, dataDir: 'memory://', poolSize: 8, statementTimeoutMs: 0 }, silentLog);
    await db.pool.query('create table probe (id int primary key, tag text)');
  });
  afterAll(async () => {
    await db.close();
  });

  it('uses one connection whatever the configured pool size', () => {
    expect(db.kind).toBe('embedded');
    expect(db.pool.options.max).toBe(1);
  });

  // Several connections over pglite-socket can receive each other's results while one of them is
  // inside a transaction; with one connection every query gets its own answer.
  it('answers concurrent queries correctly while transactions run', async () => {
    const transactions = Array.from({ length: 20 }, (_, i) =>
      withTransaction(db.pool, async (c) => {
        await c.query('insert into probe values ($1, $2)', [i, `t${i}`]);
        const { rows } = await c.query('select tag from probe where id = $1', [i]);
        expect(rows).toEqual([{ tag: `t${i}` }]);
      }),
    );
    const reads = Array.from({ length: 200 }, async (_, i) => {
      const { rows } = await db.pool.query('select $1::int as n', [i]);
      expect(rows).toEqual([{ n: i }]);
    });
    await Promise.all([...transactions, ...reads]);
    expect((await db.pool.query('select count(*)::int as n from probe')).rows).toEqual([{ n: 20 }]);
  });
});
