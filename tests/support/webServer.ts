import type pg from 'pg';
import { startHttpServer } from '../../src/worker/httpServer.js';
import { handleWeb } from '../../src/web/webRoutes.js';
import { silentLog } from './testDb.js';

/** The worker's HTTP server with the web view on a free loopback port, over a test database. */
export async function startWebServer(pool: pg.Pool, options: { authToken?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server = await startHttpServer(
    '127.0.0.1',
    0,
    {
      health: async () => ({ ok: true, body: { status: 'ok', database: 'ok', scheduler: 'running', queue: 'polling', running: [] } }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      resync: async () => ({ status: 404, body: {} }),
      web: (req, res, url) => handleWeb(req, res, url, { pool, ctgovStudyBaseUrl: 'https://clinicaltrials.gov/study/' }),
      authToken: options.authToken ?? null,
    },
    silentLog,
  );
  return { url: `http://127.0.0.1:${server.port}`, close: () => server.close() };
}
