import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitBatch, prepareBatch } from '../../src/pipeline/syncBatch.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { startRun } from '../../src/sql/runs.js';
import { rawRecordHash } from '../../src/studies/rawHash.js';
import { loadRawHashes } from '../../src/studies/store.js';
import { syntheticStudy } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * The quick path: a record whose raw hash equals the stored one is unchanged without being
 * validated, normalized or diffed. What must hold: the stored hash is that of the last record
 * seen, a removed study is never quick, and a quick decision made before the transaction is
 * checked again under the study's lock (another writer may have stored the study meanwhile).
 */

type Raw = Record<string, any>;

const study = (n: number, status = 'RECRUITING'): Raw => {
  const raw = syntheticStudy(n) as Raw;
  raw.protocolSection.statusModule.overallStatus = status;
  return raw;
};
const idOf = (raw: Raw): string => raw.protocolSection.identificationModule.nctId;

async function* from(...batches: Raw[][]): AsyncGenerator<SourceBatch> {
  for (const b of batches) yield { records: b.map((raw) => ({ raw })), failures: [] };
}

describe('quick unchanged path', () => {
  let t: TestDatabase;
  const run = (observedAt: string, ...batches: Raw[][]) =>
    runBatches({ pool: t.db.pool, log: silentLog }, { job: 'test', trigger: 'cli', observedAt: new Date(observedAt) }, from(...batches));
  const q = async (sql: string, params: unknown[] = []) => (await t.db.pool.query(sql, params)).rows;

  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores the raw hash of the last record seen, and takes identical records as unchanged on it', async () => {
    const a = study(501);
    await run('2026-05-01T00:00:00Z', [a, study(502)]);
    expect(await loadRawHashes(t.db.pool, [idOf(a)])).toEqual(new Map([[idOf(a), rawRecordHash(a)]]));

    // The next CT.gov refresh: only versionHolder moved.
    const holderOnly = structuredClone(a);
    holderOnly.derivedSection.miscInfoModule.versionHolder = '2026-05-02';
    const prepared = await prepareBatch([{ raw: holderOnly }], [], await loadRawHashes(t.db.pool, [idOf(a)]));
    expect(prepared.observations.map((o) => o.kind)).toEqual(['quick']);

    const summary = await run('2026-05-02T00:00:00Z', [holderOnly, study(502)]);
    expect(summary.counts).toMatchObject({ fetched: 2, unchanged: 2, changed: 0, inserted: 0 });
    expect(await q("select count(*)::int as n from ctgov.studies where last_seen_at = '2026-05-02T00:00:00Z'")).toEqual([{ n: 2 }]);
  });

  it('adopts the hash of a record whose bytes moved but whose content did not (a list reordered)', async () => {
    const raw = study(503);
    raw.protocolSection.conditionsModule = { conditions: ['Alpha', 'Beta', 'Gamma'] };
    await run('2026-05-03T00:00:00Z', [raw]);
    const reordered = structuredClone(raw);
    reordered.protocolSection.conditionsModule.conditions.reverse();
    const summary = await run('2026-05-04T00:00:00Z', [reordered]);
    expect(summary.counts).toMatchObject({ unchanged: 1, changed: 0 });
    expect((await loadRawHashes(t.db.pool, [idOf(raw)])).get(idOf(raw))).toBe(rawRecordHash(reordered));
    expect(await q('select count(*)::int as n from ctgov.study_versions where nct_id = $1', [idOf(raw)])).toEqual([{ n: 1 }]);
  });

  it('never takes a removed study as unchanged: its return is recorded', async () => {
    const raw = study(504);
    await run('2026-05-05T00:00:00Z', [raw]);
    await runBatches(
      { pool: t.db.pool, log: silentLog },
      { job: 'test', trigger: 'cli', observedAt: new Date('2026-05-06T00:00:00Z') },
      (async function* () {
        yield { records: [], failures: [], removed: [idOf(raw) as never] };
      })(),
    );
    expect(await loadRawHashes(t.db.pool, [idOf(raw)])).toEqual(new Map());
    const back = await run('2026-05-07T00:00:00Z', [raw]);
    expect(back.counts).toMatchObject({ changed: 1, unchanged: 0 });
    expect(await q("select kind from ctgov.field_changes where nct_id = $1 and path = 'study' order by id", [idOf(raw)])).toEqual([
      { kind: 'removed' },
      { kind: 'added' },
    ]);
  });

  it('checks a quick decision again under the lock, and stores the record in full when the stored study moved', async () => {
    const old = study(505, 'RECRUITING');
    const next = study(505, 'COMPLETED');
    // Prepared as if the stored hash had been that of `next` (read before the transaction)…
    const prepared = await prepareBatch([{ raw: next }], [], new Map([[idOf(next), rawRecordHash(next)!]]));
    expect(prepared.observations.map((o) => o.kind)).toEqual(['quick']);
    // …while another writer stored `old` meanwhile.
    await run('2026-05-08T00:00:00Z', [old]);
    const observedAt = new Date('2026-05-09T00:00:00Z');
    const runId = await startRun(t.db.pool, { job: 'test', trigger: 'cli', observedAt });
    const outcome = await commitBatch({ pool: t.db.pool, log: silentLog }, { runId, observedAt }, prepared);
    expect(outcome).toMatchObject({ changed: [idOf(next)], unchanged: [], inserted: [], failures: [] });
    expect(await q("select overall_status from ctgov.studies where nct_id = $1", [idOf(next)])).toEqual([{ overall_status: 'COMPLETED' }]);
    expect(await q("select old_value, new_value from ctgov.field_changes where nct_id = $1 and kind = 'changed'", [idOf(next)])).toEqual([
      { old_value: 'RECRUITING', new_value: 'COMPLETED' },
    ]);
  });

  it('stores a study that a quick decision took for stored when it is not', async () => {
    const raw = study(506);
    const prepared = await prepareBatch([{ raw }], [], new Map([[idOf(raw), rawRecordHash(raw)!]]));
    const observedAt = new Date('2026-05-10T00:00:00Z');
    const runId = await startRun(t.db.pool, { job: 'test', trigger: 'cli', observedAt });
    const outcome = await commitBatch({ pool: t.db.pool, log: silentLog }, { runId, observedAt }, prepared);
    expect(outcome.inserted).toEqual([idOf(raw)]);
    expect(await q('select count(*)::int as n from ctgov.study_versions where nct_id = $1', [idOf(raw)])).toEqual([{ n: 1 }]);
  });
});
