import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/transaction.js';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';

/*
 * A statement that fails (bad input reaching SQL, a constraint) must cost only itself: the next
 * statements on the pool work. On the embedded database the pool holds its one connection for
 * good, since replacing it raced the old connection's close and the new one was refused.
 */

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase();
});

afterAll(async () => {
  await t.close();
});

describe('after a failing statement the database is still usable', () => {
  it('for pool queries, failing and succeeding in turn', async () => {
    for (let i = 0; i < 10; i++) {
      await expect(t.db.pool.query("select ctgov.request_resync(array['NCT00000410', $1], 'r')", [`bad ${i}`])).rejects.toThrow(/invalid NCT ID/);
      expect((await t.db.pool.query('select $1::int as n', [i])).rows).toEqual([{ n: i }]);
    }
    expect((await t.db.pool.query('select count(*)::int as n from ctgov.resync_requests')).rows).toEqual([{ n: 0 }]);
  });

  it('for transactions rolled back by a failing statement', async () => {
    for (let i = 0; i < 5; i++) {
      await expect(
        withTransaction(t.db.pool, async (c) => {
          await c.query("select ctgov.request_resync(array['NCT00000410'], 'kept?')");
          await c.query('select 1 / $1::int', [0]);
        }),
      ).rejects.toThrow(/division by zero/);
      expect((await t.db.pool.query('select count(*)::int as n from ctgov.resync_requests')).rows).toEqual([{ n: 0 }]);
    }
  });
});
