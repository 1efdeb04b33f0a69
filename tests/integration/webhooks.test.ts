import { createHmac } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { startWebhookDelivery, type WebhookDelivery } from '../../src/webhooks/deliveryWorker.js';
import { MAX_CHANGES_PER_DELIVERY } from '../../src/webhooks/enqueueDeliveries.js';
import { webhookMatches, type WebhookConfig } from '../../src/webhooks/hookMatch.js';
import { createWebhookMetrics } from '../../src/webhooks/webhookMetrics.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';
import { HOSTILE_ID, hostileVersions, loadWebFixtures } from '../support/webFixtures.js';
import { startWebhookReceiver, type Received } from '../support/webhookReceiver.js';
import { waitFor } from '../support/waitFor.js';

/*
 * Webhooks against a real receiver on loopback: the outbox rows written by the sync's own
 * transactions, signed deliveries that carry each change once, retries after a 500 with the same
 * body and idempotency key, and giving up with the reason recorded. (A worker killed mid-delivery:
 * webhooks-crash.test.ts.)
 */

type Payload = { deliveryId: number; hook: string; runId: number; changes: Array<Record<string, unknown> & { id: number }> };

const SECRET_ALL = 'secret-for-all-changes-0001';
const SECRET_STATUS = 'secret-for-status-changes-02';
const FAST: Config['webhookDelivery'] = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, timeoutMs: 2000, pollMs: 20 };

/** The receiver's own check, written out rather than borrowed from the code under test. */
function signatureOk(r: Received, secret: string): boolean {
  return r.headers['x-ctgov-sync-signature'] === `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`;
}

