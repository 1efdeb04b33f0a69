import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { startWebhookReceiver } from '../support/webhookReceiver.js';
import { exitWithin, openDb, startWorkerProcess, workerEnv, type WorkerEnv, type WorkerProcess } from '../support/workerHarness.js';
import { waitFor } from '../support/waitFor.js';

/*
 * At least once across a crash: a real `ctgov-sync worker` syncs its watchlist (the outbox row is
 * committed with the changes), starts delivering, and is SIGKILLed while the receiver holds the
 * request open. A second worker on the same database sends the same delivery again, with the same
 * body and idempotency key, once the first one's lease has run out. Nothing is lost.
 */

const WATCHLIST = ['NCT00000410', 'NCT00162175', 'NCT00184067'];
const SECRET = 'crash-test-secret-000000001';

describe('webhook delivery when the worker is killed mid-delivery', () => {
  let fake: FakeCtgov;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let env: WorkerEnv;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    receiver = await startWebhookReceiver(() => 'hang');
    env = await workerEnv(fake.url, {
      watchlist: { ids: WATCHLIST, queries: [] },
      webhooks: [{ name: 'crash', url: `${receiver.url}/hook`, secret: SECRET }],
      webhookDelivery: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 200, timeoutMs: 1500, pollMs: 100 },
    });
  });

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await receiver?.close();
    await fake?.close();
    await env?.done();
  });

  it('delivers the interrupted delivery again after a restart, same body and key', async () => {
    const first = startWorkerProcess(env);
    workers.push(first);
    await first.ready();
    await waitFor(async () => receiver.received.length > 0, { timeoutMs: 30_000 });
    first.kill('SIGKILL');
    await first.exited;

    receiver.setResponder(() => 200);
    const second = startWorkerProcess(env);
    workers.push(second);
    await second.ready();
    await second.waitForLog((l) => l.msg === 'webhook delivered', 30_000);
    second.kill('SIGTERM');
    expect((await exitWithin(second, 30_000)).code).toBe(0);

    const got = receiver.received;
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got[0]!.status).toBeUndefined(); // held open when the worker died
    expect(got[got.length - 1]!.status).toBe(200);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(new Set(got.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    for (const r of got) expect(r.headers['x-ctgov-sync-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);

    const db = await openDb(env);
    try {
      const changes = await db.pool.query<{ id: number }>('select id from ctgov.field_changes order by id');
      const outbox = await db.pool.query<{ status: string; attempts: number }>('select status, attempts from ctgov.webhook_deliveries');
      expect(outbox.rows).toEqual([{ status: 'delivered', attempts: got.length }]);
      const delivered = (JSON.parse(got[got.length - 1]!.body) as { changes: Array<{ id: number }> }).changes.map((c) => c.id);
      expect(changes.rows.length).toBeGreaterThan(100);
      expect(delivered).toEqual(changes.rows.map((r) => r.id));
    } finally {
      await db.close();
    }
  }, 120_000);
});
