import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { breakRecord, FaultPlan, ServerRateLimit, type FaultKind, type FaultRule } from './fakeCtgovFaults.js';
import { answerStudies, checkParams, type Answer, type RecordTransform } from './fakeCtgovQuery.js';
import { resolveFields, projectRecord } from './fakeCtgovFields.js';
import { canonicalId, FakeStudyStore } from './fakeCtgovStore.js';
import { answerHistory, FakeHistoryStore, type FakeHistoryVersion } from './fakeCtgovHistory.js';

/*
 * An offline ClinicalTrials.gov API v2 on loopback: real HTTP, real status codes and text/plain
 * error bodies, gzip, paging, aliases, and injectable faults. See CTGOV_API.md for the behaviour
 * it imitates.
 */

export type { FaultKind, FaultRule } from './fakeCtgovFaults.js';
export type { FakeHistoryVersion } from './fakeCtgovHistory.js';

export interface FakeCtgovOptions {
  /** A folder of NCT*.json records to serve. */
  dir?: string;
  /** Records to serve in addition (or instead). */
  studies?: unknown[];
  /** Record histories: `NCT########/v<N>.json` folders (see FakeHistoryStore.loadDir). */
  historyDir?: string;
  port?: number;
  host?: string;
  /** CT.gov-side throttling: accepted requests per window (429 + Retry-After beyond). */
  rateLimitPerMinute?: number;
  /** The throttling window; 60 000 unless a test shrinks time. */
  rateWindowMs?: number;
  /** Retry-After with millisecond precision (`0.250`) so that shrunk-time tests stay fast. */
  fractionalRetryAfter?: boolean;
  dataTimestamp?: string;
  apiVersion?: string;
  /** Seed of the RNG behind probabilistic faults. */
  seed?: number;
  faults?: FaultRule[];
  /** The request log keeps this many entries (oldest dropped), so a long demo does not grow. */
  maxLoggedRequests?: number;
  /**
   * Keeps each gzipped `/studies` answer by its query (however encoded or ordered) until the
   * studies change (benchmarks: on a small machine, assembling and compressing the same answers
   * again would take more CPU than the client under test). Faults and uncompressed answers are
   * never cached.
   */
  cacheAnswers?: boolean;
}

export interface RequestLog {
  method: string;
  /** Path below the API base: `/studies`, `/studies/NCT00000410`, `/version`; history requests as `/int/studies/…`. */
  path: string;
  query: Record<string, string>;
  /** Undefined while in progress or when the connection was reset. */
  status: number | undefined;
  /** Arrival, epoch ms with sub-ms precision. */
  time: number;
  /** When the answer was written (absent for resets and requests in progress). */
  finished?: number;
  headers: IncomingHttpHeaders;
  fault?: FaultKind | 'rateLimit';
  /** Answered from the cache (`cacheAnswers`). */
  cached?: boolean;
}

export interface FakeCtgov {
  /** Base URL including /api/v2. */
  readonly url: string;
  readonly port: number;
  readonly requests: RequestLog[];
  /** Requests whose path starts with `pathPrefix` (all when omitted). */
  requestCount(pathPrefix?: string): number;
  resetCounts(): void;
  setStudy(raw: unknown): string;
  removeStudy(id: string): boolean;
  addAlias(alias: string, canonical: string, options?: { listInRecord?: boolean }): void;
  setDataTimestamp(timestamp: string): void;
  injectFaults(rules: FaultRule | FaultRule[], options?: { seed?: number }): void;
  clearFaults(): void;
  setRateLimit(perWindow: number | undefined, windowMs?: number): void;
  /** Re-reads `dir` (replacing set/removed studies). Returns the number of files loaded. */
  reload(): number;
  /** Serves these versions as the study's record history (replacing any). */
  setHistory(id: string, versions: FakeHistoryVersion[]): void;
  /** Serves this body as the study's history index, as is. */
  setHistoryIndex(id: string, body: unknown): void;
  /** From now on the study's history answers 404 (`No study … history summary`), as a merged ID's does. */
  removeHistory(id: string): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string;
  type?: string;
  headers?: Record<string, string>;
  truncate?: boolean;
  /** Send the first half of the body, then the rest after this many ms. */
  stallMs?: number;
}

const now = () => performance.timeOrigin + performance.now();
const text = (status: number, body: string, headers?: Record<string, string>): Reply => ({ status, body, headers });