describe('webhooks', () => {
  let t: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let hooks: WebhookConfig[];
  const deliveries: WebhookDelivery[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver((path, n) => (path === '/flaky' && n < 2 ? 500 : path === '/dead' ? 500 : 200));
    hooks = [
      { name: 'all', url: `${receiver.url}/all`, secret: SECRET_ALL },
      { name: 'status', url: `${receiver.url}/status`, secret: SECRET_STATUS, paths: ['status.*'], kinds: ['changed'] },
    ];
    t = await openTestDatabase();
    await loadWebFixtures(t.db.pool, webhookMatches(hooks));
  }, 120_000);

  afterAll(async () => {
    for (const d of deliveries) await d.stop();
    await receiver?.close();
    await t?.close();
  });

  async function start(hookList: WebhookConfig[], registry = new Registry()): Promise<Registry> {
    deliveries.push(
      startWebhookDelivery({
        pool: t.db.pool,
        log: silentLog,
        hooks: hookList,
        options: FAST,
        metrics: createWebhookMetrics(registry, t.db.pool),
        userAgent: 'ctgov-sync-test',
      }),
    );
    return registry;
  }

  async function outboxIds(hook: string): Promise<number[]> {
    const { rows } = await t.db.pool.query<{ id: string }>('select unnest(change_ids) as id from ctgov.webhook_deliveries where hook = $1', [hook]);
    return rows.map((r) => Number(r.id));
  }

  it('enqueues every change once per matching hook, in the transactions that wrote them', async () => {
    const all = await t.db.pool.query<{ id: number }>('select id from ctgov.field_changes order by id');
    const ids = await outboxIds('all');
    expect(ids.sort((a, b) => a - b)).toEqual(all.rows.map((r) => r.id));
    const status = await t.db.pool.query<{ id: number }>("select id from ctgov.field_changes where path like 'status.%' and kind = 'changed' order by id");
    expect(status.rows.length).toBeGreaterThan(0);
    expect((await outboxIds('status')).sort((a, b) => a - b)).toEqual(status.rows.map((r) => r.id));
    const { rows } = await t.db.pool.query<{ n: number }>('select max(cardinality(change_ids))::int as n from ctgov.webhook_deliveries');
    expect(rows[0]!.n).toBeLessThanOrEqual(MAX_CHANGES_PER_DELIVERY);
  });

  it('delivers signed payloads that carry each change exactly once', async () => {
    await start(hooks);
    const expected = await t.db.pool.query<{ n: number }>('select count(*)::int as n from ctgov.webhook_deliveries');
    await waitFor(async () => {
      const { rows } = await t.db.pool.query<{ n: number }>("select count(*)::int as n from ctgov.webhook_deliveries where status = 'delivered'");
      return rows[0]!.n === expected.rows[0]!.n;
    }, { timeoutMs: 60_000 });
    for (const [hook, secret] of [['all', SECRET_ALL], ['status', SECRET_STATUS]] as const) {
      const got = receiver.received.filter((r) => r.path === `/${hook}`);
      for (const r of got) expect(signatureOk(r, secret)).toBe(true);
      expect(got.every((r) => !signatureOk(r, 'some-other-secret-000000'))).toBe(true);
      const keys = got.map((r) => r.headers['idempotency-key']);
      expect(new Set(keys).size).toBe(got.length);
      const changeIds = got.flatMap((r) => (JSON.parse(r.body) as Payload).changes.map((c) => c.id));
      expect(new Set(changeIds).size).toBe(changeIds.length);
      expect(changeIds.sort((a, b) => a - b)).toEqual((await outboxIds(hook)).sort((a, b) => a - b));
    }
    const statusPayload = JSON.parse(receiver.received.find((r) => r.path === '/status')!.body) as Payload;
    expect(statusPayload.changes[0]).toEqual({
      id: expect.any(Number),
      nctId: expect.stringMatching(/^NCT\d{8}$/),
      title: expect.any(String),
      path: expect.stringMatching(/^status\./),
      kind: 'changed',
      oldValue: expect.anything(),
      newValue: expect.anything(),
      detectedAt: expect.stringMatching(/^2026-11-2\dT/),
    });
    expect(statusPayload.runId).toEqual(expect.any(Number));
  }, 90_000);

  it('retries after the receiver answers 500, with the same body and key, and gives up after maxAttempts', async () => {
    const more: WebhookConfig[] = [
      { name: 'flaky', url: `${receiver.url}/flaky`, secret: SECRET_ALL },
      { name: 'dead', url: `${receiver.url}/dead`, secret: SECRET_ALL },
    ];
    const v3 = hostileVersions()[1];
    v3.protocolSection.statusModule.overallStatus = 'TERMINATED';
    async function* one(): AsyncGenerator<SourceBatch> {
      yield { records: [{ raw: v3 }], failures: [] };
    }
    const run = await runBatches(
      { pool: t.db.pool, log: silentLog, webhooks: webhookMatches(more) },
      { job: 'import', trigger: 'import', observedAt: new Date('2026-11-23T06:00:00Z') },
      one(),
    );
    expect(run.counts.changed).toBe(1);
    const registry = await start(more);
    const final = await waitFor(async () => {
      const { rows } = await t.db.pool.query<{ hook: string; status: string; attempts: number; last_error: string | null; last_status: number | null }>(
        "select hook, status, attempts, last_error, last_status from ctgov.webhook_deliveries where hook in ('flaky', 'dead') order by hook",
      );
      return rows.length === 2 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
    }, { timeoutMs: 30_000 });
    expect(final).toEqual([
      { hook: 'dead', status: 'failed', attempts: 3, last_status: 500, last_error: 'gave up after 3 attempts; last: HTTP 500: receiver says no' },
      { hook: 'flaky', status: 'delivered', attempts: 3, last_status: 200, last_error: null },
    ]);
    const flaky = receiver.received.filter((r) => r.path === '/flaky');
    expect(flaky.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(flaky.map((r) => r.body)).size).toBe(1);
    expect(new Set(flaky.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    // The first loop (other hooks) kept running and left these deliveries to the loop that knows them.
    expect(receiver.received.filter((r) => r.path === '/dead')).toHaveLength(3);
    const body = JSON.parse(flaky[0]!.body) as Payload;
    expect(body.runId).toBe(run.runId);
    expect(body.changes.map((c) => c.path)).toContain('status.overallStatus');
    expect(body.changes.every((c) => c.nctId === HOSTILE_ID)).toBe(true);
    const metrics = await registry.metrics();
    expect(metrics).toContain('ctgov_sync_webhook_attempts_total{hook="flaky",outcome="retry"} 2');
    expect(metrics).toContain('ctgov_sync_webhook_attempts_total{hook="flaky",outcome="delivered"} 1');
    expect(metrics).toContain('ctgov_sync_webhook_attempts_total{hook="dead",outcome="failed"} 1');
    const failed = await t.db.pool.query<{ n: number }>("select count(*)::int as n from ctgov.webhook_deliveries where status = 'failed'");
    expect(metrics).toContain(`ctgov_sync_webhook_outbox{status="failed"} ${failed.rows[0]!.n}\n`);
  }, 60_000);

  it('enqueues each change row once when one run writes a study in two batches', async () => {
    const [a, b] = [hostileVersions()[1], hostileVersions()[1]];
    a.protocolSection.statusModule.overallStatus = 'SUSPENDED';
    b.protocolSection.statusModule.overallStatus = 'RECRUITING';
    async function* two(): AsyncGenerator<SourceBatch> {
      yield { records: [{ raw: a }], failures: [] };
      yield { records: [{ raw: b }], failures: [] };
    }
    const run = await runBatches(
      { pool: t.db.pool, log: silentLog, webhooks: webhookMatches(hooks) },
      { job: 'import', trigger: 'import', observedAt: new Date('2026-11-23T12:00:00Z') },
      two(),
    );
    const written = await t.db.pool.query<{ id: number }>('select id from ctgov.field_changes where run_id = $1 order by id', [run.runId]);
    expect(written.rows.length).toBeGreaterThanOrEqual(2);
    const { rows } = await t.db.pool.query<{ id: string }>(
      "select unnest(change_ids) as id from ctgov.webhook_deliveries where run_id = $1 and hook = 'all' order by 1",
      [run.runId],
    );
    expect(rows.map((r) => Number(r.id))).toEqual(written.rows.map((r) => r.id));
    const deliveriesOfRun = await t.db.pool.query<{ n: number }>("select count(*)::int as n from ctgov.webhook_deliveries where run_id = $1 and hook = 'all'", [run.runId]);
    expect(deliveriesOfRun.rows[0]!.n).toBe(2); // one per committed batch
  });

  it('writes no outbox row when the batch that would carry it rolls back', async () => {
    const before = await t.db.pool.query<{ n: number }>('select count(*)::int as n from ctgov.webhook_deliveries');
    const bad = hostileVersions()[1];
    bad.protocolSection.identificationModule.briefTitle = 'NUL \u0000 cannot be stored';
    bad.protocolSection.statusModule.overallStatus = 'WITHDRAWN';
    async function* one(): AsyncGenerator<SourceBatch> {
      yield { records: [{ raw: bad }], failures: [] };
    }
    const run = await runBatches(
      { pool: t.db.pool, log: silentLog, webhooks: webhookMatches(hooks) },
      { job: 'import', trigger: 'import', observedAt: new Date('2026-11-24T06:00:00Z') },
      one(),
    );
    expect(run.counts.changed).toBe(0);
    const after = await t.db.pool.query<{ n: number }>('select count(*)::int as n from ctgov.webhook_deliveries');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});
