import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';

describe('withTransaction', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase({ migrate: false });
    await t.db.pool.query('create table tx_probe (id int primary key)');
  });
  afterAll(async () => {
    await t.close();
  });

  it('commits on success', async () => {
    await withTransaction(t.db.pool, (c) => c.query('insert into tx_probe values (1)'));
    expect((await t.db.pool.query('select id from tx_probe')).rows).toEqual([{ id: 1 }]);
  });

  it('rolls back everything on error', async () => {
    await expect(
      withTransaction(t.db.pool, async (c) => {
        await c.query('insert into tx_probe values (2)');
        await c.query('insert into tx_probe values (1)'); // duplicate key
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await t.db.pool.query('select id from tx_probe order by id')).rows).toEqual([{ id: 1 }]);
  });

  it('retries a serialization failure and gives up after the bound', async () => {
    let calls = 0;
    await withTransaction(t.db.pool, async (c) => {
      calls++;
      await c.query('insert into tx_probe values ($1)', [10 + calls]);
      if (calls < 3) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
    });
    expect(calls).toBe(3);
    expect((await t.db.pool.query('select id from tx_probe where id > 10')).rows).toEqual([{ id: 13 }]);
    let always = 0;
    const failing = withTransaction(
      t.db.pool,
      async () => {
        always++;
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      },
      { retries: 2 },
    );
    await expect(failing).rejects.toThrow(/deadlock/);
    expect(always).toBe(3);
  });
});
