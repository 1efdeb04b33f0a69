import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app.js';
import { ctgovClientFromConfig } from '../../src/ctgovClient.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { CtgovClient } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { syncPlan } from '../../src/pipeline/syncPlan.js';
import { discoverStudies } from '../../src/sync/discoverStudies.js';
import { incrementalSync } from '../../src/sync/incrementalSync.js';
import type { JobContext } from '../../src/worker/job.js';
import { refreshMirror } from '../../src/sync/refreshMirror.js';
import { refreshTracked } from '../../src/sync/refreshTracked.js';
import { CTGOV_FIXTURE_DIR, readFixture, syntheticStudy } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { CHILD_TABLES } from '../../src/studies/studyRows.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * The jobs' logic (src/worker/*) run in-process against the test database and the fake CT.gov,
 * one call per "tick", with the clock under the test's control.
 */

type Raw = Record<string, any>;
const DAY = 86_400_000;

let t: TestDatabase;
let fake: FakeCtgov;
let mirrorDir: string;
const clients: CtgovClient[] = [];

beforeAll(async () => {
  [t, fake] = await Promise.all([openTestDatabase(), startFakeCtgov({ dir: CTGOV_FIXTURE_DIR, dataTimestamp: '2026-10-14T09:00:00' })]);
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await fake?.close();
  await t?.close();
});
beforeEach(async () => {
  await t.db.pool.query(
    `truncate ctgov.sync_runs, ctgov.studies, ctgov.tracked_studies, ctgov.sync_state, ctgov.resync_requests,
              ctgov.sync_failures, ctgov.study_aliases, ctgov.field_changes, ${CHILD_TABLES.map((c) => `ctgov.${c}`).join(', ')}
              restart identity cascade`,
  );
  fake.reload();
  fake.clearFaults();
  fake.resetCounts();
  fake.setDataTimestamp('2026-10-14T09:00:00');
  mirrorDir = mkdtempSync(join(tmpdir(), 'ctgov-worker-mirror-'));
});

function appWith(change: (c: Config) => void): AppContext {
  const config = loadConfig({ CTGOV_BASE_URL: fake.url, MIRROR_DIR: mirrorDir });
  config.ctgov = { ...config.ctgov, rateLimitPerMinute: 100_000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, runBudget: 20 } };
  change(config);
  return { config, log: silentLog, db: t.db, clock: () => new Date(), close: async () => undefined };
}

/** One tick's context: the run's clock fixed at `at`, a fresh client. */
function tick(app: AppContext, at: Date = new Date()): JobContext {
  const client = ctgovClientFromConfig(app.config, app.log);
  clients.push(client);
  return { app: { ...app, clock: () => new Date(at.getTime()) }, log: app.log, trigger: 'cron', observedAt: at, ctgov: () => client };
}

const signal = new AbortController().signal;
const q = (sql: string, params: unknown[] = []) => t.db.pool.query(sql, params).then((r) => r.rows);

function edited(id: string, lastUpdate: string, edit: (raw: Raw) => void = () => undefined): Raw {
  const raw = readFixture(id) as Raw;
  raw.protocolSection.statusModule.lastUpdatePostDateStruct = { ...raw.protocolSection.statusModule.lastUpdatePostDateStruct, date: lastUpdate };
  edit(raw);
  return raw;
}

async function queryIds(cond: string): Promise<string[]> {
  const res = await fetch(`${fake.url}/studies?query.cond=${encodeURIComponent(cond)}&fields=NCTId&pageSize=1000`);
  const page = (await res.json()) as { studies: Raw[] };
  return page.studies.map((s) => s.protocolSection.identificationModule.nctId as string).sort();
}

