import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { HealthReport } from './health.js';
import { hasToken } from '../web/security.js';

export interface HttpEndpoints {
  health(): Promise<HealthReport>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** POST /resync with a JSON body; answers a status and a JSON body. */
  resync(body: unknown): Promise<{ status: number; body: unknown }>;
  /** The web view (src/web/): answers true when it served the path. */
  web?(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** When set, every path but /healthz (and /resync, this host only) needs this token. */
  authToken?: string | null;
}

export interface WorkerHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1_000_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `/healthz` (JSON, 200 or 503), `/metrics` (Prometheus text), and `POST /resync` (clients on this
 * host only: it writes) on host:port; port 0 picks a free port.
 */
export async function startHttpServer(host: string, port: number, endpoints: HttpEndpoints, log: Logger): Promise<WorkerHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, endpoints).catch((err: unknown) => {
      log.warn({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.warn({ err }, 'http server error'));
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, 'http listening');
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, endpoints: HttpEndpoints): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://worker');
  const path = url.pathname;
  if (endpoints.authToken && path !== '/healthz' && path !== '/resync' && !hasToken(req, endpoints.authToken)) {
    return text(res, 401, 'authorization required: Authorization: Bearer <http.authToken>\n', {
      'www-authenticate': 'Basic realm="ctgov-sync", charset="UTF-8"',
    });
  }
  if (path === '/resync' && req.method === 'POST') return postResync(req, res, endpoints);
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/healthz') {
    const report = await endpoints.health();
    return json(res, report.ok ? 200 : 503, report.body);
  }
  if (path === '/metrics') {
    const m = await endpoints.metrics();
    res.writeHead(200, { 'content-type': m.contentType });
    res.end(m.body);
    return;
  }
  if (endpoints.web && (await endpoints.web(req, res, url))) return;
  text(res, 404, 'not found: try /, /healthz or /metrics\n');
}

async function postResync(req: IncomingMessage, res: ServerResponse, endpoints: HttpEndpoints): Promise<void> {
  if (!fromThisHost(req)) return json(res, 403, { error: 'POST /resync is accepted from this host only' });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    return json(res, 400, { error: `expected a JSON body: ${(err as Error).message}` });
  }
  const answer = await endpoints.resync(body);
  json(res, answer.status, answer.body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Loopback, or a connection whose two ends are the same address (this host, through a non-loopback interface). */
function fromThisHost(req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? '';
  return LOOPBACK.has(remote) || (remote !== '' && remote === req.socket.localAddress);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}
