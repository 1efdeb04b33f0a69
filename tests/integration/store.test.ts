import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NctId } from '../../src/ctgov/nctId.js';
import { parseCtgovStudy } from '../../src/ctgov/schema.js';
import { withTransaction } from '../../src/db/transaction.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { canonicalJson } from '../../src/studies/canonical.js';
import type { Json } from '../../src/studies/model.js';
import { normalizeStudy } from '../../src/studies/normalize.js';
import { markRemoved } from '../../src/studies/store.js';
import { CTGOV_FIXTURE_DIR, fixtureIds, readFixture } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

type Raw = Record<string, any>;

function batchesOf(records: Raw[], size = 50): AsyncIterable<SourceBatch> {
  return (async function* () {
    for (let i = 0; i < records.length; i += size) yield { records: records.slice(i, i + size).map((raw) => ({ raw })), failures: [] };
  })();
}

async function ingest(t: TestDatabase, records: Raw[], observedAt: string, extra: Partial<SourceBatch> = {}) {
  const source = (async function* () {
    yield* batchesOf(records);
    if (extra.removed || extra.failures) yield { records: [], failures: extra.failures ?? [], removed: extra.removed ?? [] };
  })();
  return runBatches({ pool: t.db.pool, log: silentLog }, { job: 'test', trigger: 'cli', observedAt: new Date(observedAt) }, source);
}

async function count(t: TestDatabase, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.db.pool.query(`select count(*)::int as n from (${sql}) q`, params);
  return rows[0].n;
}

function fieldsOf(raw: Raw): Record<string, Json> {
  return normalizeStudy(parseCtgovStudy(raw)).fields;
}

const clone = (raw: Raw): Raw => structuredClone(raw);