describe('incremental', () => {
  const WATCH = ['NCT00000410', 'NCT00162175'];
  const TRACKED_BY_CLI = 'NCT00184067';
  const app = () => appWith((c) => (c.watchlist = { ids: WATCH, queries: ['cond=Neuroblastoma'] }));

  it('covers everything first, skips while dataTimestamp stays, keeps its watermark when a run fails, then fetches only what changed', async () => {
    const neuroblastoma = await queryIds('Neuroblastoma');
    await q("insert into ctgov.tracked_studies (nct_id, source) values ($1, 'cli')", [TRACKED_BY_CLI]);

    const first = await incrementalSync(tick(app()), signal);
    expect(first.status).toBe('succeeded');
    expect(first.counts?.inserted).toBe(WATCH.length + 1 + neuroblastoma.length);
    expect(await q("select value from ctgov.sync_state where key = 'incremental.watermark'")).toEqual([
      { value: { date: '2026-10-14', dataTimestamp: '2026-10-14T09:00:00', runId: first.runId } },
    ]);
    // Query matches are tracked with their query; the rest keep the source they had.
    const sources = await q('select source, reason, count(*)::int as n from ctgov.tracked_studies group by source, reason order by source');
    expect(sources).toEqual([
      { source: 'cli', reason: null, n: 1 },
      { source: 'config', reason: null, n: WATCH.length },
      { source: 'query', reason: 'cond=Neuroblastoma', n: neuroblastoma.length },
    ]);

    fake.resetCounts();
    const second = await incrementalSync(tick(app()), signal);
    expect(second.status).toBe('skipped');
    expect(fake.requests.map((r) => r.path)).toEqual(['/version']);
    expect(await q('select status, fetched, http_requests from ctgov.sync_runs where id = $1', [second.runId])).toEqual([
      { status: 'skipped', fetched: 0, http_requests: 1 },
    ]);

    fake.setDataTimestamp('2026-10-21T09:00:00');
    fake.injectFaults({ kind: 'status', status: 500, path: '/studies' });
    await expect(incrementalSync(tick(app()), signal)).rejects.toThrow(/500/);
    expect((await q("select value from ctgov.sync_state where key = 'incremental.watermark'"))[0].value.dataTimestamp).toBe('2026-10-14T09:00:00');
    fake.clearFaults();

    fake.setStudy(edited(WATCH[0]!, '2026-10-20', (r) => (r.protocolSection.identificationModule.briefTitle = 'Retitled')));
    fake.setStudy(edited(TRACKED_BY_CLI, '2026-10-13', (r) => (r.protocolSection.statusModule.overallStatus = 'WITHDRAWN')));
    fake.setStudy(edited(neuroblastoma[0]!, '2026-10-21', (r) => (r.protocolSection.designModule = { ...r.protocolSection.designModule, phases: ['PHASE4'] })));
    // Updated before the window: not asked for.
    fake.setStudy(edited(WATCH[1]!, '2026-10-01', (r) => (r.protocolSection.identificationModule.briefTitle = 'Unseen')));
    fake.resetCounts();
    const third = await incrementalSync(tick(app()), signal);
    expect(third.status).toBe('succeeded');
    expect(third.counts).toMatchObject({ fetched: 3, changed: 3, inserted: 0 });
    const changed = await q('select distinct nct_id from ctgov.field_changes where run_id = $1 order by nct_id', [third.runId]);
    expect(changed.map((r) => r.nct_id)).toEqual([WATCH[0], TRACKED_BY_CLI, neuroblastoma[0]].sort());
    const advanced = fake.requests.filter((r) => r.path === '/studies').map((r) => r.query['filter.advanced']);
    expect(advanced).toContain('AREA[LastUpdatePostDate]RANGE[2026-10-12,MAX]');
    expect((await q("select value from ctgov.sync_state where key = 'incremental.watermark'"))[0].value).toEqual({
      date: '2026-10-21',
      dataTimestamp: '2026-10-21T09:00:00',
      runId: third.runId,
    });
  });
});

describe('discover', () => {
  const app = () => appWith((c) => (c.watchlist = { ids: [], queries: ['cond=Neuroblastoma'] }));

  it('tracks new IDs with the query as reason and syncs only the studies not stored yet', async () => {
    const found = await queryIds('Neuroblastoma');
    // Already tracked from the configuration: keeps its source, and is synced because it is not stored.
    await q("insert into ctgov.tracked_studies (nct_id, source) values ($1, 'config')", [found[0]]);
    const first = await discoverStudies(tick(app()), signal);
    expect(first).toMatchObject({ status: 'succeeded', counts: { inserted: found.length } });
    const tracked = await q('select nct_id, source, reason from ctgov.tracked_studies order by nct_id');
    expect(tracked).toEqual(
      found.map((id, i) => ({ nct_id: id, source: i === 0 ? 'config' : 'query', reason: i === 0 ? null : 'cond=Neuroblastoma' })),
    );

    const second = await discoverStudies(tick(app()), signal);
    expect(second).toMatchObject({ status: 'succeeded', counts: { requested: 0, fetched: 0 } });

    const fresh = syntheticStudy(7);
    (fresh.protocolSection as Raw).conditionsModule = { conditions: ['Neuroblastoma'] };
    fake.setStudy(fresh);
    const third = await discoverStudies(tick(app()), signal);
    expect(third).toMatchObject({ counts: { requested: 1, inserted: 1 } });
    expect(await q("select source, reason from ctgov.tracked_studies where nct_id = 'NCT90000007'")).toEqual([
      { source: 'query', reason: 'cond=Neuroblastoma' },
    ]);
  });

  it('does nothing without configured queries', async () => {
    expect(await discoverStudies(tick(appWith((c) => (c.watchlist = { ids: [], queries: [] }))), signal)).toBeUndefined();
    expect(await q('select * from ctgov.sync_runs')).toEqual([]);
  });
});

