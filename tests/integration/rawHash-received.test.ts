import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBatch } from '../../src/pipeline/syncBatch.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { rawRecordHash } from '../../src/studies/rawHash.js';
import { loadRawHashes } from '../../src/studies/store.js';
import { syntheticStudy } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * Records that arrive with their text (a /studies page split study by study) are hashed on that
 * text. A database whose hashes were taken of re-serialised records must read on correctly: a
 * minified text matches them, any other text takes the full path once, records no change, and
 * from then on is quick.
 */

type Raw = Record<string, any>;

const idOf = (raw: Raw): string => raw.protocolSection.identificationModule.nctId;
const withHolder = (raw: Raw, holder: string): Raw => {
  const next = structuredClone(raw);
  next.derivedSection.miscInfoModule.versionHolder = holder;
  return next;
};

describe('raw hash of the text a record arrived as', () => {
  let t: TestDatabase;
  const run = (observedAt: string, records: SourceBatch['records']) =>
    runBatches(
      { pool: t.db.pool, log: silentLog },
      { job: 'test', trigger: 'cli', observedAt: new Date(observedAt) },
      (async function* () {
        yield { records, failures: [] };
      })(),
    );
  const q = async (sql: string, params: unknown[] = []) => (await t.db.pool.query(sql, params)).rows;
  const kinds = async (raw: Raw, rawJson: string) =>
    (await prepareBatch([{ raw, rawJson }], [], await loadRawHashes(t.db.pool, [idOf(raw)]))).observations.map((o) => o.kind);

  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('matches hashes stored from re-serialised records when the text is minified', async () => {
    const raw = syntheticStudy(701) as Raw;
    await run('2026-06-01T00:00:00Z', [{ raw }]);
    const next = withHolder(raw, '2026-06-02');
    expect(await kinds(next, JSON.stringify(next))).toEqual(['quick']);
    const summary = await run('2026-06-02T00:00:00Z', [{ raw: next, rawJson: JSON.stringify(next) }]);
    expect(summary.counts).toMatchObject({ unchanged: 1, changed: 0, inserted: 0 });
  });

  it('takes other text for the same record through the full path once, without a change, then quick', async () => {
    const raw = syntheticStudy(702) as Raw;
    await run('2026-06-01T00:00:00Z', [{ raw }]);
    const pretty = (r: Raw) => JSON.stringify(r, null, 2);
    const next = withHolder(raw, '2026-06-02');
    expect(await kinds(next, pretty(next))).toEqual(['full']);
    const summary = await run('2026-06-02T00:00:00Z', [{ raw: next, rawJson: pretty(next) }]);
    expect(summary.counts).toMatchObject({ unchanged: 1, changed: 0, inserted: 0 });
    expect(await q('select count(*)::int as n from ctgov.study_versions where nct_id = $1', [idOf(raw)])).toEqual([{ n: 1 }]);
    expect(await q('select count(*)::int as n from ctgov.field_changes where nct_id = $1 and kind <> $2', [idOf(raw), 'added'])).toEqual([{ n: 0 }]);
    expect((await loadRawHashes(t.db.pool, [idOf(raw)])).get(idOf(raw))).toBe(rawRecordHash(next, pretty(next)));
    // The next refresh moves only versionHolder: quick on the text's own hash.
    const later = withHolder(raw, '2026-06-03');
    expect(await kinds(later, pretty(later))).toEqual(['quick']);
  });

  it('stores a new study from its text, and the stored version is the record', async () => {
    const raw = syntheticStudy(703) as Raw;
    const text = `  ${JSON.stringify(raw, null, 1)}\n`;
    await run('2026-06-01T00:00:00Z', [{ raw, rawJson: text }]);
    expect(await q('select raw from ctgov.study_versions where nct_id = $1', [idOf(raw)])).toEqual([{ raw }]);
    expect((await loadRawHashes(t.db.pool, [idOf(raw)])).get(idOf(raw))).toBe(rawRecordHash(raw, text));
  });
});
