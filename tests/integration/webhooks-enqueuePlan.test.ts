import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENQUEUE, enqueueParams } from '../../src/webhooks/enqueueDeliveries.js';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';

/*
 * The webhook outbox selects the change rows a batch's transaction wrote by the batch's IDs. On
 * a field_changes the planner has no statistics for (never analyzed: autovacuum off, or a first
 * load outpacing it), `nct_id = any` of 200 IDs reads as a large part of the table: a scan of the
 * largest table once per batch. The statement must go through (nct_id, detected_at) whatever the
 * statistics, for any batch size.
 */
describe('webhook outbox rows selected by a batch', () => {
  let t: TestDatabase;
  const hooks = [{ key: 'all', pathPatterns: null, nctIds: null, kinds: null }];
  // IDs out of order (removals come in any order): the bounds must be their least and greatest.
  const idsOf = (n: number) => Array.from({ length: n }, (_, i) => `NCT8${String(1_000 + ((i * 7_919) % n) * 3).padStart(7, '0')}`);

  beforeAll(async () => {
    t = await openTestDatabase();
    // 800,000 change rows of 10,000 studies, never analyzed.
    await t.db.pool.query(
      `insert into ctgov.field_changes (nct_id, path, kind, new_value, detected_at, run_id)
       select 'NCT8' || lpad((g / 80)::text, 7, '0'), 'p' || (g % 80), 'added', to_jsonb(g), now(), 1
         from generate_series(0, 799999) g`,
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const plan = async (q: { text: string; values: unknown[] }): Promise<string> => {
    const { rows } = await t.db.pool.query(`explain ${q.text}`, q.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it('goes through (nct_id, detected_at) on a table without statistics', async () => {
    const { rows } = await t.db.pool.query("select reltuples from pg_class where oid = 'ctgov.field_changes'::regclass");
    const analyzed = rows[0].reltuples >= 0;
    for (const n of [50, 200, 1000]) {
      const q = { text: ENQUEUE, values: enqueueParams(1, idsOf(n), hooks as never) };
      // Without statistics, the bare `= any` of 200 IDs is planned as a scan of the whole table.
      if (!analyzed && n >= 200) expect(await plan({ text: q.text.replace('and c.nct_id between $5 and $6', ''), values: q.values.slice(0, 4) })).toMatch(/Seq Scan on field_changes/);
      const statement = await plan(q);
      expect(statement).toMatch(/Index Scan on field_changes_study_time_idx|Bitmap Index Scan on field_changes_study_time_idx/);
      expect(statement).not.toMatch(/Seq Scan on field_changes/);
    }
  });

  it('bounds the IDs by their least and greatest, in whatever order they come', () => {
    const ids = ['NCT80000500', 'NCT80000002', 'NCT80009999', 'NCT80000700'];
    expect(enqueueParams(7, ids, hooks as never).slice(4)).toEqual(['NCT80000002', 'NCT80009999']);
  });
});