export async function startFakeCtgov(options: FakeCtgovOptions = {}): Promise<FakeCtgov> {
  const store = new FakeStudyStore();
  const history = new FakeHistoryStore();
  const load = () => {
    const n = options.dir ? store.loadDir(options.dir) : 0;
    if (options.historyDir) history.loadDir(options.historyDir);
    for (const s of options.studies ?? []) store.set(s);
    return n;
  };
  load();
  const faults = new FaultPlan(options.seed);
  if (options.faults) faults.add(options.faults);
  const windowMs = options.rateWindowMs ?? 60_000;
  let rateLimit = options.rateLimitPerMinute
    ? new ServerRateLimit(options.rateLimitPerMinute, windowMs, options.fractionalRetryAfter ?? false)
    : undefined;
  let dataTimestamp = options.dataTimestamp ?? '2026-10-14T09:00:00';
  const requests: RequestLog[] = [];
  const answerCache = new Map<string, Buffer>();
  /** Runs a change to the served studies; the cached answers are then out of date. */
  const changing = <T>(result: T): T => {
    answerCache.clear();
    return result;
  };
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => (timers.delete(t), resolve()), ms);
      timers.add(t);
    });

  function route(apiPath: string, params: URLSearchParams, search: string, transform?: RecordTransform): Reply {
    if (apiPath === '/version') {
      const bad = checkParams(params, []);
      if (bad) return text(400, bad);
      return { status: 200, type: 'application/json', body: JSON.stringify({ apiVersion: options.apiVersion ?? '2.0.5', dataTimestamp }) };
    }
    if (apiPath === '/studies') return fromAnswer(answerStudies(store, params, transform));
    const single = /^\/studies\/([^/]+)$/.exec(apiPath);
    if (single && !['metadata', 'search-areas', 'enums'].includes(single[1]!)) {
      return singleStudy(decodeURIComponent(single[1]!), params, search, transform);
    }
    return text(404, `fake CT.gov does not serve ${apiPath}`);
  }

  function singleStudy(idText: string, params: URLSearchParams, search: string, transform?: RecordTransform): Reply {
    const bad = checkParams(params, ['format', 'markupFormat', 'fields']);
    if (bad) return text(400, bad);
    const id = canonicalId(idText);
    if (!id) return text(400, 'Parameter `nctId` has incorrect format');
    const study = store.get(id);
    if (study) {
      const fields = params.has('fields') ? resolveFields(params.get('fields')!) : undefined;
      if (fields && 'bad' in fields) return text(400, `Parameter 'fields' contains invalid field name: '${fields.bad}'`);
      const record = transform ? transform(structuredClone(study.raw)) : fields ? projectRecord(study.raw, fields.paths) : undefined;
      return { status: 200, type: 'application/json', body: record === undefined ? study.json : JSON.stringify(record) };
    }
    const target = store.aliasOf(id);
    if (target && store.get(target)) return text(301, '', { location: `/api/v2/studies/${target}${search}` });
    return text(404, `NCT number ${id} not found`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const isInt = url.pathname.startsWith('/api/int/');
    const apiPath = isInt ? url.pathname.slice('/api'.length) : url.pathname.startsWith('/api/v2') ? url.pathname.slice('/api/v2'.length) || '/' : url.pathname;
    const entry: RequestLog = {
      method: req.method ?? 'GET',
      path: apiPath,
      query: Object.fromEntries(url.searchParams),
      status: undefined,
      time: now(),
      headers: req.headers,
    };
    if (requests.length >= (options.maxLoggedRequests ?? 100_000)) requests.shift();
    requests.push(entry);
    const reply = (r: Reply) => send(req, res, entry, r, wait);
    if (!url.pathname.startsWith('/api/v2/') && !isInt) return reply(text(404, 'Not Found'));
    if (req.method !== 'GET') return reply(text(405, 'Method Not Allowed', { allow: 'GET' }));
    const retryAfter = rateLimit?.check(entry.time);
    if (retryAfter !== undefined) {
      entry.fault = 'rateLimit';
      return reply(text(429, 'Too Many Requests', { 'retry-after': retryAfter }));
    }
    const firing = faults.pick(apiPath);
    const slow = firing.find((f) => f.kind === 'slow');
    const fault = firing.find((f) => f.kind !== 'slow');
    entry.fault = fault?.kind ?? slow?.kind;
    if (slow) await wait(slow.delayMs ?? 1000);
    if (closing) return;
    if (fault?.kind === 'reset') return void req.socket.destroy();
    const instead = fault && replyInstead(fault);
    if (instead) return reply(instead);
    const transform =
      fault?.kind === 'invalidRecord'
        ? (raw: Record<string, unknown>) => (fault.transform ? fault.transform(raw) : breakRecord(raw, fault.mode))
        : undefined;
    const cacheKey = options.cacheAnswers && !fault && !isInt && apiPath === '/studies' && acceptsGzip(req) ? queryKey(url.searchParams) : undefined;
    const cached = cacheKey === undefined ? undefined : answerCache.get(cacheKey);
    if (cached) {
      entry.cached = true;
      return send(req, res, entry, { status: 200, type: 'application/json', body: '' }, wait, cached);
    }
    const answer = isInt ? answerHistory(apiPath, url.searchParams, history, store) : route(apiPath, url.searchParams, url.search, transform);
    if (fault?.kind === 'truncated' && answer.status === 200) return reply({ ...answer, truncate: true });
    if (fault?.kind === 'slowBody') return reply({ ...answer, stallMs: fault.delayMs ?? 1000 });
    if (cacheKey !== undefined && answer.status === 200) {
      const gzipped = gzipSync(answer.body);
      answerCache.set(cacheKey, gzipped);
      return send(req, res, entry, answer, wait, gzipped);
    }
    return reply(answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/api/v2`,
    port,
    requests,
    requestCount: (prefix) => (prefix === undefined ? requests.length : requests.filter((r) => r.path.startsWith(prefix)).length),
    resetCounts: () => void requests.splice(0),
    setStudy: (raw) => changing(store.set(raw)),
    removeStudy: (id) => changing(store.remove(id)),
    addAlias: (alias, canonical, o) => changing(store.addAlias(alias, canonical, o)),
    setDataTimestamp: (t) => void (dataTimestamp = t),
    injectFaults: (rules, o) => faults.add(rules, o?.seed),
    clearFaults: () => faults.clear(),
    setRateLimit: (perWindow, ms = windowMs) => {
      rateLimit = perWindow ? new ServerRateLimit(perWindow, ms, options.fractionalRetryAfter ?? false) : undefined;
    },
    reload: () => changing(load()),
    setHistory: (id, versions) => history.set(id, versions),
    setHistoryIndex: (id, body) => history.setIndexBody(id, body),
    removeHistory: (id) => history.remove(id),
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The answer a fault sends in place of the real one, if it replaces it. */
function replyInstead(fault: FaultRule): Reply | undefined {
  if (fault.kind === 'html') return { status: 200, type: 'text/html; charset=utf-8', body: HTML_ERROR_PAGE };
  if (fault.kind !== 'status') return undefined;
  const status = fault.status ?? 503;
  const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
  return text(status, status === 429 ? 'Too Many Requests' : `upstream error ${status}`, headers);
}

function fromAnswer(a: Answer): Reply {
  return a.status === 200 ? { status: 200, type: 'application/json', body: a.json } : text(400, a.message);
}

/** A query's parameters in one spelling (sorted by name, encoded alike): the cache's key. */
const queryKey = (params: URLSearchParams): string => new URLSearchParams([...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toString();

const acceptsGzip = (req: IncomingMessage): boolean => /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));

/** Sends `r`; `gzipped`: its body already compressed (a cached answer). */
async function send(
  req: IncomingMessage,
  res: ServerResponse,
  entry: RequestLog,
  r: Reply,
  wait: (ms: number) => Promise<void>,
  gzipped?: Buffer,
): Promise<void> {
  if (res.destroyed) return;
  entry.status = r.status;
  const body = r.truncate ? r.body.slice(0, Math.floor(r.body.length / 2)) : r.body;
  const gzip = gzipped !== undefined || (acceptsGzip(req) && body.length > 0);
  const bytes = gzipped ?? (gzip ? gzipSync(body) : Buffer.from(body));
  const headers: Record<string, string> = {
    'content-type': r.type ?? 'text/plain; charset=utf-8',
    ...(gzip ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}),
    ...r.headers,
  };
  // A truncated answer goes out chunked and ends cleanly: only the JSON itself is cut short.
  if (!r.truncate) headers['content-length'] = String(bytes.length);
  res.writeHead(r.status, headers);
  if (r.stallMs !== undefined) {
    const half = Math.floor(bytes.length / 2);
    res.write(bytes.subarray(0, half));
    await wait(r.stallMs);
    if (res.destroyed) return;
    res.end(bytes.subarray(half));
  } else {
    res.end(bytes);
  }
  entry.finished = now();
}

const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Service Temporarily Unavailable</title></head>' +
  '<body><h1>ClinicalTrials.gov is temporarily unavailable</h1><p>Please try again later.</p></body></html>';