describe('store (through runBatches, on the test database)', () => {
  let t: TestDatabase;
  const ids = fixtureIds();
  const fixtures = ids.map((id) => readFixture(id) as Raw);

  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('first import writes one added row per path with a value, and the child tables', async () => {
    const summary = await ingest(t, fixtures, '2026-01-01T00:00:00Z');
    expect(summary.status).toBe('succeeded');
    expect(summary.counts.inserted).toBe(ids.length);
    const expectedRows = fixtures.reduce((n, raw) => n + Object.keys(fieldsOf(raw)).length, 0);
    expect(await count(t, 'select 1 from ctgov.field_changes')).toBe(expectedRows);
    expect(await count(t, "select 1 from ctgov.field_changes where kind <> 'added' or old_value is not null")).toBe(0);
    expect(await count(t, 'select 1 from ctgov.studies')).toBe(ids.length);
    expect(await count(t, 'select 1 from ctgov.study_versions')).toBe(ids.length);
    const expectedLocations = fixtures.reduce((n, raw) => n + Object.keys(fieldsOf(raw)).filter((p) => p.startsWith('locations.')).length, 0);
    expect(await count(t, 'select 1 from ctgov.locations')).toBe(expectedLocations);
    const golden = await t.db.pool.query("select overall_status, phases, enrollment_count, start_date, start_date_sort::text as sort from ctgov.studies where nct_id = 'NCT00162175'");
    expect(golden.rows[0]).toMatchObject({ overall_status: 'COMPLETED' });
    expect(golden.rows[0].sort).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('re-import of the same records writes no change rows and no versions, only last_seen_at moves', async () => {
    const changesBefore = await count(t, 'select 1 from ctgov.field_changes');
    const versionsBefore = await count(t, 'select 1 from ctgov.study_versions');
    const summary = await ingest(t, fixtures, '2026-01-02T00:00:00Z');
    expect(summary.counts).toMatchObject({ inserted: 0, changed: 0, unchanged: ids.length, failed: 0 });
    expect(await count(t, 'select 1 from ctgov.field_changes')).toBe(changesBefore);
    expect(await count(t, 'select 1 from ctgov.study_versions')).toBe(versionsBefore);
    expect(await count(t, "select 1 from ctgov.studies where last_seen_at = '2026-01-02T00:00:00Z'")).toBe(ids.length);
  });

  it('reordered lists and a new versionHolder are not a change', async () => {
    const raw = clone(fixtures.find((r) => (r.protocolSection.contactsLocationsModule?.locations?.length ?? 0) > 3)!);
    raw.protocolSection.contactsLocationsModule.locations.reverse();
    raw.protocolSection.conditionsModule.conditions?.reverse();
    raw.derivedSection.miscInfoModule.versionHolder = '2030-01-01';
    const before = await count(t, 'select 1 from ctgov.field_changes');
    const summary = await ingest(t, [raw], '2026-01-03T00:00:00Z');
    expect(summary.counts.unchanged).toBe(1);
    expect(await count(t, 'select 1 from ctgov.field_changes')).toBe(before);
  });

  it('an edit of status, enrollment and one site writes exactly one row per edited path', async () => {
    const raw = clone(fixtures.find((r) => (r.protocolSection.contactsLocationsModule?.locations?.length ?? 0) >= 2 && r.protocolSection.designModule?.enrollmentInfo?.count !== undefined)!);
    const nctId = raw.protocolSection.identificationModule.nctId as NctId;
    const before = fieldsOf(raw);
    raw.protocolSection.statusModule.overallStatus = 'SUSPENDED';
    raw.protocolSection.designModule.enrollmentInfo.count += 7;
    const removedSite = raw.protocolSection.contactsLocationsModule.locations.shift();
    const after = fieldsOf(raw);
    const removedPath = Object.keys(before).find((p) => p.startsWith('locations.') && !(p in after))!;
    expect(removedSite).toBeDefined();

    const summary = await ingest(t, [raw], '2026-02-01T12:00:00Z');
    expect(summary.counts.changed).toBe(1);
    const { rows } = await t.db.pool.query(
      "select path, kind, old_value, new_value, detected_at from ctgov.field_changes where nct_id = $1 and detected_at = '2026-02-01T12:00:00Z' order by path",
      [nctId],
    );
    expect(rows).toEqual(
      [
        { path: 'design.enrollmentCount', kind: 'changed', old_value: before['design.enrollmentCount'], new_value: after['design.enrollmentCount'] },
        { path: removedPath, kind: 'removed', old_value: before[removedPath], new_value: null },
        { path: 'status.overallStatus', kind: 'changed', old_value: before['status.overallStatus'], new_value: 'SUSPENDED' },
      ]
        .sort((a, b) => (a.path < b.path ? -1 : 1))
        .map((r) => ({ ...r, detected_at: new Date('2026-02-01T12:00:00Z') })),
    );
    const study = await t.db.pool.query('select overall_status, last_changed_at from ctgov.studies where nct_id = $1', [nctId]);
    expect(study.rows[0]).toEqual({ overall_status: 'SUSPENDED', last_changed_at: new Date('2026-02-01T12:00:00Z') });
    expect(await count(t, 'select 1 from ctgov.locations where nct_id = $1', [nctId])).toBe(Object.keys(after).filter((p) => p.startsWith('locations.')).length);
    expect(await count(t, 'select 1 from ctgov.study_versions where nct_id = $1', [nctId])).toBe(2);
  });

  it('rewrites a changed study only in the child tables whose rows change, and those in full', async () => {
    const raw = clone(fixtures.find((r) => (r.protocolSection.contactsLocationsModule?.locations?.length ?? 0) >= 2 && (r.protocolSection.conditionsModule?.conditions?.length ?? 0) >= 1)!);
    const nctId = raw.protocolSection.identificationModule.nctId as NctId;
    // The transaction that wrote each table's rows of the study (xmin): it moves only when the table is rewritten.
    const writers = async (): Promise<Record<string, string[]>> => {
      const tables = { conditions: 'ordinal', locations: 'location_key', sponsors: 'ordinal' };
      const out: Record<string, string[]> = {};
      for (const [table, key] of Object.entries(tables)) {
        const { rows } = await t.db.pool.query(`select xmin::text as x from ctgov.${table} where nct_id = $1 order by ${key}`, [nctId]);
        out[table] = rows.map((r) => r.x);
      }
      return out;
    };
    const expectRowsOf = async (state: Raw) => {
      const fields = fieldsOf(state);
      expect(await count(t, 'select 1 from ctgov.locations where nct_id = $1', [nctId])).toBe(Object.keys(fields).filter((p) => p.startsWith('locations.')).length);
      const { rows } = await t.db.pool.query('select name from ctgov.conditions where nct_id = $1 order by ordinal', [nctId]);
      expect(rows.map((r) => r.name)).toEqual(state.protocolSection.conditionsModule.conditions);
    };
    await ingest(t, [raw], '2026-02-02T00:00:00Z');
    const first = await writers();
    expect(first.locations.length).toBeGreaterThanOrEqual(2);

    raw.protocolSection.statusModule.overallStatus = 'TERMINATED';
    expect((await ingest(t, [raw], '2026-02-03T00:00:00Z')).counts.changed).toBe(1);
    expect(await writers()).toEqual(first);
    await expectRowsOf(raw);

    raw.protocolSection.contactsLocationsModule.locations.pop();
    raw.protocolSection.conditionsModule.conditions = [...raw.protocolSection.conditionsModule.conditions, 'Another condition'];
    expect((await ingest(t, [raw], '2026-02-04T00:00:00Z')).counts.changed).toBe(1);
    const third = await writers();
    expect(third.sponsors).toEqual(first.sponsors);
    expect(third.locations.length).toBe(first.locations.length - 1);
    for (const table of ['locations', 'conditions']) expect(third[table]!.every((x) => !first[table]!.includes(x)), table).toBe(true);
    await expectRowsOf(raw);
  });

  it('quarantines an invalid record with its reason and stores the rest of the batch', async () => {
    const good = clone(fixtures[0]!);
    good.protocolSection.identificationModule.nctId = 'NCT09999001';
    const bad = clone(fixtures[1]!);
    bad.protocolSection.identificationModule.nctId = 'NCT09999002';
    bad.protocolSection.statusModule = 'not an object';
    const summary = await ingest(t, [good, bad], '2026-02-02T00:00:00Z');
    expect(summary.status).toBe('partial');
    expect(summary.counts).toMatchObject({ inserted: 1, failed: 1 });
    expect(summary.failures[0]).toMatchObject({ nctId: 'NCT09999002', stage: 'validate' });
    const { rows } = await t.db.pool.query('select nct_id, stage, error, payload_excerpt from ctgov.sync_failures where run_id = $1', [summary.runId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].error).toMatch(/statusModule/);
    expect(rows[0].payload_excerpt).toContain('NCT09999002');
    expect(await count(t, "select 1 from ctgov.studies where nct_id in ('NCT09999001', 'NCT09999002')")).toBe(1);
  });

  it('records a study that CT.gov stopped returning once, and its return', async () => {
    const nctId = ids[0]!;
    const first = await ingest(t, [], '2026-03-01T00:00:00Z', { removed: [nctId] });
    expect(first.counts.removed).toBe(1);
    const again = await ingest(t, [], '2026-03-02T00:00:00Z', { removed: [nctId] });
    expect(again.counts.removed).toBe(0);
    await ingest(t, [fixtures[0]!], '2026-03-03T00:00:00Z');
    const { rows } = await t.db.pool.query("select kind, detected_at from ctgov.field_changes where nct_id = $1 and path = 'study' order by detected_at", [nctId]);
    expect(rows).toEqual([
      { kind: 'removed', detected_at: new Date('2026-03-01T00:00:00Z') },
      { kind: 'added', detected_at: new Date('2026-03-03T00:00:00Z') },
    ]);
    const s = await t.db.pool.query('select removed_at from ctgov.studies where nct_id = $1', [nctId]);
    expect(s.rows[0].removed_at).toBeNull();
  });

  it('a batch stored twice concurrently records its changes once', async () => {
    const raw = clone(fixtures[2]!);
    raw.protocolSection.statusModule.overallStatus = 'WITHDRAWN';
    const nctId = raw.protocolSection.identificationModule.nctId;
    await Promise.all([ingest(t, [raw], '2026-04-01T00:00:00Z'), ingest(t, [raw], '2026-04-01T00:00:00Z')]);
    expect(await count(t, "select 1 from ctgov.field_changes where nct_id = $1 and path = 'status.overallStatus' and kind = 'changed'", [nctId])).toBe(1);
  });

  it('marks nothing twice when markRemoved runs in two transactions', async () => {
    const nctId = ids[3]!;
    const runId = (await t.db.pool.query("insert into ctgov.sync_runs (job, trigger, observed_at) values ('t', 'cli', now()) returning id")).rows[0].id;
    const ctx = { runId, observedAt: new Date('2026-05-01T00:00:00Z') };
    const [a, b] = await Promise.all([
      withTransaction(t.db.pool, (c) => markRemoved(c, ctx, [nctId])),
      withTransaction(t.db.pool, (c) => markRemoved(c, ctx, [nctId])),
    ]);
    expect(a.length + b.length).toBe(1);
  });
});

describe('older versions, then the newer records', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('writes exactly the paths whose values differ', async () => {
    const versionDir = join(CTGOV_FIXTURE_DIR, 'versions');
    // The newest older version of each study first, then the main record.
    const files = readdirSync(versionDir).sort();
    const newestOld = new Map<string, string>();
    for (const f of files) newestOld.set(f.slice(0, 11), f);
    const older = [...newestOld.values()].map((f) => readFixture(f, versionDir) as Raw);
    const newer = [...newestOld.keys()].map((id) => readFixture(id) as Raw);
    await ingest(t, older, '2026-01-01T00:00:00Z');
    await ingest(t, newer, '2026-01-02T00:00:00Z');

    for (let i = 0; i < older.length; i++) {
      const a = fieldsOf(older[i]!);
      const b = fieldsOf(newer[i]!);
      const expected = [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .filter((p) => (p in a ? canonicalJson(a[p]!) : undefined) !== (p in b ? canonicalJson(b[p]!) : undefined))
        .map((p) => `${p}:${!(p in a) ? 'added' : !(p in b) ? 'removed' : 'changed'}`)
        .sort();
      const nctId = newer[i]!.protocolSection.identificationModule.nctId;
      const { rows } = await t.db.pool.query(
        "select path || ':' || kind as k from ctgov.field_changes where nct_id = $1 and detected_at = '2026-01-02T00:00:00Z' order by 1",
        [nctId],
      );
      expect(rows.map((r) => r.k).sort()).toEqual(expected);
      const versions = await count(t, 'select 1 from ctgov.study_versions where nct_id = $1', [nctId]);
      expect(versions).toBe(expected.length > 0 ? 2 : 1);
    }
  });

  it('stores a version received as bytes exactly as its text says, multi-byte characters and escapes included', async () => {
    // Every fixture under a new ID, in one batch (several statements' worth of slices), as the
    // UTF-8 bytes a page would carry; one with characters of one to four bytes and escapes.
    const texts = fixtureIds().map((id, i) => {
      const raw = readFixture(id) as Raw;
      const next = clone(raw);
      next.protocolSection.identificationModule.nctId = `NCT7${String(i).padStart(7, '0')}`;
      if (i === 0) next.protocolSection.identificationModule.briefTitle = 'Diógenes ≥ 5 mg/m² 🧪 "quoted" \\ tab\t end';
      return JSON.stringify(next);
    });
    const summary = await runBatches(
      { pool: t.db.pool, log: silentLog },
      { job: 'test', trigger: 'cli', observedAt: new Date('2026-03-01T00:00:00Z') },
      (async function* () {
        yield { records: texts.map((text) => ({ json: Buffer.from(text, 'utf8') })), failures: [] };
      })(),
    );
    expect(summary.counts).toMatchObject({ inserted: texts.length, failed: 0 });
    const { rows } = await t.db.pool.query(
      `select count(*)::int as n from unnest($1::text[]) x(text)
         join ctgov.study_versions v on v.nct_id = x.text::jsonb #>> '{protocolSection,identificationModule,nctId}'
        where v.raw = x.text::jsonb`,
      [texts],
    );
    expect(rows[0].n).toBe(texts.length);
    const title = await t.db.pool.query("select brief_title, raw #>> '{protocolSection,identificationModule,briefTitle}' as raw_title from ctgov.studies s join ctgov.study_versions v on v.id = s.current_version_id where s.nct_id = 'NCT70000000'");
    expect(title.rows[0]).toEqual({ brief_title: 'Diógenes ≥ 5 mg/m² 🧪 "quoted" \\ tab\t end', raw_title: 'Diógenes ≥ 5 mg/m² 🧪 "quoted" \\ tab\t end' });
  });
});
