import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHealth } from '../../src/worker/health.js';
import { startHttpServer, type HttpEndpoints, type WorkerHttpServer } from '../../src/worker/httpServer.js';
import { answerResync } from '../../src/worker/answerResync.js';
import { silentLog } from '../support/testDb.js';

const servers: WorkerHttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function fakePool(answer: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>): pg.Pool {
  return { query: answer } as unknown as pg.Pool;
}

const inputs = (pool: pg.Pool, scheduler = true) => ({
  pool,
  schedulerRunning: () => scheduler,
  queueMode: () => 'listening' as const,
  runningJobs: () => ['refresh'],
});

describe('checkHealth', () => {
  it('is healthy when the database answers and the scheduler runs', async () => {
    const report = await checkHealth(inputs(fakePool(async () => ({ rows: [{ '?column?': 1 }] }))));
    expect(report).toEqual({
      ok: true,
      body: { status: 'ok', database: 'ok', scheduler: 'running', queue: 'listening', running: ['refresh'] },
    });
  });

  it('is unhealthy when the database fails or hangs, or the scheduler has stopped', async () => {
    const failing = await checkHealth(inputs(fakePool(() => Promise.reject(new Error('ECONNREFUSED')))));
    expect(failing.ok).toBe(false);
    expect(failing.body).toMatchObject({ status: 'unavailable', database: 'unreachable', databaseError: 'ECONNREFUSED' });
    const hanging = await checkHealth(inputs(fakePool(() => new Promise(() => undefined))));
    expect(hanging.body).toMatchObject({ database: 'unreachable', databaseError: 'no answer within 2000 ms' });
    const stopped = await checkHealth(inputs(fakePool(async () => ({ rows: [] })), false));
    expect(stopped.body).toMatchObject({ status: 'unavailable', database: 'ok', scheduler: 'stopped' });
  });
});

describe('worker HTTP endpoint', () => {
  async function serve(endpoints: Partial<HttpEndpoints>): Promise<string> {
    const server = await startHttpServer(
      '127.0.0.1',
      0,
      {
        health: async () => ({ ok: false, body: { status: 'unavailable', database: 'unreachable', scheduler: 'stopped', queue: 'polling', running: [] } }),
        metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'x 1\n' }),
        resync: async () => ({ status: 200, body: { queued: 0 } }),
        ...endpoints,
      },
      silentLog,
    );
    servers.push(server);
    expect(server.port).toBeGreaterThan(0);
    return `http://127.0.0.1:${server.port}`;
  }

  it('serves /healthz as JSON with 503 when unhealthy, /metrics as Prometheus text, 404 and 405 otherwise', async () => {
    const base = await serve({});
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unavailable' });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toBe('x 1\n');
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'DELETE' })).status).toBe(405);
  });

  it('answers POST /resync with what the handler says, and 400 for a body that is not JSON', async () => {
    const bodies: unknown[] = [];
    const base = await serve({
      resync: async (body) => {
        bodies.push(body);
        return { status: 200, body: { queued: 2 } };
      },
    });
    const ok = await fetch(`${base}/resync`, { method: 'POST', body: JSON.stringify({ ids: ['NCT00000001'] }) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ queued: 2 });
    expect(bodies).toEqual([{ ids: ['NCT00000001'] }]);
    expect((await fetch(`${base}/resync`, { method: 'POST', body: 'not json' })).status).toBe(400);
  });
});

describe('answerResync', () => {
  it('queues valid IDs through ctgov.request_resync and wakes the queue; rejects bad bodies and bad IDs', async () => {
    const calls: unknown[][] = [];
    const pool = fakePool(async (sql, params) => {
      calls.push([sql, params]);
      return { rows: [{ id: 1 }, { id: 2 }] };
    });
    let woken = 0;
    const wake = () => void woken++;
    expect(await answerResync(pool, { ids: ['nct00000001', 'NCT00000002'], reason: 'why' }, wake)).toEqual({ status: 200, body: { queued: 2 } });
    expect(calls).toEqual([['select ctgov.request_resync($1::text[], $2) as id', [['NCT00000001', 'NCT00000002'], 'why']]]);
    expect(woken).toBe(1);
    expect((await answerResync(pool, { ids: ['NCTX'] }, wake)).status).toBe(400);
    expect((await answerResync(pool, { ids: ['NCT1'] }, wake)).status).toBe(400);
    expect((await answerResync(pool, { ids: [] }, wake)).status).toBe(400);
    expect((await answerResync(pool, { all: false }, wake)).status).toBe(400);
    expect(calls).toHaveLength(1);
  });
});