describe('refresh', () => {
  const IDS = ['NCT00000410', 'NCT00162175', 'NCT00184067', 'NCT00203242', 'NCT00329836', 'NCT00353704'];
  const app = () => appWith((c) => (c.sync = { ...c.sync, refreshBatchSize: 2 }));
  const requestedIds = () => fake.requests.filter((r) => r.query['filter.ids']).flatMap((r) => r.query['filter.ids']!.split(','));

  it('re-fetches the least recently refreshed batch each tick, records removals and returns, and a removed study does not crowd out the rest', async () => {
    await q("insert into ctgov.tracked_studies (nct_id, source) select unnest($1::text[]), 'cli'", [IDS]);
    const batches: string[][] = [];
    for (let i = 0; i < 3; i++) {
      fake.resetCounts();
      await refreshTracked(tick(app()), signal);
      batches.push(requestedIds().sort());
    }
    // Never-stored first, in ID order; three ticks of two cover all six once.
    expect(batches).toEqual([IDS.slice(0, 2), IDS.slice(2, 4), IDS.slice(4, 6)]);

    const gone = IDS[1]!;
    fake.removeStudy(gone);
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      fake.resetCounts();
      await refreshTracked(tick(app()), signal);
      seen.push(requestedIds().sort());
    }
    // The removed study's last_seen_at no longer moves, yet it comes round once per cycle like the others.
    expect(seen).toEqual(batches);
    const removed = await q("select kind from ctgov.field_changes where nct_id = $1 and path = 'study'", [gone]);
    expect(removed).toEqual([{ kind: 'removed' }]);
    expect((await q('select removed_at from ctgov.studies where nct_id = $1', [gone]))[0].removed_at).not.toBeNull();

    fake.setStudy(readFixture(gone));
    for (let i = 0; i < 3; i++) await refreshTracked(tick(app()), signal);
    const back = await q("select kind from ctgov.field_changes where nct_id = $1 and path = 'study' order by id", [gone]);
    expect(back).toEqual([{ kind: 'removed' }, { kind: 'added' }]);
    expect((await q('select removed_at from ctgov.studies where nct_id = $1', [gone]))[0].removed_at).toBeNull();
  });

  it('keeps its cursor when the run fails, so the same batch is tried again', async () => {
    await q("insert into ctgov.tracked_studies (nct_id, source) select unnest($1::text[]), 'cli'", [IDS]);
    fake.injectFaults({ kind: 'status', status: 503, path: '/studies' });
    await expect(refreshTracked(tick(app()), signal)).rejects.toThrow(/503/);
    fake.clearFaults();
    fake.resetCounts();
    await refreshTracked(tick(app()), signal);
    expect(requestedIds().sort()).toEqual(IDS.slice(0, 2));
  });
});

