import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCtgovStudy } from '../../src/ctgov/schema.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { normalizeStudy } from '../../src/studies/normalize.js';
import { syntheticStudy } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, testBackend, type TestDatabase } from '../support/testDb.js';
import { waitFor } from '../support/waitFor.js';

/*
 * runBatches prepares the next batch while earlier ones commit, and lets two batches commit at
 * once. What must not change: a study's batches commit in source order, outcomes are counted in
 * source order, and a run that fails still keeps (and counts) the batches already committing.
 */

type Raw = Record<string, any>;

const study = (n: number, status = 'RECRUITING'): Raw => {
  const raw = syntheticStudy(n) as Raw;
  raw.protocolSection.statusModule.overallStatus = status;
  return raw;
};
const batch = (...records: Raw[]): SourceBatch => ({ records: records.map((raw) => ({ raw })), failures: [] });
const invalid = (n: number): Raw => ({ protocolSection: { identificationModule: { nctId: `NCT${90_000_000 + n}` }, statusModule: 'broken' } });

// pg_locks spans the whole server: only this test's database counts (other test files run meanwhile).
const WAITING_ADVISORY_LOCKS = `select count(*)::int as n from pg_locks
  where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`;

async function* from(batches: SourceBatch[], thenThrow?: Error): AsyncGenerator<SourceBatch> {
  for (const b of batches) yield b;
  if (thenThrow) throw thenThrow;
}

describe('runBatches with batches in flight', () => {
  let t: TestDatabase;
  const run = (source: AsyncIterable<SourceBatch>, observedAt: string) =>
    runBatches({ pool: t.db.pool, log: silentLog }, { job: 'test', trigger: 'cli', observedAt: new Date(observedAt) }, source);

  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('commits the batches of one study in source order', async () => {
    const summary = await run(
      from([batch(study(1, 'NOT_YET_RECRUITING'), study(2)), batch(study(1, 'RECRUITING'), study(3)), batch(study(1, 'COMPLETED'), study(4))]),
      '2026-03-01T00:00:00Z',
    );
    expect(summary.counts).toMatchObject({ fetched: 6, inserted: 4, changed: 2, failed: 0 });
    const { rows } = await t.db.pool.query(
      `select kind, old_value, new_value from ctgov.field_changes
        where nct_id = 'NCT90000001' and path = 'status.overallStatus' order by id`,
    );
    expect(rows).toEqual([
      { kind: 'added', old_value: null, new_value: 'NOT_YET_RECRUITING' },
      { kind: 'changed', old_value: 'NOT_YET_RECRUITING', new_value: 'RECRUITING' },
      { kind: 'changed', old_value: 'RECRUITING', new_value: 'COMPLETED' },
    ]);
    const current = await t.db.pool.query("select overall_status from ctgov.studies where nct_id = 'NCT90000001'");
    expect(current.rows[0].overall_status).toBe('COMPLETED');
  });

  // A second connection holds the lock of the first batch's other study, so that without the wait
  // the second batch would take the shared study first. Needs a server (embedded has one connection).
  if (testBackend === 'server') {
    it('holds back a batch that shares a study with one still committing', async () => {
      const blocker = await t.db.pool.connect();
      try {
        await blocker.query('begin');
        await blocker.query("select pg_advisory_xact_lock(hashtextextended('NCT90000030', 7311))");
        const running = run(from([batch(study(30), study(31, 'NOT_YET_RECRUITING')), batch(study(31, 'COMPLETED'))]), '2026-03-05T00:00:00Z');
        // The first batch is now blocked inside its transaction.
        await waitFor(async () => (await blocker.query(WAITING_ADVISORY_LOCKS)).rows[0].n > 0, { what: 'the first batch to wait for its lock' });
        // A second batch that did not wait would commit study 31 now (its lock is free); give it
        // the time to, then let the first batch go. With the wait, the second batch starts after.
        const early = waitFor(async () => (await blocker.query("select count(*)::int as n from ctgov.studies where nct_id = 'NCT90000031'")).rows[0].n > 0, {
          timeoutMs: 1_000,
          what: 'study 31',
        });
        await expect(early).rejects.toThrow('timed out after 1000 ms waiting for study 31');
        await blocker.query('commit');
        await running;
      } finally {
        // After a failed expectation the lock is still held: let the run finish before the next test.
        await blocker.query('rollback');
        blocker.release();
      }
      const current = await t.db.pool.query("select overall_status from ctgov.studies where nct_id = 'NCT90000031'");
      expect(current.rows[0].overall_status).toBe('COMPLETED');
    });
  }

  it('lists failures and reports progress in source order', async () => {
    const progress: number[] = [];
    const summary = await runBatches(
      { pool: t.db.pool, log: silentLog },
      { job: 'test', trigger: 'cli', observedAt: new Date('2026-03-02T00:00:00Z') },
      from([batch(study(10), invalid(11)), batch(invalid(12), study(13)), batch(study(14)), batch(invalid(15))]),
      (p) => progress.push(p.done + p.failed),
    );
    expect(summary.failures.map((f) => f.nctId)).toEqual(['NCT90000011', 'NCT90000012', 'NCT90000015']);
    expect(progress).toEqual([2, 4, 5, 6]);
  });

  it('fails the run after the batches in flight have committed, and keeps them', async () => {
    const err = new Error('CT.gov went away');
    await expect(run(from([batch(study(20), study(21)), batch(study(22))], err), '2026-03-03T00:00:00Z')).rejects.toThrow(err);
    const stored = await t.db.pool.query("select count(*)::int as n from ctgov.studies where nct_id in ('NCT90000020', 'NCT90000021', 'NCT90000022')");
    expect(stored.rows[0].n).toBe(3);
    const runs = await t.db.pool.query("select status, fetched, inserted, error from ctgov.sync_runs order by id desc limit 1");
    expect(runs.rows[0]).toEqual({ status: 'failed', fetched: 3, inserted: 3, error: 'CT.gov went away' });
  });

  it('stores a batch bigger than one statement slice with every change row tied to its version', async () => {
    const many = Array.from({ length: 130 }, (_, i) => study(100 + i));
    const summary = await run(from([batch(...many)]), '2026-03-04T00:00:00Z');
    expect(summary.counts.inserted).toBe(130);
    const { rows } = await t.db.pool.query(
      `select count(distinct v.id)::int as versions, count(*)::int as changes, count(*) filter (where c.version_id is null)::int as untied,
              count(*) filter (where c.version_id <> s.current_version_id)::int as wrong
         from ctgov.field_changes c join ctgov.study_versions v on v.nct_id = c.nct_id join ctgov.studies s on s.nct_id = c.nct_id
        where c.detected_at = '2026-03-04T00:00:00Z'`,
    );
    expect(rows[0]).toMatchObject({ versions: 130, untied: 0, wrong: 0 });
    const paths = many.reduce((n, raw) => n + Object.keys(normalizeStudy(parseCtgovStudy(raw)).fields).length, 0);
    expect(rows[0].changes).toBe(paths);
  });
});
