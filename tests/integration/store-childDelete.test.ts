import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childDeleteStatement } from '../../src/studies/store.js';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';

/*
 * Replacing a study's child rows deletes them by the batch's IDs. On a table the planner has no
 * statistics for (never analyzed: autovacuum off, or a first load outpacing it), `nct_id = any`
 * of a batch's 200 IDs reads as most of the table: a scan of the whole table per batch, which
 * made the cost per study of a large import grow with the database. The statement must go
 * through the primary key whatever the statistics.
 */
describe('child rows deleted by a batch', () => {
  let t: TestDatabase;
  const ids = Array.from({ length: 200 }, (_, i) => `NCT9${String(1_000 + i * 37).padStart(7, '0')}`).sort();

  beforeAll(async () => {
    t = await openTestDatabase();
    // 300,000 sites of 30,000 other studies: a table of thousands of pages, never analyzed.
    await t.db.pool.query(
      `insert into ctgov.locations (nct_id, location_key, facility, country)
       select 'NCT8' || lpad((g / 10)::text, 7, '0'), 'site ' || g, 'Facility ' || g, 'Nowhere'
         from generate_series(0, 299999) g`,
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const plan = async (sql: string, params: unknown[]): Promise<string> => {
    const { rows } = await t.db.pool.query(`explain ${sql}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it('goes through the primary key on a table without statistics', async () => {
    const { rows } = await t.db.pool.query("select reltuples from pg_class where oid = 'ctgov.locations'::regclass");
    const analyzed = rows[0].reltuples >= 0;
    // Without statistics, the bare `= any` is planned as a scan of the whole table.
    if (!analyzed) expect(await plan('delete from ctgov.locations where nct_id = any($1::text[])', [ids])).toMatch(/Seq Scan on locations/);
    const statement = await plan(childDeleteStatement('locations'), [ids, ids[0], ids.at(-1)]);
    expect(statement).toMatch(/Index Scan on locations_pkey|Bitmap Index Scan on locations_pkey/);
    expect(statement).not.toMatch(/Seq Scan/);
  });

  it('deletes exactly the rows of the IDs given', async () => {
    const some = ['NCT80000005', 'NCT80000007', 'NCT80029999'];
    await t.db.pool.query(childDeleteStatement('locations'), [some, some[0], some.at(-1)]);
    const { rows } = await t.db.pool.query(
      "select count(*)::int as n, count(*) filter (where nct_id = any($1::text[]))::int as gone from ctgov.locations",
      [some],
    );
    expect(rows[0]).toEqual({ n: 300_000 - 30, gone: 0 });
  });
});