describe('mirror', () => {
  const A = 'NCT00000410';
  const B = 'NCT00162175';
  const C = 'NCT00184067';
  const app = () => appWith(() => undefined);
  const page = (id: string) => join(mirrorDir, `${id}.md`);

  it('renders everything the first time, then the pages a change left the window of, and missing pages', async () => {
    const now = Date.now();
    // A's changes are 35 days old, B's 45: with the last render 10 days ago, only A's left the window since.
    for (const [id, ageDays] of [[A, 35], [B, 45], [C, 45]] as const) {
      const at = new Date(now - ageDays * DAY);
      const client = ctgovClientFromConfig(app().config, silentLog);
      clients.push(client);
      await syncPlan({ ...app(), clock: () => at }, client, { ids: [id as NctId], queries: [] }, { source: 'cli', trigger: 'cli', signal });
    }
    const first = await refreshMirror(tick(app(), new Date(now - 10 * DAY)));
    expect(first).toMatchObject({ status: 'succeeded' });
    expect((await q("select value from ctgov.sync_state where key = 'mirror.lastRenderedAt'"))[0].value).toEqual({
      at: new Date(now - 10 * DAY).toISOString(),
    });
    for (const id of [A, B]) writeFileSync(page(id), 'stale\n');
    rmSync(page(C));

    const second = await refreshMirror(tick(app(), new Date(now)));
    expect(second).toMatchObject({ status: 'succeeded', counts: { requested: 2 } });
    expect(readFileSync(page(A), 'utf8')).toMatch(/^---\n/);
    expect(readFileSync(page(B), 'utf8')).toBe('stale\n');
    expect(readFileSync(page(C), 'utf8')).toMatch(/^---\n/);
    expect(readFileSync(join(mirrorDir, 'index.md'), 'utf8')).toContain(C);
  });

  it('does nothing when the mirror is switched off: no page, no run row, no render time', async () => {
    const off = appWith((c) => (c.mirror = { ...c.mirror, enabled: false }));
    // Stored studies without pages: with the mirror on, this tick would render all three.
    const client = ctgovClientFromConfig(off.config, silentLog);
    clients.push(client);
    await syncPlan(off, client, { ids: [A, B, C] as NctId[], queries: [] }, { source: 'cli', trigger: 'cli', signal });
    const runs = await q('select id, job, status from ctgov.sync_runs order by id');
    expect(runs).toEqual([expect.objectContaining({ job: 'sync', status: 'succeeded' })]);

    expect(await refreshMirror(tick(off))).toBeUndefined();
    expect(readdirSync(mirrorDir)).toEqual([]);
    expect(await q('select id, job, status from ctgov.sync_runs order by id')).toEqual(runs);
    expect(await q("select key from ctgov.sync_state where key = 'mirror.lastRenderedAt'")).toEqual([]);
  });
});

describe('sync by IDs', () => {
  it('writes at most sync.storeBatchSize studies per transaction, unchanged ones riding along, and records what was absent with the last', async () => {
    const ids = readdirSync(CTGOV_FIXTURE_DIR)
      .filter((f) => /^NCT\d{8}\.json$/.test(f))
      .slice(0, 7)
      .map((f) => f.slice(0, 11));
    const absent = 'NCT99999998';
    const app = appWith((c) => {
      c.ctgov = { ...c.ctgov, idBatchSize: 10 };
      c.sync = { ...c.sync, storeBatchSize: 3 };
      c.mirror = { ...c.mirror, enabled: false };
    });
    const client = ctgovClientFromConfig(app.config, silentLog);
    clients.push(client);
    const summary = await syncPlan(app, client, { ids: [...ids, absent] as NctId[], queries: [] }, { source: 'cli', trigger: 'cli', signal });
    expect(summary.counts).toMatchObject({ inserted: 7, failed: 1 });
    // One filter.ids request for all eight (the absent ID is then looked up on its own).
    expect(fake.requests.filter((r) => r.path === '/studies' && r.query['filter.ids'] !== undefined).length).toBe(1);
    // Rows a transaction wrote share its xmin: 3 + 3 + 1 studies.
    const rows = await q('select xmin::text as tx, count(*)::int as n from ctgov.studies group by 1');
    expect(rows.map((r: { n: number }) => r.n).sort().reverse()).toEqual([3, 3, 1]);
    expect(await q('select nct_id from ctgov.sync_failures')).toEqual([{ nct_id: absent }]);

    // Nothing changed: nothing to write but last_seen_at, one transaction for the whole answer.
    const again = await syncPlan(app, client, { ids: ids as NctId[], queries: [] }, { source: 'cli', trigger: 'cli', signal });
    expect(again.counts).toMatchObject({ unchanged: 7, inserted: 0, changed: 0 });
    const after = await q('select xmin::text as tx, count(*)::int as n from ctgov.studies group by 1');
    expect(after.map((r: { n: number }) => r.n)).toEqual([7]);
  });
});
