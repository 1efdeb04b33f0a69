import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitWithin, getText, startWorkerProcess, workerEnv, type WorkerProcess } from '../support/workerHarness.js';
import { waitFor } from '../support/waitFor.js';

/* The worker with CT.gov out of reach, and with a MIRROR_DIR it cannot use. */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(env: Awaited<ReturnType<typeof workerEnv>>): WorkerProcess {
  const w = startWorkerProcess(env);
  cleanups.push(async () => w.kill('SIGKILL'));
  return w;
}

describe('worker without CT.gov', () => {
  it('stays live, reports CT.gov failing in /healthz and /metrics, and says once what to check', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}/api/v2`;
    const env = await workerEnv(baseUrl, { watchlist: { ids: ['NCT00855400'], queries: [] } });
    cleanups.push(() => env.done());
    const worker = start(env);
    const port = await worker.ready();
    const hint = await worker.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('CT.gov is not answering'));
    expect(hint.level).toBe(50);
    expect(hint.msg).toContain(`CT.gov is not answering at ${baseUrl} (CTGOV_BASE_URL)`);
    expect(hint.msg).toContain('npm run fake-ctgov -- --dir tests/fixtures/ctgov/seeds --port 8090');
    await worker.waitForLog((l) => l.msg === 'job run failed' && l.job === 'sync');

    const health = await getText(port, '/healthz');
    expect(health.status).toBe(200);
    const body = JSON.parse(health.body) as Record<string, any>;
    expect(body).toMatchObject({ status: 'ok', database: 'ok', ctgov: { status: 'failing', lastError: expect.stringMatching(/^no answer from \/studies/) } });
    expect(Date.parse(body.ctgov.failingSince)).not.toBeNaN();
    expect(body.ctgov.lastSuccess).toBeUndefined();
    const metrics = await getText(port, '/metrics');
    expect(metrics.body).toMatch(/^ctgov_sync_ctgov_up 0$/m);
    // Every retry failed, but the hint was logged once per outage.
    expect(worker.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('CT.gov is not answering'))).toHaveLength(1);

    worker.kill('SIGTERM');
    expect(await exitWithin(worker, 15_000)).toEqual({ code: 0, signal: null });
  });

  it('a port in use: one line naming HTTP_PORT, exit 2', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
    const env = await workerEnv('http://127.0.0.1:9/api/v2', { watchlist: { ids: [], queries: [] } });
    cleanups.push(() => env.done());
    env.env.HTTP_PORT = String((holder.address() as AddressInfo).port);
    const worker = start(env);
    expect(await exitWithin(worker, 60_000)).toEqual({ code: 2, signal: null });
    const lines = worker.stderr().trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      `ctgov-sync: configuration error: HTTP_PORT: port ${env.env.HTTP_PORT} on 127.0.0.1 is in use by another process (choose another HTTP_PORT, or 0 for any free port)`,
    );
    expect(worker.stderr()).not.toContain('unexpected error');
  });

  it('refuses to start with an unusable MIRROR_DIR, in one line, like the CLI', async () => {
    const env = await workerEnv('http://127.0.0.1:9/api/v2', {});
    cleanups.push(() => env.done());
    const file = join(env.cwd, 'not-a-dir');
    writeFileSync(file, 'x');
    env.env.MIRROR_DIR = file;
    const worker = start(env);
    expect(await exitWithin(worker, 30_000)).toEqual({ code: 2, signal: null });
    await waitFor(async () => worker.stderr().includes('cannot write mirror pages'), { timeoutMs: 1_000 });
    expect(worker.stderr()).toMatch(/^ctgov-sync: cannot write mirror pages to .*not-a-dir \((EEXIST|ENOTDIR)\)[^\n]*\n$/);
    expect(worker.lines.some((l) => l.msg === 'worker started')).toBe(false);
  });
});
