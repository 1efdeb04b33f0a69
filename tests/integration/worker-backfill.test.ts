import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../jobs/backfill.js';
import type { AppContext } from '../../src/app.js';
import { ctgovClientFromConfig } from '../../src/ctgovClient.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { CtgovClient } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { syncPlan } from '../../src/pipeline/syncPlan.js';
import type { JobContext } from '../../src/worker/job.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/worker/metrics.js';
import { readFixture } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/* The worker's backfill job run in-process, one call per tick, against the fake CT.gov. */

const IDS = ['NCT00329836', 'NCT00399243', 'NCT00973089'] as NctId[];

let t: TestDatabase;
let fake: FakeCtgov;
const clients: CtgovClient[] = [];
const mirrorDir = mkdtempSync(join(tmpdir(), 'ctgov-backfill-mirror-'));

beforeAll(async () => {
  [t, fake] = await Promise.all([openTestDatabase(), startFakeCtgov({ studies: IDS.map((id) => readFixture(id)) })]);
  for (const id of IDS) {
    const old = readFixture(id) as Record<string, any>;
    old.protocolSection.statusModule.overallStatus = 'NOT_YET_RECRUITING';
    fake.setHistory(id, [
      { date: '2005-01-10', study: old },
      { date: '2006-02-01', study: readFixture(id) },
    ]);
  }
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await fake?.close();
  await t?.close();
});

function appWith(change: (c: Config) => void = () => undefined): AppContext {
  const config = loadConfig({ CTGOV_BASE_URL: fake.url, MIRROR_DIR: mirrorDir });
  config.ctgov = { ...config.ctgov, rateLimitPerMinute: 100_000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, runBudget: 20 } };
  config.backfill = { enabled: true, batchSize: 2 };
  change(config);
  return { config, log: silentLog, db: t.db, clock: () => new Date(), close: async () => undefined };
}

function tick(app: AppContext, metrics: WorkerMetrics): JobContext {
  const client = ctgovClientFromConfig(app.config, app.log, { onEvent: (e) => metrics.onClientEvent(e) });
  clients.push(client);
  const at = new Date();
  return { app: { ...app, clock: () => at }, log: app.log, trigger: 'cron', observedAt: at, ctgov: () => client };
}

const signal = new AbortController().signal;
const backfilled = () => t.db.pool.query<{ nct_id: string }>('select nct_id from ctgov.history_backfills order by nct_id').then((r) => r.rows.map((x) => x.nct_id));

describe('the backfill job', () => {
  it('does nothing while backfill.enabled is off', async () => {
    const app = appWith();
    const client = ctgovClientFromConfig(app.config, app.log);
    clients.push(client);
    await syncPlan(app, client, { ids: IDS, queries: [] }, { source: 'cli', trigger: 'cli', signal });
    fake.resetCounts();
    const metrics = createWorkerMetrics();
    const result = await backfill.run(tick(appWith((c) => (c.backfill.enabled = false)), metrics), signal);
    expect(result).toBeUndefined();
    expect(fake.requestCount('/int/')).toBe(0);
  });

  it('backfills newly tracked studies a batch per tick, resumes where it stopped, and counts them in its metrics', async () => {
    const metrics = createWorkerMetrics();
    const app = appWith();
    const first = await backfill.run(tick(app, metrics), signal);
    expect(first).toMatchObject({ status: 'succeeded', counts: { requested: 2, changed: 2, failed: 0 } });
    metrics.observeRun('backfill', first!.status, first!.counts);
    expect(await backfilled()).toEqual(IDS.slice(0, 2));

    const second = await backfill.run(tick(app, metrics), signal);
    expect(second).toMatchObject({ status: 'succeeded', counts: { requested: 1, changed: 1 } });
    metrics.observeRun('backfill', second!.status, second!.counts);
    expect(await backfilled()).toEqual(IDS);
    expect(await backfill.run(tick(app, metrics), signal)).toBeUndefined();

    // 3 indexes and 2 versions per study, all through the client's rate limiter.
    expect(fake.requestCount('/int/')).toBe(9);
    const text = await metrics.render();
    expect(text).toMatch(/^ctgov_sync_history_versions_fetched_total 6$/m);
    expect(text).toMatch(/^ctgov_sync_studies_backfilled_total 3$/m);
    expect(text).toMatch(/^ctgov_sync_http_requests_total\{endpoint="\/history",status="200"\} 3$/m);

    const status = await t.db.pool.query(
      `select nct_id, to_char(detected_at at time zone 'UTC', 'YYYY-MM-DD') as day, new_value #>> '{}' as status
         from ctgov.field_changes where path = 'status.overallStatus' and source = 'history' order by nct_id, detected_at`,
    );
    expect(status.rows.filter((r) => r.nct_id === IDS[0])).toEqual([
      { nct_id: IDS[0], day: '2005-01-10', status: 'NOT_YET_RECRUITING' },
      { nct_id: IDS[0], day: '2006-02-01', status: 'COMPLETED' },
    ]);
  });
});
